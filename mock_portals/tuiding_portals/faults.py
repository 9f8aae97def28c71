"""Faults a real service has on a bad day, switched on through the test API (`/__mock__/faults`), so a
scenario can prove it survives them: slow pages, a POST that fails once with 500, an SMS that arrives
late, a session that expires mid-journey, a button that appears only after a while.

Faults live in the portal's SQLite file (table mock_fault): every worker thread sees them, and
`/__mock__/reset` clears them with everything else.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from flask import Flask, Response, request

from .db import get_db

# kind -> (what `value` means, its upper bound, default number of times it fires; -1 = until cleared)
KINDS: dict[str, tuple[str, float, int]] = {
    "latency": ("milliseconds added to each matching response", 30_000, -1),
    "fail": ("HTTP status answered instead of handling a matching POST (500-599)", 599, 1),
    "sms_delay": ("seconds before a code sent now reaches the inbox", 600, -1),
    "late_button": ("milliseconds before buttons on matching pages become visible", 30_000, -1),
}


@dataclass(frozen=True)
class Fault:
    kind: str
    path: str  # a path prefix ("" = every page); /__mock__/ itself is never affected
    value: float
    remaining: int


def parse(body: object) -> Fault | str:
    """A fault from a JSON object like {"kind": "fail", "path": "/member/unsubscribe", "value": 500, "times": 1};
    a one-line problem otherwise."""
    if not isinstance(body, dict):
        return 'expected a JSON object like {"kind": "latency", "value": 800}'
    unknown = set(body) - {"kind", "path", "value", "times"}
    if unknown:
        return f"unknown field(s) {sorted(unknown)} (expected kind, path, value, times)"
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return f"unknown fault kind {kind!r} (expected one of: {', '.join(KINDS)})"
    meaning, upper, default_times = KINDS[kind]
    value = body.get("value", 500 if kind == "fail" else None)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= upper:
        return f"{kind}: value is {meaning}, a number from 0 to {upper:g}"
    if kind == "fail" and not 500 <= value <= 599:
        return "fail: value is an HTTP status from 500 to 599"
    path = body.get("path", "")
    if not isinstance(path, str) or (path and not path.startswith("/")):
        return "path: a path prefix starting with / (or leave it out for every page)"
    times = body.get("times", default_times)
    if isinstance(times, bool) or not isinstance(times, int) or times == 0 or times < -1 or times > 1000:
        return "times: how often the fault fires, 1 to 1000, or -1 until cleared"
    return Fault(kind, path, float(value), times)


def add(conn: sqlite3.Connection, fault: Fault) -> None:
    conn.execute(
        "INSERT INTO mock_fault (kind, path, value, remaining) VALUES (?, ?, ?, ?)",
        (fault.kind, fault.path, fault.value, fault.remaining),
    )


def listed(conn: sqlite3.Connection) -> list[Fault]:
    rows = conn.execute("SELECT kind, path, value, remaining FROM mock_fault ORDER BY rowid").fetchall()
    return [Fault(r["kind"], r["path"], r["value"], r["remaining"]) for r in rows]


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM mock_fault")


def take(conn: sqlite3.Connection, kind: str, path: str) -> Fault | None:
    """The first active fault of `kind` matching `path`, counting one use of it (atomically: two
    concurrent requests cannot both take a fault that fires once)."""
    if conn.execute("SELECT 1 FROM mock_fault WHERE remaining != 0 LIMIT 1").fetchone() is None:
        return None  # the usual case, without taking the write lock
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT rowid, kind, path, value, remaining FROM mock_fault"
            " WHERE kind = ? AND remaining != 0 AND ? LIKE path || '%' ORDER BY rowid LIMIT 1",
            (kind, path),
        ).fetchone()
        if row is not None and row["remaining"] > 0:
            conn.execute("UPDATE mock_fault SET remaining = remaining - 1 WHERE rowid = ?", (row["rowid"],))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return Fault(row["kind"], row["path"], row["value"], row["remaining"]) if row is not None else None


def sms_delivery_time(conn: sqlite3.Connection) -> float:
    """When an SMS sent now reaches the inbox (wall-clock seconds; 0 = at once)."""
    fault = take(conn, "sms_delay", "/")
    return time.time() + fault.value if fault else 0.0


_BUSY_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>系统繁忙</title>'
    '<main style="font-family:sans-serif;max-width:560px;margin:60px auto"><h1>系统繁忙</h1>'
    '<p role="alert">系统繁忙,请稍后重试。</p><p><a href="/">返回首页</a></p></main></html>'
)

_LATE_BUTTONS = (
    '<style id="tuiding-late">button,input[type=submit],a.btn{{visibility:hidden}}</style>'
    "<script>setTimeout(function(){{var s=document.getElementById('tuiding-late');if(s)s.remove()}},{ms})</script>"
)


def init_faults(app: Flask) -> None:
    """Hooks that apply active faults to the portal's own pages (never to /__mock__/)."""

    def ours(path: str) -> bool:
        return not path.startswith("/__mock__/") and not path.startswith("/static/")

    @app.before_request
    def _before() -> Response | None:
        if not ours(request.path):
            return None
        conn = get_db()
        slow = take(conn, "latency", request.path)
        if slow is not None:
            time.sleep(slow.value / 1000)
        if request.method == "POST":
            failing = take(conn, "fail", request.path)
            if failing is not None:
                return Response(_BUSY_PAGE, status=int(failing.value), mimetype="text/html")
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        if not ours(request.path) or response.mimetype != "text/html" or response.direct_passthrough:
            return response
        late = take(get_db(), "late_button", request.path)
        if late is not None:
            body = response.get_data(as_text=True)
            script = _LATE_BUTTONS.format(ms=int(late.value))
            response.set_data(body.replace("</body>", script + "</body>", 1) if "</body>" in body else body + script)
        return response
