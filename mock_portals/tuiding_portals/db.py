"""SQLite state: one file per app, a connection per request, schema + seed on first use."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from flask import Flask, current_app, g

from .clock import PortalClock

# Every portal's own tables come from its schema.sql; these are the mock's (clock, settings, SMS, sessions).

COMMON_SQL = """
CREATE TABLE IF NOT EXISTS mock_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL, frozen_at TEXT);
CREATE TABLE IF NOT EXISTS mock_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sms_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    purpose TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    delivered_ts REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    purpose TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sms_wrong (sms_id INTEGER PRIMARY KEY, wrong INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS web_session (
    sid TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS mock_fault (
    kind TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL DEFAULT 0,
    remaining INTEGER NOT NULL DEFAULT -1
);
"""


def connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves where a rule must be atomic.
    conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def get_clock() -> PortalClock:
    return PortalClock(get_db())


def get_setting(name: str) -> str:
    """A portal setting (UX variant, delays): set through /__mock__/settings, else the portal's default."""
    row = get_db().execute("SELECT value FROM mock_settings WHERE key = ?", (name,)).fetchone()
    return row["value"] if row else str(current_app.extensions["tuiding.settings"][name].default)


def _close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def reset(conn: sqlite3.Connection, schema: str, seed: Callable, frozen_at: str | None, settings: dict[str, str]) -> None:
    """Drop every table and re-create the seeded state (the /__mock__/reset endpoint)."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    conn.execute("PRAGMA foreign_keys=OFF")
    for t in tables:
        conn.execute(f'DROP TABLE IF EXISTS "{t}"')
    conn.execute("PRAGMA foreign_keys=ON")
    _create(conn, schema, seed, frozen_at, settings)


def _create(conn: sqlite3.Connection, schema: str, seed: Callable, frozen_at: str | None, settings: dict[str, str]) -> None:
    # Seeding commits ~150 times (the stores' rules open their own transactions), and a sync of the WAL at
    # each commit was most of an embedded portal's start-up (60 → 30 ms). In WAL mode synchronous=NORMAL is
    # still safe from corruption; it only leaves syncing to checkpoints. Requests after it sync as before.
    level = conn.execute("PRAGMA synchronous").fetchone()[0]
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        conn.executescript(COMMON_SQL + schema)
        conn.execute("INSERT OR IGNORE INTO mock_clock (id, offset_seconds, frozen_at) VALUES (1, 0, ?)", (frozen_at,))
        for name, value in settings.items():
            set_setting(conn, name, value)
        seed(conn, PortalClock(conn))
    finally:
        conn.execute(f"PRAGMA synchronous={int(level)}")


def set_setting(conn: sqlite3.Connection, name: str, value: str) -> None:
    conn.execute(
        "INSERT INTO mock_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (name, value)
    )


def init_app(app: Flask, schema: str, seed: Callable) -> None:
    conn = connect(app.config["DATABASE"])
    try:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name='mock_clock'").fetchone()
        if not exists:
            _create(conn, schema, seed, app.config.get("CLOCK"), app.config.get("START_SETTINGS") or {})
        else:  # a database file from an older version gains the mock's newer tables
            conn.executescript(COMMON_SQL)
    finally:
        conn.close()
    app.extensions["tuiding.schema"] = (schema, seed)
    app.teardown_appcontext(_close_db)
