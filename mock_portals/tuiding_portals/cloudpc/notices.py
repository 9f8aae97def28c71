"""Mails the cloud PC service sends (through the mock mail gateway): a request's acknowledgement, with the way
to follow it — the guide's 二·6: progress can be asked by hotline, online service or e-mail."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from .. import mail

if TYPE_CHECKING:
    from .store import UnsubscribeRequest

SENDER = "中国移动云电脑 <noreply@cloudpc.mock.invalid>"


def mail_request(conn: sqlite3.Connection, req: UnsubscribeRequest, now: datetime) -> str:
    refund = f"{req.refund_amount:.2f} 元,原路退回" if req.refund_amount > 0 else "无"
    text = (
        "尊敬的用户:\n\n"
        f"您的云电脑退订申请已受理。\n\n"
        f"申请编号:{req.id}\n"
        f"提交时间:{req.submitted_at:%Y-%m-%d %H:%M}\n"
        f"预计完成:{req.complete_at:%Y-%m-%d %H:%M} 前(处理中)\n"
        f"退款金额:{refund}\n\n"
        f"查询退订进度:{mail.site_url(f'/progress/{req.id}')}\n\n"
        "如有疑问,请致电客服热线 10086,或回复本邮件。\n中国移动云电脑"
    )
    return mail.send(
        conn, sender=SENDER, to=mail.mailbox_of(req.phone), subject=f"【移动云电脑】退订申请已受理 {req.id}",
        text=text, purpose="request", now=now,
    )  # fmt: skip
