"""Ordering a paid service online, as China Mobile's portals do it: choose how to pay, then a second
confirmation by SMS code (二次确认) before anything is charged, then an order number with its time.

Both portals' sign-up journeys use it, so a cancellation can be measured against a realistic sign-up.
The code check is serialised per account and counted in SQLite, like every other secret check here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import sms
from .db import get_db
from .security import account_lock

PURPOSE = "order"
MAX_WRONG = 5  # then the code is void and a new one must be fetched
RESEND = timedelta(seconds=60)


@dataclass(frozen=True)
class Confirmed:
    order_no: str
    at: str  # "YYYY-MM-DD HH:MM", the time the order was placed


def payment_choices(own: list[str], usual: list[str]) -> list[str]:
    """The account's own payment methods first, then the usual ones of a kind it has not got (话费支付 …)."""
    kinds = {label.split(" ")[0] for label in own}
    return own + [u for u in usual if u.split(" ")[0] not in kinds]


def resend_wait(phone: str, now: datetime) -> int:
    """Seconds before another code may be sent (0: now)."""
    row = sms.latest(get_db(), phone, PURPOSE)
    if row is None:
        return 0
    left = RESEND - (now - datetime.fromisoformat(row["sent_at"]))
    return max(0, int(left.total_seconds() + 0.999))


def send_code(phone: str, text: str, now: datetime) -> int:
    """Send a code unless one was sent less than a minute ago; returns the seconds still to wait (0: sent)."""
    wait = resend_wait(phone, now)
    if not wait:
        sms.send_code(get_db(), phone, PURPOSE, text, now)
    return wait


def check_code(account: str, phone: str, code: str, now: datetime) -> str | None:
    """None when `code` is the latest one sent, fresh and unused (it is used up); otherwise the refusal."""
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        return "请输入 6 位数字验证码"
    conn = get_db()
    with account_lock(account):  # concurrent guesses are counted one at a time
        row = sms.latest(conn, phone, PURPOSE)
        if row is None:
            return "请先获取验证码"
        wrong_row = conn.execute("SELECT wrong FROM sms_wrong WHERE sms_id = ?", (row["id"],)).fetchone()
        wrong = wrong_row["wrong"] if wrong_row else 0
        if wrong >= MAX_WRONG:
            return "验证码已失效,请重新获取"
        if sms.code_is_valid(row, code, now):
            _count(row["id"], MAX_WRONG)  # used: the same code cannot confirm a second order
            return None
        if now - datetime.fromisoformat(row["sent_at"]) > sms.CODE_TTL:
            return "验证码已过期,请重新获取"
        _count(row["id"], wrong + 1)
        left = MAX_WRONG - wrong - 1
        return f"验证码错误,还可尝试 {left} 次" if left else "验证码错误次数过多已失效,请重新获取"


def _count(sms_id: int, wrong: int) -> None:
    get_db().execute(
        "INSERT INTO sms_wrong (sms_id, wrong) VALUES (?, ?) ON CONFLICT(sms_id) DO UPDATE SET wrong = excluded.wrong",
        (sms_id, wrong),
    )


def placed(prefix: str, now: datetime) -> Confirmed:
    """An order number like KT202611240931 + 4 random digits, and the time it was placed."""
    return Confirmed(order_no=f"{prefix}{now:%Y%m%d%H%M}{secrets.randbelow(10_000):04d}", at=f"{now:%Y-%m-%d %H:%M}")
