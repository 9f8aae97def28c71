"""The mock mail gateway: notices are kept in an outbox the test API lists, and sent over SMTP when the portal
is told where (setting `mail_smtp`, e.g. the SMTP sink a tuiding run starts: `mailbox: smtp`).

Both services are China Mobile's, whose mailbox for a number is <number>@139.com: that is each account's
address. A mail that cannot be delivered is kept with the reason; the service goes on as a real one would.
"""

from __future__ import annotations

import re
import smtplib
import sqlite3
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, has_request_context, request

from .db import get_setting

SMTP_ADDRESS = re.compile(r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$")
SEND_TIMEOUT_S = 5


def mailbox_of(phone: str) -> str:
    return f"{phone}@139.com"


def smtp_address_ok(value: str) -> bool:
    """'' (outbox only) or host:port on this machine: a mock must not mail the world."""
    m = SMTP_ADDRESS.match(value)
    return value == "" or (m is not None and 0 < int(m.group(2)) <= 65535)


def site_url(path: str) -> str:
    """An absolute link for a mail: the address the user reached the portal at."""
    base = request.host_url if has_request_context() else current_app.config.get("PUBLIC_URL", "http://127.0.0.1/")
    return base.rstrip("/") + path


def send(conn: sqlite3.Connection, *, sender: str, to: str, subject: str, text: str, purpose: str, now: datetime) -> str:
    """Keep the message in the outbox, and deliver it when `mail_smtp` names a server; returns how it went."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"], msg["Message-ID"] = format_datetime(now), make_msgid(domain="mock.invalid")
    msg.set_content(text)
    server = get_setting("mail_smtp")
    status = "kept"
    if server:
        host, port = server.rsplit(":", 1)
        try:
            with smtplib.SMTP(host.strip("[]"), int(port), timeout=SEND_TIMEOUT_S) as smtp:
                smtp.send_message(msg)
            status = "sent"
        except (OSError, smtplib.SMTPException) as exc:
            status = f"failed: {exc}"[:200]
    conn.execute(
        "INSERT INTO mail_outbox (to_addr, subject, body, purpose, sent_at, status) VALUES (?, ?, ?, ?, ?, ?)",
        (to, subject, text, purpose, now.isoformat(), status),
    )
    return status


def outbox(conn: sqlite3.Connection, to: str | None = None) -> list[dict[str, str]]:
    sql, args = "SELECT * FROM mail_outbox", []
    if to:
        sql, args = sql + " WHERE to_addr = ?", [to]
    rows = conn.execute(sql + " ORDER BY id", args).fetchall()
    return [
        {"to": r["to_addr"], "subject": r["subject"], "text": r["body"], "purpose": r["purpose"], "sent_at": r["sent_at"],
         "status": r["status"]}
        for r in rows
    ]  # fmt: skip
