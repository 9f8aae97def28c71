"""The mock SMS gateway: codes are "sent" into a table the test API can read."""

from __future__ import annotations

import secrets
import sqlite3
import time
from datetime import datetime, timedelta

from . import faults

CODE_TTL = timedelta(minutes=5)


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def send_code(conn: sqlite3.Connection, phone: str, purpose: str, text: str, now: datetime) -> str:
    code = new_code()
    conn.execute(
        "INSERT INTO sms_inbox (phone, code, text, purpose, sent_at, delivered_ts) VALUES (?, ?, ?, ?, ?, ?)",
        (phone, code, text.format(code=code), purpose, now.isoformat(), faults.sms_delivery_time(conn)),
    )
    return code


def send_notice(conn: sqlite3.Connection, phone: str, purpose: str, text: str, now: datetime) -> None:
    """A message without a code (reminders, notices)."""
    conn.execute(
        "INSERT INTO sms_inbox (phone, code, text, purpose, sent_at, delivered_ts) VALUES (?, '', ?, ?, ?, ?)",
        (phone, text, purpose, now.isoformat(), faults.sms_delivery_time(conn)),
    )


def latest(
    conn: sqlite3.Connection, phone: str, purpose: str | None = None, *, delivered_only: bool = False
) -> sqlite3.Row | None:
    """The latest code sent to `phone`; with delivered_only, the latest one the phone has received
    (an `sms_delay` fault holds messages back from the inbox, not from the portal's own check)."""
    sql = "SELECT * FROM sms_inbox WHERE phone = ?"
    args: list = [phone]
    if delivered_only:
        sql += " AND delivered_ts <= ?"
        args.append(time.time())
    if purpose:
        sql += " AND purpose = ?"
        args.append(purpose)
    return conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()


def code_is_valid(row: sqlite3.Row | None, code: str, now: datetime) -> bool:
    """A code is valid if it is the latest one sent and younger than CODE_TTL."""
    typed = code.strip()
    # compare_digest refuses non-ASCII text (full-width or Arabic-Indic digits): such a code is simply wrong.
    if row is None or not typed.isascii() or not secrets.compare_digest(row["code"], typed):
        return False
    return now - datetime.fromisoformat(row["sent_at"]) <= CODE_TTL
