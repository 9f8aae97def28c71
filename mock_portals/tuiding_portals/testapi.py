"""/__mock__/: test control (reset, SMS inbox, clock, settings, faults, CSRF tokens for scripts). Mounted only in embedded and dev modes."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from flask import Blueprint, abort, current_app, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from . import db, faults, mail, sms
from .security import end_all_sessions

bp = Blueprint("mock", __name__, url_prefix="/__mock__")

_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
MAX_ADVANCE = timedelta(days=3660)


def _body() -> object:
    """The request's JSON, or None when there is none, it is not JSON, or it nests absurdly deep (which
    Python's parser answers with RecursionError, not a ValueError `silent=True` would catch)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    schema, seed = current_app.extensions["tuiding.schema"]
    db.reset(db.get_db(), schema, seed, current_app.config.get("CLOCK"), current_app.config.get("START_SETTINGS") or {})
    return jsonify(ok=True, portal=current_app.config["PORTAL"])


@bp.get("/sms/latest")
def sms_latest() -> ResponseReturnValue:
    phone = request.args.get("phone", "").strip()
    if not phone:
        return jsonify(error="query parameter 'phone' is required"), 400
    row = sms.latest(db.get_db(), phone, request.args.get("purpose") or None, delivered_only=True)
    if row is None:
        return jsonify(error=f"no SMS sent to {phone}"), 404
    return jsonify(phone=row["phone"], code=row["code"], text=row["text"], purpose=row["purpose"], sent_at=row["sent_at"])


@bp.get("/sms")
def sms_list() -> ResponseReturnValue:
    phone = request.args.get("phone")
    conn = db.get_db()
    rows = conn.execute(
        "SELECT phone, code, text, purpose, sent_at FROM sms_inbox WHERE delivered_ts <= ?"
        + (" AND phone = ?" if phone else "")
        + " ORDER BY id",
        (time.time(), phone) if phone else (time.time(),),
    ).fetchall()
    return jsonify(messages=[dict(r) for r in rows])


@bp.get("/mail")
def mail_list() -> ResponseReturnValue:
    """The mails the portal sent (receipts, notices), with how each went: sent (to `mail_smtp`), kept, failed."""
    return jsonify(messages=mail.outbox(db.get_db(), request.args.get("to") or None))


_INBOX = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>手机短信 {{ phone }}</title>
<link rel="icon" href="data:,">
<style>body{margin:0;background:#eef0f3;font-family:"Noto Sans CJK SC",sans-serif}
main{max-width:420px;margin:24px auto;background:#fff;border-radius:18px;padding:16px 18px;box-shadow:0 2px 10px #0002}
h1{font-size:17px;margin:0 0 12px;color:#1d2939}.msg{background:#f2f4f7;border-radius:12px;padding:10px 12px;margin:10px 0;
color:#1d2939;line-height:1.6}.when{color:#475467;font-size:12px}</style>
<main><h1>手机短信 · {{ phone }}</h1>
{% for m in messages %}<div class="msg" data-purpose="{{ m.purpose }}"><div class="when">{{ m.sent_at[:16]|replace('T', ' ') }}</div>{{ m.text }}</div>
{% else %}<p class="when">没有短信</p>{% endfor %}</main></html>"""


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    """The phone's SMS inbox as a page, newest first: a screen a scenario (and a walkthrough) can show."""
    phone = request.args.get("phone", "").strip()
    if not phone:
        return jsonify(error="query parameter 'phone' is required"), 400
    rows = db.get_db().execute(
        "SELECT text, purpose, sent_at FROM sms_inbox WHERE phone = ? AND delivered_ts <= ? ORDER BY id DESC",
        (phone, time.time()),
    )
    return render_template_string(_INBOX, phone=phone, messages=[dict(r) for r in rows])


@bp.get("/clock")
def clock_get() -> ResponseReturnValue:
    clock = db.get_clock()
    frozen = clock.frozen_at()
    return jsonify(
        now=clock.now().isoformat(),
        offset_seconds=clock.offset().total_seconds(),
        frozen_at=frozen.isoformat() if frozen else None,
    )


@bp.post("/clock/advance")
def clock_advance() -> ResponseReturnValue:
    body = _body()
    body = dict(body) if isinstance(body, dict) else {}
    body.update({k: v for k, v in request.args.items()})
    unknown = set(body) - set(_UNITS)
    if unknown or not body:
        return jsonify(error=f"expected any of {sorted(_UNITS)} with a number, got {sorted(body) or 'nothing'}"), 400
    try:
        values = [float(v) for v in body.values() if not isinstance(v, bool)]
    except (TypeError, ValueError):
        values = []
    if len(values) != len(body) or not all(math.isfinite(v) and v >= 0 for v in values):
        return jsonify(error="expected finite numbers of at least 0"), 400
    seconds = sum(float(v) * _UNITS[k] for k, v in body.items())
    if seconds > MAX_ADVANCE.total_seconds():
        return jsonify(error=f"the mock clock moves at most {MAX_ADVANCE.days} days at a time"), 400
    now = db.get_clock().advance(timedelta(seconds=seconds))
    return jsonify(now=now.isoformat())


@bp.get("/settings")
def settings_get() -> ResponseReturnValue:
    specs = current_app.extensions["tuiding.settings"]
    return jsonify({name: db.get_setting(name) for name in specs})


@bp.post("/settings")
def settings_set() -> ResponseReturnValue:
    """Change portal settings, e.g. {"variant": "one_click"}; unknown names or bad values change nothing."""
    specs = current_app.extensions["tuiding.settings"]
    body = _body()
    if not isinstance(body, dict) or not body:
        return jsonify(error=f"expected a JSON object with any of: {', '.join(specs) or '(this portal has no settings)'}"), 400
    for name, value in body.items():
        if name not in specs:
            return jsonify(error=f"unknown setting '{name}' (expected one of: {', '.join(specs) or 'none'})"), 400
        problem = specs[name].problem(str(value))
        if problem:
            return jsonify(error=f"{name}: {problem}"), 400
    conn = db.get_db()
    for name, value in body.items():
        db.set_setting(conn, name, str(value))
    return jsonify({name: db.get_setting(name) for name in specs})


@bp.get("/csrf")
def csrf_token() -> ResponseReturnValue:
    """A CSRF token for this client's session, for scripts that post the portal's forms without a browser."""
    return jsonify(csrf_token=generate_csrf())


@bp.get("/faults")
def faults_get() -> ResponseReturnValue:
    return jsonify(faults=[vars(f) for f in faults.listed(db.get_db())], kinds={k: v[0] for k, v in faults.KINDS.items()})


@bp.post("/faults")
def faults_add() -> ResponseReturnValue:
    """Switch a fault on, e.g. {"kind": "fail", "path": "/member/unsubscribe/confirm", "value": 500, "times": 1}.
    {"kind": "expire_session"} ends every login session at once instead."""
    body = _body()
    if isinstance(body, dict) and body.get("kind") == "expire_session":
        if set(body) != {"kind"}:
            return jsonify(error="expire_session takes no other fields"), 400
        end_all_sessions()
        return jsonify(ok=True, expired="all sessions")
    fault = faults.parse(body)
    if isinstance(fault, str):
        return jsonify(error=fault), 400
    faults.add(db.get_db(), fault)
    return jsonify(ok=True, fault=vars(fault))


@bp.delete("/faults")
def faults_clear() -> ResponseReturnValue:
    faults.clear(db.get_db())
    return jsonify(ok=True)


@bp.before_request
def _only_when_enabled() -> None:
    if not current_app.config.get("TEST_API"):
        abort(404)
