"""Cloud PC accounts, unsubscribe requests, documents and feedback in SQLite."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from werkzeug.security import check_password_hash

from .. import renewal
from ..periods import add_months
from . import rules


@dataclass(frozen=True)
class Account:
    phone: str
    name: str
    verify_method: str
    question: str | None
    plan: str
    plan_name: str
    price: Decimal
    period_start: date
    period_end: date
    payment_account: str
    deleted: bool

    @property
    def masked(self) -> str:
        return rules.mask_phone(self.phone)

    @property
    def method_label(self) -> str:
        return {"sms": "短信验证码", "face": "人脸识别", "question": "安全问题"}[self.verify_method]

    def refund(self, today: date) -> rules.Refund:
        return rules.refund(self.price, self.plan, self.period_start, self.period_end, today)


def _account(row: sqlite3.Row) -> Account:
    return Account(
        row["phone"],
        row["name"],
        row["verify_method"],
        row["question"],
        row["plan"],
        row["plan_name"],
        Decimal(row["price_yuan"]),
        date.fromisoformat(row["period_start"]),
        date.fromisoformat(row["period_end"]),
        row["payment_account"],
        bool(row["deleted"]),
    )


def find_account(conn: sqlite3.Connection, phone: str) -> Account | None:
    row = conn.execute("SELECT * FROM cloudpc_account WHERE phone = ?", (phone,)).fetchone()
    return _account(row) if row else None


def login(conn: sqlite3.Connection, phone: str, password: str) -> tuple[Account | None, str]:
    row = conn.execute("SELECT * FROM cloudpc_account WHERE phone = ?", (phone,)).fetchone()
    if row is None or not check_password_hash(row["password_hash"], password):
        return None, "手机号或密码错误"
    if row["deleted"]:
        return None, "该账号已注销,无法登录"
    return _account(row), ""


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class UnsubscribeRequest:
    id: str
    phone: str
    reason: str
    reason_text: str
    verified_by: str
    flow: str
    submitted_at: datetime
    complete_at: datetime
    refund_amount: Decimal
    refund_lines: list[str]
    refund_from: date | None
    refund_by: date | None
    official_calendar: bool

    def state(self, now: datetime) -> str:
        return rules.request_state(self.complete_at, now)

    def refund_state(self, now: datetime) -> str | None:
        return rules.refund_state(self.complete_at, self.refund_amount, self.refund_by, now)

    def timeline(self, now: datetime) -> list[tuple[str, str, bool]]:
        """(label, when, done) rows for the progress page."""
        rows = [
            ("提交退订申请", f"{self.submitted_at:%Y-%m-%d %H:%M}", True),
            ("处理中", f"预计 {self.complete_at:%Y-%m-%d %H:%M} 前完成", True),
            ("退订完成,服务停止", f"{self.complete_at:%Y-%m-%d %H:%M}", now >= self.complete_at),
        ]
        if self.refund_amount > 0 and self.refund_by:
            rows.append(("退款中(原路退回)", f"预计 {self.refund_from} 至 {self.refund_by} 到账", now >= self.complete_at))
            rows.append(("已退款", f"{self.refund_amount:.2f} 元", now.date() > self.refund_by))
        return rows


def _request(row: sqlite3.Row) -> UnsubscribeRequest:
    return UnsubscribeRequest(
        row["id"],
        row["phone"],
        row["reason"],
        row["reason_text"],
        row["verified_by"],
        row["flow"],
        datetime.fromisoformat(row["submitted_at"]),
        datetime.fromisoformat(row["complete_at"]),
        Decimal(row["refund_amount"]),
        json.loads(row["refund_lines"]),
        date.fromisoformat(row["refund_from"]) if row["refund_from"] else None,
        date.fromisoformat(row["refund_by"]) if row["refund_by"] else None,
        bool(row["refund_official_calendar"]),
    )


def requests_for(conn: sqlite3.Connection, phone: str) -> list[UnsubscribeRequest]:
    return [_request(r) for r in conn.execute("SELECT * FROM cloudpc_request WHERE phone=? ORDER BY submitted_at DESC", (phone,))]


def get_request(conn: sqlite3.Connection, phone: str, request_id: str) -> UnsubscribeRequest | None:
    row = conn.execute("SELECT * FROM cloudpc_request WHERE phone=? AND id=?", (phone, request_id)).fetchone()
    return _request(row) if row else None


def open_request(conn: sqlite3.Connection, phone: str) -> UnsubscribeRequest | None:
    row = conn.execute(
        "SELECT * FROM cloudpc_request WHERE phone=? AND superseded=0 ORDER BY submitted_at DESC LIMIT 1", (phone,)
    ).fetchone()
    return _request(row) if row else None


def order_again(conn: sqlite3.Connection, phone: str, plan: str, today: date) -> date:
    """A new period of `plan` from today; the finished unsubscribe stays in the history. Returns the period's end."""
    name, price, months = rules.ORDER_PLANS[plan]
    end = add_months(today, months)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "UPDATE cloudpc_account SET plan=?, plan_name=?, price_yuan=?, period_start=?, period_end=? WHERE phone=?",
            (plan, name, price, today.isoformat(), end.isoformat(), phone),
        )
        conn.execute("UPDATE cloudpc_request SET superseded=1 WHERE phone=?", (phone,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return end


def create_request(
    conn: sqlite3.Connection,
    phone: str,
    reason: str,
    reason_text: str,
    verified_by: str,
    flow: str,
    now: datetime,
    processing: timedelta,
) -> tuple[UnsubscribeRequest, bool]:
    """Record the request with its refund fixed at submission; one request per account (a second submit returns
    it). Returns the request and whether this call created it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        existing = open_request(conn, phone)
        if existing is not None:
            conn.execute("COMMIT")
            return existing, False
        account = find_account(conn, phone)
        assert account is not None
        r = account.refund(now.date())
        complete = now + processing
        refund_from = refund_by = None
        official = True
        if r.amount > 0:
            start, ok1 = rules.add_workdays(complete.date(), rules.REFUND_WORKDAYS[0])
            end, ok2 = rules.add_workdays(complete.date(), rules.REFUND_WORKDAYS[1])
            refund_from, refund_by, official = start.isoformat(), end.isoformat(), ok1 and ok2
        rid = f"TD{now:%Y%m%d}{secrets.randbelow(10**6):06d}"
        conn.execute(
            "INSERT INTO cloudpc_request (id, phone, reason, reason_text, verified_by, flow, submitted_at, complete_at,"
            " refund_amount, refund_lines, refund_from, refund_by, refund_official_calendar) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rid,
                phone,
                reason,
                reason_text,
                verified_by,
                flow,
                now.isoformat(),
                complete.isoformat(),
                f"{r.amount:.2f}",
                json.dumps(list(r.lines), ensure_ascii=False),
                refund_from,
                refund_by,
                int(official),
            ),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get_request(conn, phone, rid), True  # type: ignore[return-value]


# ---------------------------------------------------------------- verification state


def sms_status(conn: sqlite3.Connection, phone: str) -> tuple[int, datetime | None]:
    row = conn.execute("SELECT sms_wrong, sms_last_sent FROM cloudpc_account WHERE phone=?", (phone,)).fetchone()
    return row["sms_wrong"], datetime.fromisoformat(row["sms_last_sent"]) if row["sms_last_sent"] else None


def sms_sent(conn: sqlite3.Connection, phone: str, now: datetime) -> None:
    conn.execute("UPDATE cloudpc_account SET sms_wrong=0, sms_last_sent=? WHERE phone=?", (now.isoformat(), phone))


def sms_wrong(conn: sqlite3.Connection, phone: str) -> int:
    conn.execute("UPDATE cloudpc_account SET sms_wrong = sms_wrong + 1 WHERE phone=?", (phone,))
    return sms_status(conn, phone)[0]


def question_check(conn: sqlite3.Connection, phone: str, answer: str, now: datetime) -> tuple[bool, str]:
    row = conn.execute(
        "SELECT answer_hash, question_wrong, question_locked_until FROM cloudpc_account WHERE phone=?", (phone,)
    ).fetchone()
    locked = datetime.fromisoformat(row["question_locked_until"]) if row["question_locked_until"] else None
    if locked and now < locked:
        return False, f"安全问题验证已锁定,请于 {locked:%H:%M} 后再试,或改用短信验证"
    if check_password_hash(row["answer_hash"], rules.normalise_answer(answer)):
        conn.execute("UPDATE cloudpc_account SET question_wrong=0, question_locked_until=NULL WHERE phone=?", (phone,))
        return True, ""
    wrong = row["question_wrong"] + 1
    if wrong >= rules.QUESTION_MAX_WRONG:
        until = now + rules.QUESTION_LOCK
        conn.execute(
            "UPDATE cloudpc_account SET question_wrong=0, question_locked_until=? WHERE phone=?", (until.isoformat(), phone)
        )
        return (
            False,
            f"答案错误 {rules.QUESTION_MAX_WRONG} 次,安全问题验证已锁定 30 分钟,请于 {until:%H:%M} 后再试,或改用短信验证",
        )
    conn.execute("UPDATE cloudpc_account SET question_wrong=? WHERE phone=?", (wrong, phone))
    return False, f"答案不正确,还可尝试 {rules.QUESTION_MAX_WRONG - wrong} 次"


# ---------------------------------------------------------------- after


@dataclass(frozen=True)
class Document:
    path: str
    size_kb: int
    modified: str


def documents_for(conn: sqlite3.Connection, phone: str) -> list[Document]:
    return [
        Document(r["path"], r["size_kb"], r["modified"])
        for r in conn.execute("SELECT * FROM cloudpc_document WHERE phone=? ORDER BY path", (phone,))
    ]


def add_feedback(conn: sqlite3.Connection, phone: str, rating: int, text: str, now: datetime) -> None:
    conn.execute(
        "INSERT INTO cloudpc_feedback (phone, rating, text, created_at) VALUES (?,?,?,?)",
        (phone, rating, text, now.isoformat(timespec="seconds")),
    )


def feedback_for(conn: sqlite3.Connection, phone: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM cloudpc_feedback WHERE phone=? ORDER BY id DESC", (phone,)).fetchall()


def delete_account(conn: sqlite3.Connection, phone: str) -> None:
    conn.execute("UPDATE cloudpc_account SET deleted=1 WHERE phone=?", (phone,))


def send_due_renewal_reminders(conn: sqlite3.Connection, now: datetime) -> int:
    """One 自动续费提醒 per renewal date, 5 days ahead, to accounts that have not asked to unsubscribe."""
    candidates = (
        "SELECT *, period_end AS renews_on FROM cloudpc_account a WHERE deleted = 0"
        " AND NOT EXISTS (SELECT 1 FROM cloudpc_request r WHERE r.phone = a.phone AND r.superseded = 0)"
        " AND period_end <= ? AND period_end > ?"
    )
    return renewal.send_due(
        conn, now, candidates, lambda r: rules.renewal_reminder_text(r["plan_name"], r["period_end"], r["price_yuan"])
    )
