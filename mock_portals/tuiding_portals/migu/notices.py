"""Mails the Migu service sends (through the mock mail gateway): the 退订凭证 to the account's mailbox."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Protocol

from .. import mail
from . import rules


class Receipt(Protocol):
    """What the mail says of a receipt (store.Receipt has it; the store calls this module, not the reverse)."""

    @property
    def account(self) -> str: ...
    @property
    def receipt_no(self) -> str: ...
    @property
    def issued_label(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def details(self) -> str: ...
    @property
    def effective_on(self) -> date: ...


SENDER = "咪咕会员 <noreply@migu.mock.invalid>"


def mail_receipt(conn: sqlite3.Connection, receipt: Receipt, service: str, now: datetime) -> str:
    """The receipt of an unsubscribe, as a real service mails it: the same facts as its page, and a link to it."""
    text = (
        "尊敬的咪咕会员用户:\n\n"
        f"您的账号 {rules.mask_account(receipt.account)} 已于 {receipt.issued_label} 通过{receipt.channel}退订「{service}」。\n\n"
        f"凭证编号:{receipt.receipt_no}\n"
        f"退订时间:{receipt.issued_label}\n"
        f"生效日期:{receipt.effective_on.isoformat()}\n"
        f"办理渠道:{receipt.channel}\n"
        f"处理结果:{receipt.details}\n\n"
        f"查看退订凭证:{mail.site_url(f'/member/receipts/{receipt.receipt_no}')}\n\n"
        "如非本人操作,请立即致电 95016。\n咪咕会员"
    )
    return mail.send(
        conn, sender=SENDER, to=mail.mailbox_of(receipt.account), subject=f"【咪咕会员】退订凭证 {receipt.receipt_no}",
        text=text, purpose="receipt", now=now,
    )  # fmt: skip
