"""Customer-service unsubscribe dialogue (hotline 95016 and 在线客服): one state machine, two channels.

The state machine only sees normalised events; `ivr_event` and `chat_event` translate
keypad presses and free text into them. Side effects go through a `Desk`.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Protocol

from . import rules

MAX_VERIFY_ATTEMPTS = 3
SINGLE_KEY_STATES = {"menu", "method", "confirm", "done", "ended"}


class Desk(Protocol):
    def member_label(self, account: str) -> tuple[str, str] | None: ...   # (service, status) or None
    def send_code(self, account: str) -> None: ...
    def code_ok(self, account: str, code: str) -> bool: ...
    def password_ok(self, account: str, password: str) -> bool: ...
    def penalty(self, account: str) -> str: ...
    def unsubscribe(self, account: str) -> tuple[str, bool]: ...          # (receipt number, newly issued?)


@dataclass
class Dialogue:
    channel: str                   # "ivr" | "chat"
    state: str = "menu"
    account: str | None = None
    method: str | None = None
    attempts: int = 0
    receipt_no: str | None = None
    buffer: str = ""               # keys typed before '#'
    transcript: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Dialogue":
        return cls(**data)


@dataclass(frozen=True)
class Event:
    kind: str          # unsubscribe | status | pause | human | value | yes | no | sms | password | repeat | unknown
    value: str = ""


WELCOME = {
    "ivr": "欢迎致电咪咕会员客服 95016。查询会员状态请按 1,退订会员请按 2,暂停会员请按 3,人工服务请按 0。",
    "chat": "您好,我是咪咕会员在线客服小咪。请问有什么可以帮您?例如:退订会员、查询会员状态。",
}


def _say(d: Dialogue, ivr: str, chat: str) -> str:
    return ivr if d.channel == "ivr" else chat


def spoken(number: str) -> str:
    """A receipt number the way a voice reads it: one character at a time."""
    return " ".join(number)


def advance(d: Dialogue, ev: Event, desk: Desk) -> str:
    """Apply one event; returns the reply (and appends both sides to the transcript's caller)."""
    s = d.state
    if s == "ended":
        return _say(d, "通话已结束,请重新拨打 95016。", "会话已结束,请点击「新会话」重新咨询。")
    if s == "menu":
        if ev.kind == "unsubscribe":
            d.state = "account"
            return _say(d, "退订会员。请输入您的咪咕账号(11 位手机号),以 # 号结束。", "好的,为您办理会员退订。请提供您的咪咕账号(11 位手机号)。")
        if ev.kind == "status":
            return _say(d, "查询会员状态请登录咪咕会员官网或 APP 的会员中心。退订会员请按 2。", "会员状态可在官网或 APP 的「会员中心」查看。如需退订,请回复「退订」。")
        if ev.kind == "pause":
            return _say(d, "暂停会员请在官网或 APP 的「会员管理」中办理。退订会员请按 2。", "暂停会员可在官网或 APP 的「会员管理」中自助办理。如需退订,请回复「退订」。")
        if ev.kind == "human":
            return _say(d, "人工坐席繁忙,请稍后再拨,或使用在线客服。退订会员请按 2。", "人工客服繁忙,我可以为您办理退订,请回复「退订」。")
        return _say(d, "输入有误。" + WELCOME["ivr"], "抱歉,我没有理解您的问题。您可以回复「退订」办理会员退订,或回复「会员状态」查询。")
    if s == "account":
        account = ev.value.strip()
        if ev.kind != "value" or not re.fullmatch(r"1\d{10}", account):
            return _say(d, "账号格式有误,请输入 11 位手机号,以 # 号结束。", "账号格式有误,请输入 11 位手机号,例如 13800000001。")
        found = desk.member_label(account)
        if found is None:
            return _say(d, "未查询到该账号,请重新输入,以 # 号结束。", "未查询到该账号,请核对后重新输入。")
        d.account, d.state = account, "method"
        return _say(d, f"账号 {rules.mask_account(account)}。短信验证码验证请按 1,密码验证请按 2。",
                    f"已找到账号 {rules.mask_account(account)}。请选择身份验证方式:回复 1 获取短信验证码,回复 2 使用登录密码。")
    if s == "method":
        assert d.account
        if ev.kind == "sms":
            desk.send_code(d.account)
            d.method, d.state = "sms", "secret"
            return _say(d, f"验证码已发送至 {rules.mask_account(d.account)},请输入 6 位验证码,以 # 号结束。",
                        f"验证码已发送至 {rules.mask_account(d.account)},请输入 6 位验证码。")
        if ev.kind == "password":
            d.method, d.state = "password", "secret"
            return _say(d, "请输入您的登录密码,以 # 号结束。", "请输入您的登录密码(消息将被隐藏)。")
        return _say(d, "输入有误。短信验证码验证请按 1,密码验证请按 2。", "请回复 1(短信验证码)或 2(登录密码)。")
    if s == "secret":
        assert d.account
        ok = desk.code_ok(d.account, ev.value) if d.method == "sms" else desk.password_ok(d.account, ev.value)
        if not ok:
            d.attempts += 1
            if d.attempts >= MAX_VERIFY_ATTEMPTS:
                d.state = "ended"
                return _say(d, "验证失败次数过多,为保障账户安全,本次通话结束。", "验证失败次数过多,为保障账户安全,本次会话已结束。")
            left = MAX_VERIFY_ATTEMPTS - d.attempts
            return _say(d, f"验证失败,还可尝试 {left} 次,请重新输入,以 # 号结束。", f"验证失败,还可尝试 {left} 次,请重新输入。")
        label = desk.member_label(d.account)
        assert label
        service, status = label
        if status == "unsubscribed":
            d.receipt_no, _ = desk.unsubscribe(d.account)
            d.state = "done"
            return _say(d, f"身份验证成功。您的会员已退订,无需重复办理。原退订凭证编号:{spoken(d.receipt_no)}。重听请按 9。",
                        f"身份验证成功。您的会员已退订,无需重复办理。原退订凭证编号:{d.receipt_no}。")
        d.state = "confirm"
        fee = desk.penalty(d.account)
        return _say(d, f"身份验证成功。您的{service}将立即退订,自动续费同时关闭,违约金 {fee} 元。确认退订请按 1,取消请按 2。",
                    f"身份验证成功。将为您退订{service}:立即生效,自动续费同时关闭,违约金 {fee} 元。确认退订请回复「确认」,放弃请回复「取消」。")
    if s == "confirm":
        assert d.account
        if ev.kind == "yes":
            d.receipt_no, _ = desk.unsubscribe(d.account)
            d.state = "done"
            return _say(d, f"退订成功。您的退订凭证编号是:{spoken(d.receipt_no)}。请记录。重听请按 9。",
                        f"退订成功!您的退订凭证编号是 {d.receipt_no},可在官网「退订记录」中查看和下载。")
        if ev.kind == "no":
            d.state = "menu"
            return _say(d, "已取消退订。" + WELCOME["ivr"], "已为您取消,会员不受影响。还有什么可以帮您?")
        return _say(d, "输入有误。确认退订请按 1,取消请按 2。", "请回复「确认」或「取消」。")
    if s == "done":
        assert d.receipt_no
        if ev.kind == "repeat":
            return _say(d, f"您的退订凭证编号是:{spoken(d.receipt_no)}。", f"您的退订凭证编号是 {d.receipt_no}。")
        return _say(d, "感谢您的来电,再见。重听请按 9。", "还有其他可以帮您的吗?")
    raise ValueError(f"unknown dialogue state {s!r}")


def ivr_event(d: Dialogue, keys: str) -> Event | None:
    """Keypad presses → an event; None while a multi-key entry is still being typed (no '#' yet)."""
    if d.state in SINGLE_KEY_STATES:
        key = keys.strip()[:1]
        table = {"menu": {"1": "status", "2": "unsubscribe", "3": "pause", "0": "human"},
                 "method": {"1": "sms", "2": "password"}, "confirm": {"1": "yes", "2": "no"}, "done": {"9": "repeat"},
                 "ended": {}}[d.state]
        return Event(table.get(key, "unknown"))
    d.buffer += keys
    if "#" not in d.buffer:
        return None
    value, d.buffer = d.buffer.split("#", 1)[0], ""
    return Event("value", value)


_INTENTS = [
    ("unsubscribe", re.compile(r"退订|取消.{0,4}会员|不想.{0,4}(续费|会员)|关闭.{0,2}自动续费|注销会员|unsubscribe|cancel", re.I)),
    ("status", re.compile(r"状态|到期|还剩|有效期")),
    ("pause", re.compile(r"暂停")),
    ("human", re.compile(r"人工|转人工")),
]


def chat_event(d: Dialogue, text: str) -> Event:
    t = text.strip()
    if d.state == "menu":
        return next((Event(kind) for kind, rx in _INTENTS if rx.search(t)), Event("unknown"))
    if d.state == "method":
        return Event("sms" if t in ("1", "短信", "短信验证码") else "password" if t in ("2", "密码", "登录密码") else "unknown")
    if d.state == "confirm":
        return Event("yes" if re.fullmatch(r"确认|确定|是|是的|好的?|yes|ok", t, re.I) else
                     "no" if re.fullmatch(r"取消|不|不要|算了|否|no", t, re.I) else "unknown")
    return Event("value", t)
