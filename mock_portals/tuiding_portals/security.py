"""What makes the portals careful services: CSRF tokens on every state-changing form (Flask-WTF), no
cross-origin POSTs, bounded requests, logins that end when the user logs out, redirects that stay on
the site, and per-account serialisation so lockout counters are judged one attempt at a time."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, current_app, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from .db import get_db

MAX_REQUEST_BYTES = 256 * 1024  # a form here is a few hundred bytes; anything bigger is refused unread

csrf = CSRFProtect()

_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{title}</title>'
    '<main style="font-family:sans-serif;max-width:560px;margin:60px auto">'
    '<h1>{title}</h1><p role="alert">{text}</p><p><a href="/">返回首页</a></p></main></html>'
)


def _page(status: int, title: str, text: str) -> Response:
    return Response(_PAGE.format(title=title, text=text), status=status, mimetype="text/html")


def init_security(app: Flask) -> None:
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default config has the key, set to None
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session: the mock clock may be frozen or far ahead
    csrf.init_app(app)

    @app.before_request
    def _same_origin_posts_only() -> Response | None:
        # A browser names the page a POST came from; one from another site is refused before anything else.
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            origin = request.headers.get("Origin")
            if origin and origin != "null" and urlsplit(origin).netloc != request.host:
                return _page(403, "请求被拒绝", "该请求来自其他网站,已被拒绝。")
        return None

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> Response:
        return _page(400, "页面已过期", "页面已过期或表单来源不明,请返回上一页刷新后重试。")

    @app.errorhandler(413)
    def _too_large(_exc: Exception) -> Response:
        return _page(413, "请求过大", "提交的内容过大,请精简后重试。")


def safe_next(value: str | None, fallback: str) -> str:
    """Where to go after login: a path on this site only (not //host, /\\host, or a URL hidden behind a tab)."""
    if not value:
        return fallback
    # Judged as written and once decoded, so a proxy that decodes %09 or %2F twice cannot turn it off-site.
    for form in (value, unquote(value)):
        cleaned = "".join(ch for ch in form if ch.isprintable() and not ch.isspace())
        if cleaned != form or not cleaned.startswith("/") or cleaned.startswith(("//", "/\\")):
            return fallback
        parts = urlsplit(cleaned)
        if parts.scheme or parts.netloc:
            return fallback
    return value


# ---------------------------------------------------------------- sessions that logout really ends


def start_session(account: str) -> None:
    """A fresh session for `account` (the cookie holds only its id; the server can end it)."""
    session.clear()
    sid = secrets.token_urlsafe(24)
    get_db().execute("INSERT INTO web_session (sid, account) VALUES (?, ?)", (sid, account))
    session["sid"] = sid


def session_account() -> str | None:
    """The account of the current session, unless it was ended (a cookie kept from before logout is worthless)."""
    sid = session.get("sid")
    if not isinstance(sid, str):
        return None
    row = get_db().execute("SELECT account, revoked FROM web_session WHERE sid = ?", (sid,)).fetchone()
    if row is None or row["revoked"]:
        session.pop("sid", None)
        return None
    return str(row["account"])


def end_session() -> None:
    sid = session.get("sid")
    if isinstance(sid, str):
        get_db().execute("UPDATE web_session SET revoked = 1 WHERE sid = ?", (sid,))
    session.clear()


def end_all_sessions() -> None:
    """Every session ends (the test API's 'session expired' fault)."""
    get_db().execute("UPDATE web_session SET revoked = 1")


# ---------------------------------------------------------------- one attempt at a time per account

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def account_lock(account: str) -> Iterator[None]:
    """Serialise checks of one account's secrets (password, code, answer): a hundred concurrent wrong
    passwords are judged one by one, so the fifth locks the account before a sixth is even checked."""
    key = f"{current_app.config['DATABASE']}|{account}"  # one portal instance's account, not every instance's
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        yield
