"""自动续费提醒, shared by the portals: 消费者权益保护法实施条例 (2024) asks for a reminder before
each automatic renewal; both portals text it 5 days ahead. Checked on every request, so advancing the
mock clock is enough for a scenario to find the message in the inbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta

from . import sms

REMINDER_BEFORE = timedelta(days=5)


def reminder_due(renews_on: date, today: date) -> bool:
    """From 5 days before the renewal until the renewal day itself."""
    return renews_on - REMINDER_BEFORE <= today < renews_on


def send_due(
    conn: sqlite3.Connection,
    now: datetime,
    candidates: str,
    text_for: Callable[[sqlite3.Row], str],
) -> int:
    """Text every row of `candidates` (SQL with two parameters: the window's last day and today; rows
    have `phone` and `renews_on`) whose reminder is due and not sent yet for that renewal date."""
    today = now.date()
    window = ((today + REMINDER_BEFORE).isoformat(), today.isoformat())
    query = (
        f"SELECT * FROM ({candidates}) c WHERE NOT EXISTS (SELECT 1 FROM sms_inbox s WHERE s.phone = c.phone"
        " AND s.purpose = 'renewal' AND instr(s.text, c.renews_on) > 0)"
    )
    if conn.execute(query, window).fetchone() is None:
        return 0  # the usual case, without the write lock
    conn.execute("BEGIN IMMEDIATE")  # two requests at once send one reminder, not two
    try:
        rows = [r for r in conn.execute(query, window).fetchall() if reminder_due(date.fromisoformat(r["renews_on"]), today)]
        for row in rows:
            sms.send_notice(conn, row["phone"], "renewal", text_for(row), now)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(rows)
