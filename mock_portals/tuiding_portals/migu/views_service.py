"""客服渠道: the hotline 95016 voice-menu simulator and the 在线客服 chat, acting on the same accounts."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from datetime import datetime

from flask import g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from .. import sms
from ..db import get_db
from . import bp, store
from .service_desk import WELCOME, Dialogue, advance, chat_event, ivr_event

CHANNEL_LABEL = {"ivr": "客服热线 95016", "chat": "在线客服"}
CHAT_MAX = 200
KEYS = re.compile(r"^[0-9*#]*$")


class StoreDesk:
    """The dialogue's side effects on the portal's real state."""

    def __init__(self, conn: sqlite3.Connection, now: datetime, channel: str) -> None:
        self.conn, self.now, self.channel = conn, now, channel

    def _member(self, account: str) -> store.Member | None:
        return store.find_member(self.conn, account, self.now.date())

    def member_label(self, account: str) -> tuple[str, str] | None:
        m = self._member(account)
        return (m.service, m.status) if m else None

    def send_code(self, account: str) -> None:
        sms.send_code(self.conn, account, "service", "【咪咕】您正在通过客服办理会员退订,验证码 {code},5 分钟内有效。", self.now)

    def code_ok(self, account: str, code: str) -> bool:
        return bool(re.fullmatch(r"\d{6}", code.strip())) and sms.code_is_valid(
            sms.latest(self.conn, account, "service"), code, self.now
        )

    def password_ok(self, account: str, password: str) -> bool | None:
        """The account's one lockout applies here too (None: locked): a new dialogue is no new set of guesses."""
        verdict, _, _ = store.check_password(self.conn, account, password, self.now)
        return None if verdict == "locked" else verdict == "ok"

    def penalty(self, account: str) -> str:
        m = self._member(account)
        return f"{m.penalty(self.now.date()).amount:.2f}" if m else "0.00"

    def unsubscribe(self, account: str) -> tuple[str, bool]:
        try:
            token = store.new_confirm_token(self.conn, account)
            return store.unsubscribe(self.conn, account, token, self.now, channel=CHANNEL_LABEL[self.channel]).receipt_no, True
        except store.AlreadyUnsubscribed:
            return store.receipts_for(self.conn, account)[0].receipt_no, False


def _load(channel: str) -> tuple[str, Dialogue]:
    key = f"dialogue_{channel}"
    did = session.get(key)
    row = get_db().execute("SELECT data FROM migu_dialogue WHERE id=?", (did,)).fetchone() if did else None
    if row is None or not isinstance(did, str):
        return _start(channel)
    return did, Dialogue.from_dict(json.loads(row["data"]))


def _start(channel: str) -> tuple[str, Dialogue]:
    did = secrets.token_urlsafe(12)
    d = Dialogue(channel=channel, transcript=[{"who": "desk", "text": WELCOME[channel]}])
    session[f"dialogue_{channel}"] = did
    _save(did, d)
    return did, d


def _save(did: str, d: Dialogue) -> None:
    get_db().execute(
        "INSERT INTO migu_dialogue (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data=excluded.data",
        (did, json.dumps(d.to_dict(), ensure_ascii=False)),
    )


def _shown(d: Dialogue, text: str) -> str:
    # A password typed into the dialogue is never echoed back.
    return "••••••" if d.state == "secret" and d.method == "password" else text


@bp.get("/service/hotline")
def hotline() -> ResponseReturnValue:
    _, d = _load("ivr")
    return render_template("migu/hotline.html", d=d)


@bp.post("/service/hotline/call")
def hotline_call() -> ResponseReturnValue:
    _start("ivr")
    return redirect(url_for("migu.hotline"))


@bp.post("/service/hotline")
def hotline_key() -> ResponseReturnValue:
    did, d = _load("ivr")
    # Digits typed into the field, then the keypad key pressed (usually '#'); Enter in the field sends just the digits.
    keys = request.form.get("keys", "").strip() + request.form.get("key", "")
    if not keys or not KEYS.match(keys) or len(keys) > 40:
        d.transcript.append({"who": "desk", "text": "无效按键,请使用 0–9、* 和 # 键。"})
    else:
        shown = _shown(d, keys)
        ev = ivr_event(d, keys)
        d.transcript.append({"who": "caller", "text": f"按键 {shown}"})
        if ev is not None:
            d.transcript.append({"who": "desk", "text": advance(d, ev, StoreDesk(get_db(), g.now, "ivr"))})
    _save(did, d)
    return redirect(url_for("migu.hotline"))


@bp.get("/service/chat")
def chat() -> ResponseReturnValue:
    _, d = _load("chat")
    return render_template("migu/chat.html", d=d, limit=CHAT_MAX)


@bp.post("/service/chat/new")
def chat_new() -> ResponseReturnValue:
    _start("chat")
    return redirect(url_for("migu.chat"))


@bp.post("/service/chat")
def chat_send() -> ResponseReturnValue:
    did, d = _load("chat")
    text = request.form.get("message", "").strip()
    if not text:
        d.transcript.append({"who": "desk", "text": "请输入您的问题。"})
    elif len(text) > CHAT_MAX:
        d.transcript.append({"who": "desk", "text": f"消息过长(最多 {CHAT_MAX} 字),请精简后重新发送。"})
    else:
        d.transcript.append({"who": "caller", "text": _shown(d, text)})
        d.transcript.append({"who": "desk", "text": advance(d, chat_event(d, text), StoreDesk(get_db(), g.now, "chat"))})
    _save(did, d)
    return redirect(url_for("migu.chat"))
