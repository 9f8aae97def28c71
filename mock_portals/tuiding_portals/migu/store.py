"""Reading and changing Migu accounts and receipts in SQLite (views stay thin)."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from werkzeug.security import check_password_hash, generate_password_hash

from .. import renewal
from ..security import account_lock
from . import notices, rules
from .seed import HIDDEN_BENEFITS, SERVICES


@dataclass(frozen=True)
class Member:
    account: str
    phone: str
    nickname: str
    member_type: str
    plan: str
    price_yuan: float
    status: str
    expires_on: date
    auto_renew: bool
    payment_method: str
    paused_until: date | None
    frozen_days: int | None
    period_start: date
    unsubscribed_on: date | None

    @property
    def plan_label(self) -> str:
        return "连续包月" if self.plan == "monthly" else "年度会员"

    @property
    def service(self) -> str:
        return f"{self.member_type}({self.plan_label})"

    @property
    def services(self) -> list[str]:
        return SERVICES.get(self.member_type, [])

    @property
    def hidden_benefits(self) -> list[str]:
        return HIDDEN_BENEFITS.get(self.member_type, [])

    def penalty(self, today: date) -> rules.Penalty:
        return rules.penalty(
            self.member_type, self.plan, Decimal(str(self.price_yuan)), self.period_start, self.expires_on, today
        )

    def resubscribe_on(self, unsubscribing_on: date | None = None) -> date | None:
        """First day to re-open: after the actual unsubscribe, or after one made on `unsubscribing_on`."""
        day = self.unsubscribed_on or unsubscribing_on
        return rules.resubscribe_date(self.member_type, day) if day else None

    @property
    def status_label(self) -> str:
        return {"active": "生效中", "paused": "已暂停", "unsubscribed": "已退订"}[self.status]

    @property
    def masked(self) -> str:
        return rules.mask_account(self.account)

    def days_left(self, today: date) -> int:
        if self.status == "paused":
            return self.frozen_days or 0
        if self.status == "unsubscribed":
            return 0
        return rules.remaining_days(self.expires_on, today)


@dataclass(frozen=True)
class Receipt:
    receipt_no: str
    account: str
    kind: str
    service: str
    channel: str
    issued_at: datetime
    effective_on: date
    details: str
    penalty_yuan: str = "0.00"

    @property
    def kind_label(self) -> str:
        return {"unsubscribe": "退订", "pause": "暂停会员", "resume": "恢复会员"}.get(self.kind, self.kind)

    @property
    def masked_account(self) -> str:
        return rules.mask_account(self.account)

    @property
    def issued_label(self) -> str:
        return rules.format_timestamp(self.issued_at)


def _member(row: sqlite3.Row) -> Member:
    return Member(
        account=row["account"],
        phone=row["phone"],
        nickname=row["nickname"],
        member_type=row["member_type"],
        plan=row["plan"],
        price_yuan=row["price_yuan"],
        status=row["status"],
        expires_on=date.fromisoformat(row["expires_on"]),
        auto_renew=bool(row["auto_renew"]),
        payment_method=row["payment_method"],
        paused_until=date.fromisoformat(row["paused_until"]) if row["paused_until"] else None,
        frozen_days=row["frozen_days"],
        period_start=date.fromisoformat(row["period_start"]),
        unsubscribed_on=date.fromisoformat(row["unsubscribed_on"]) if row["unsubscribed_on"] else None,
    )


def _receipt(row: sqlite3.Row) -> Receipt:
    return Receipt(
        receipt_no=row["receipt_no"],
        account=row["account"],
        kind=row["kind"],
        service=row["service"],
        channel=row["channel"],
        issued_at=datetime.fromisoformat(row["issued_at"]),
        effective_on=date.fromisoformat(row["effective_on"]),
        details=row["details"],
        penalty_yuan=row["penalty_yuan"],
    )


def find_member(conn: sqlite3.Connection, account: str, today: date) -> Member | None:
    """The member as of `today`: a pause whose resume date has passed has resumed."""
    row = conn.execute("SELECT * FROM migu_account WHERE account = ? OR phone = ?", (account, account)).fetchone()
    if row is None:
        return None
    m = _member(row)
    if m.status == "paused" and m.paused_until and today >= m.paused_until:
        conn.execute(
            "UPDATE migu_account SET status='active', expires_on=?, paused_until=NULL, frozen_days=NULL WHERE account=?",
            (rules.resume(m.frozen_days or 0, m.paused_until).isoformat(), m.account),
        )
        return find_member(conn, account, today)
    return m


def check_password(conn: sqlite3.Connection, account: str, password: str, now: datetime) -> tuple[str, str, str]:
    """Judge one password attempt under the lockout rule, whatever the channel (website, app, hotline, chat).

    Returns (verdict, message, account): verdict is ok, wrong, locked or unknown. One attempt at a time
    per account (account_lock): concurrent guesses cannot all be judged before the lock is written."""
    found = conn.execute("SELECT account FROM migu_account WHERE account = ? OR phone = ?", (account, account)).fetchone()
    if found is None:
        return "unknown", "账号或密码错误", account
    with account_lock(found["account"]):
        row = conn.execute("SELECT * FROM migu_account WHERE account = ?", (found["account"],)).fetchone()
        locked_until = datetime.fromisoformat(row["locked_until"]) if row["locked_until"] else None
        if locked_until is not None and rules.is_locked(locked_until, now):
            return "locked", rules.lockout_message(locked_until, now), row["account"]
        ok = check_password_hash(row["password_hash"], password)
        verdict = rules.register_login(ok, row["failed_logins"], locked_until, now)
        conn.execute(
            "UPDATE migu_account SET failed_logins=?, locked_until=? WHERE account=?",
            (verdict.failed_logins, verdict.locked_until.isoformat() if verdict.locked_until else None, row["account"]),
        )
    if verdict.ok:
        return "ok", "", row["account"]
    return ("locked" if verdict.locked_until else "wrong"), verdict.message, row["account"]


def attempt_login(conn: sqlite3.Connection, account: str, password: str, now: datetime) -> tuple[Member | None, str]:
    verdict, message, canonical = check_password(conn, account, password, now)
    if verdict != "ok":
        return None, message
    return find_member(conn, canonical, now.date()), ""


def set_password(conn: sqlite3.Connection, account: str, password: str) -> None:
    """A reset also lifts a lockout: the owner proved who they are with the SMS code."""
    conn.execute(
        "UPDATE migu_account SET password_hash=?, failed_logins=0, locked_until=NULL WHERE account=?",
        (generate_password_hash(password), account),
    )


def receipts_for(conn: sqlite3.Connection, account: str) -> list[Receipt]:
    rows = conn.execute("SELECT * FROM migu_receipt WHERE account=? ORDER BY issued_at DESC", (account,)).fetchall()
    return [_receipt(r) for r in rows]


def get_receipt(conn: sqlite3.Connection, account: str, receipt_no: str) -> Receipt | None:
    row = conn.execute("SELECT * FROM migu_receipt WHERE account=? AND receipt_no=?", (account, receipt_no)).fetchone()
    return _receipt(row) if row else None


def new_confirm_token(conn: sqlite3.Connection, account: str) -> str:
    token = secrets.token_urlsafe(16)
    conn.execute("INSERT INTO migu_confirm_token (token, account) VALUES (?, ?)", (token, account))
    return token


class AlreadyUnsubscribed(Exception):
    pass


class UnknownToken(Exception):
    """The confirmation was not issued by this portal to this account (forged, or another account's)."""


def issued_receipt(conn: sqlite3.Connection, account: str, token: str) -> str | None:
    """The receipt a confirmation token already issued (a double submit), if any."""
    row = conn.execute("SELECT receipt_no FROM migu_confirm_token WHERE token=? AND account=?", (token, account)).fetchone()
    return row["receipt_no"] if row and row["receipt_no"] else None


def unsubscribe(conn: sqlite3.Connection, account: str, token: str, now: datetime, channel: str = "官网") -> Receipt:
    """Stop the membership and issue exactly one receipt.

    Atomic (BEGIN IMMEDIATE): a confirmation submitted twice returns the receipt the
    first submission issued; an account already unsubscribed raises AlreadyUnsubscribed;
    a token this account was never given raises UnknownToken.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        tok = conn.execute("SELECT * FROM migu_confirm_token WHERE token=? AND account=?", (token, account)).fetchone()
        if tok is None:
            raise UnknownToken(account)
        if tok["receipt_no"]:
            conn.execute("COMMIT")
            return get_receipt(conn, account, tok["receipt_no"])  # type: ignore[return-value]
        m = find_member(conn, account, now.date())
        if m is None or m.status == "unsubscribed":
            raise AlreadyUnsubscribed(account)
        receipt_no = f"MG{now:%Y%m%d}{secrets.randbelow(10**6):06d}"
        fee = m.penalty(now.date())
        conn.execute(
            "INSERT INTO migu_receipt VALUES (?,?,?,?,?,?,?,?,?)",
            (
                receipt_no,
                account,
                "unsubscribe",
                m.service,
                channel,
                now.isoformat(),
                now.date().isoformat(),
                f"会员权益已停止;自动续费已关闭,{m.payment_method} 不再扣费;违约金 {fee.amount:.2f} 元({fee.reason})",
                f"{fee.amount:.2f}",
            ),
        )
        conn.execute(
            "UPDATE migu_account SET status='unsubscribed', auto_renew=0, expires_on=?, unsubscribed_on=?, paused_until=NULL,"
            " frozen_days=NULL WHERE account=?",
            (now.date().isoformat(), now.date().isoformat(), account),
        )
        conn.execute("UPDATE migu_confirm_token SET receipt_no=? WHERE token=?", (receipt_no, token))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    receipt: Receipt = get_receipt(conn, account, receipt_no)  # type: ignore[assignment]
    notices.mail_receipt(conn, receipt, m.service, now)  # once: a double submit returned above
    return receipt


def pause_member(conn: sqlite3.Connection, m: Member, months: int, now: datetime) -> rules.Pause:
    p = rules.pause(m.expires_on, now.date(), months)
    conn.execute(
        "UPDATE migu_account SET status='paused', paused_until=?, frozen_days=? WHERE account=? AND status='active'",
        (p.resumes_on.isoformat(), p.remaining_days, m.account),
    )
    return p


def resume_member(conn: sqlite3.Connection, m: Member, now: datetime) -> date:
    expires = rules.resume(m.frozen_days or 0, now.date())
    conn.execute(
        "UPDATE migu_account SET status='active', expires_on=?, paused_until=NULL, frozen_days=NULL"
        " WHERE account=? AND status='paused'",
        (expires.isoformat(), m.account),
    )
    return expires


class TooEarly(Exception):
    def __init__(self, allowed_on: date) -> None:
        super().__init__(allowed_on.isoformat())
        self.allowed_on = allowed_on


def resubscribe(conn: sqlite3.Connection, m: Member, today: date) -> date:
    """Re-open the membership (same type and plan) once the waiting period is over; returns the new expiry."""
    if m.status != "unsubscribed":
        raise ValueError("only an unsubscribed membership can be re-opened")
    if m.unsubscribed_on and not rules.can_resubscribe(m.member_type, m.unsubscribed_on, today):
        raise TooEarly(rules.resubscribe_date(m.member_type, m.unsubscribed_on))
    expires = rules.add_months(today, 1 if m.plan == "monthly" else 12)
    conn.execute(
        "UPDATE migu_account SET status='active', auto_renew=1, period_start=?, expires_on=?, unsubscribed_on=NULL"
        " WHERE account=? AND status='unsubscribed'",
        (today.isoformat(), expires.isoformat(), m.account),
    )
    return expires


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    kind: str
    label: str
    is_default: bool


def payments_for(conn: sqlite3.Connection, account: str) -> list[PaymentMethod]:
    rows = conn.execute("SELECT * FROM migu_payment WHERE account=? ORDER BY id", (account,)).fetchall()
    return [PaymentMethod(r["id"], r["kind"], r["label"], bool(r["is_default"])) for r in rows]


class PaymentInUse(Exception):
    pass


def unlink_payment(conn: sqlite3.Connection, m: Member, payment_id: int) -> PaymentMethod | None:
    """取消关联: refused for the method auto-renewal charges while auto-renewal is on (unsubscribe first)."""
    pm = next((p for p in payments_for(conn, m.account) if p.id == payment_id), None)
    if pm is None:
        return None
    if pm.is_default and m.auto_renew and m.status != "unsubscribed":
        raise PaymentInUse(pm.label)
    conn.execute("DELETE FROM migu_payment WHERE id=? AND account=?", (payment_id, m.account))
    return pm


@dataclass(frozen=True)
class ContentItem:
    title: str
    category: str
    at: str
    detail: str


def content_for(conn: sqlite3.Connection, account: str, list_name: str) -> list[ContentItem]:
    rows = conn.execute("SELECT * FROM migu_content WHERE account=? AND list=? ORDER BY at DESC", (account, list_name)).fetchall()
    return [ContentItem(r["title"], r["category"], r["at"], r["detail"]) for r in rows]


def send_due_renewal_reminders(conn: sqlite3.Connection, now: datetime) -> int:
    """One 自动续费提醒 per renewal date to each active auto-renewing member, 5 days ahead."""
    candidates = (
        "SELECT *, expires_on AS renews_on FROM migu_account"
        " WHERE status = 'active' AND auto_renew = 1 AND expires_on <= ? AND expires_on > ?"
    )
    return renewal.send_due(
        conn,
        now,
        candidates,
        lambda r: rules.renewal_reminder_text(r["member_type"], date.fromisoformat(r["expires_on"]), r["price_yuan"], r["plan"]),
    )
