"""Customer-service unsubscribe dialogue (hotline 95016 and 在线客服): one state machine, two channels.

The state machine only sees normalised events; `ivr_event` and `chat_event` translate
keypad presses and free text into them. Side effects go through a `Desk`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

from . import rules

MAX_VERIFY_ATTEMPTS = 3
SINGLE_KEY_STATES = {"menu", "method", "confirm", "done", "ended"}


class Desk(Protocol):
    def member_label(self, account: str) -> tuple[str, str] | None: ...  # (service, status) or None
    def send_code(self, account: str) -> None: ...
    def code_ok(self, account: str, code: str) -> bool: ...
    def password_ok(self, account: str, password: str) -> bool | None: ...  # None: the account is locked
    def penalty(self, account: str) -> str: ...
    def unsubscribe(self, account: str) -> tuple[str, bool]: ...  # (receipt number, newly issued?)


@dataclass
class Dialogue:
    channel: str  # "ivr" | "chat"
    state: str = "menu"
    account: str | None = None
    method: str | None = None
    attempts: int = 0
    receipt_no: str | None = None
    buffer: str = ""  # keys typed before '#'
    transcript: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Dialogue:
        return cls(**data)


@dataclass(frozen=True)
class Event:
    kind: str  # unsubscribe | status | pause | human | value | yes | no | sms | password | repeat | unknown
    value: str = ""


WELCOME = {
    "ivr": "欢迎致电咪咕会员客服 95016。查询会员状态请按 1,退订会员请按 2,暂停会员请按 3,人工服务请按 0。",
    "chat": "您好,我是咪咕会员在线客服小咪。请问有什么可以帮您?例如:退订会员、查询会员状态。",
}


@dataclass(frozen=True)
class Line:
    """One thing the desk says, as the hotline's voice and as the chat's text, side by side."""

    ivr: str
    chat: str

    def to(self, d: Dialogue, **values: str) -> str:
        return (self.ivr if d.channel == "ivr" else self.chat).format(**values)


SAY = {
    "ended": Line("通话已结束,请重新拨打 95016。", "会话已结束,请点击「新会话」重新咨询。"),
    "ask_account": Line(
        "退订会员。请输入您的咪咕账号(11 位手机号),以 # 号结束。", "好的,为您办理会员退订。请提供您的咪咕账号(11 位手机号)。"
    ),
    "status": Line(
        "查询会员状态请登录咪咕会员官网或 APP 的会员中心。退订会员请按 2。",
        "会员状态可在官网或 APP 的「会员中心」查看。如需退订,请回复「退订」。",
    ),
    "pause": Line(
        "暂停会员请在官网或 APP 的「会员管理」中办理。退订会员请按 2。",
        "暂停会员可在官网或 APP 的「会员管理」中自助办理。如需退订,请回复「退订」。",
    ),
    "human": Line("人工坐席繁忙,请稍后再拨,或使用在线客服。退订会员请按 2。", "人工客服繁忙,我可以为您办理退订,请回复「退订」。"),
    "menu_again": Line(
        "输入有误。" + WELCOME["ivr"], "抱歉,我没有理解您的问题。您可以回复「退订」办理会员退订,或回复「会员状态」查询。"
    ),
    "bad_account": Line("账号格式有误,请输入 11 位手机号,以 # 号结束。", "账号格式有误,请输入 11 位手机号,例如 13800000001。"),
    "no_account": Line("未查询到该账号,请重新输入,以 # 号结束。", "未查询到该账号,请核对后重新输入。"),
    "ask_method": Line(
        "账号 {masked}。短信验证码验证请按 1,密码验证请按 2。",
        "已找到账号 {masked}。请选择身份验证方式:回复 1 获取短信验证码,回复 2 使用登录密码。",
    ),
    "code_sent": Line("验证码已发送至 {masked},请输入 6 位验证码,以 # 号结束。", "验证码已发送至 {masked},请输入 6 位验证码。"),
    "ask_password": Line("请输入您的登录密码,以 # 号结束。", "请输入您的登录密码(消息将被隐藏)。"),
    "method_again": Line("输入有误。短信验证码验证请按 1,密码验证请按 2。", "请回复 1(短信验证码)或 2(登录密码)。"),
    "locked": Line(
        "该账号因密码错误次数过多已被锁定,请稍后再试或通过官网找回密码。本次通话结束。",
        "该账号因密码错误次数过多已被锁定,请稍后再试或通过官网「忘记密码」重置。本次会话已结束。",
    ),
    "too_many": Line("验证失败次数过多,为保障账户安全,本次通话结束。", "验证失败次数过多,为保障账户安全,本次会话已结束。"),
    "retry_secret": Line("验证失败,还可尝试 {left} 次,请重新输入,以 # 号结束。", "验证失败,还可尝试 {left} 次,请重新输入。"),
    "already": Line(
        "身份验证成功。您的会员已退订,无需重复办理。原退订凭证编号:{spoken}。重听请按 9。",
        "身份验证成功。您的会员已退订,无需重复办理。原退订凭证编号:{receipt}。",
    ),
    "confirm": Line(
        "身份验证成功。您的{service}将立即退订,自动续费同时关闭,违约金 {fee} 元。确认退订请按 1,取消请按 2。",
        "身份验证成功。将为您退订{service}:立即生效,自动续费同时关闭,违约金 {fee} 元。确认退订请回复「确认」,放弃请回复「取消」。",
    ),
    "done": Line(
        "退订成功。您的退订凭证编号是:{spoken}。请记录。重听请按 9。",
        "退订成功!您的退订凭证编号是 {receipt},可在官网「退订记录」中查看和下载。",
    ),
    "cancelled": Line("已取消退订。" + WELCOME["ivr"], "已为您取消,会员不受影响。还有什么可以帮您?"),
    "confirm_again": Line("输入有误。确认退订请按 1,取消请按 2。", "请回复「确认」或「取消」。"),
    "repeat": Line("您的退订凭证编号是:{spoken}。", "您的退订凭证编号是 {receipt}。"),
    "bye": Line("感谢您的来电,再见。重听请按 9。", "还有其他可以帮您的吗?"),
}


def spoken(number: str) -> str:
    """A receipt number the way a voice reads it: one character at a time."""
    return " ".join(number)


def _receipt(d: Dialogue) -> dict[str, str]:
    assert d.receipt_no
    return {"spoken": spoken(d.receipt_no), "receipt": d.receipt_no}


def _ended(d: Dialogue, ev: Event, desk: Desk) -> str:
    return SAY["ended"].to(d)


def _menu(d: Dialogue, ev: Event, desk: Desk) -> str:
    if ev.kind == "unsubscribe":
        d.state = "account"
        return SAY["ask_account"].to(d)
    return SAY[ev.kind if ev.kind in ("status", "pause", "human") else "menu_again"].to(d)


def _account(d: Dialogue, ev: Event, desk: Desk) -> str:
    account = ev.value.strip()
    if ev.kind != "value" or not re.fullmatch(r"1\d{10}", account):
        return SAY["bad_account"].to(d)
    if desk.member_label(account) is None:
        return SAY["no_account"].to(d)
    d.account, d.state = account, "method"
    return SAY["ask_method"].to(d, masked=rules.mask_account(account))


def _method(d: Dialogue, ev: Event, desk: Desk) -> str:
    assert d.account
    if ev.kind == "sms":
        desk.send_code(d.account)
        d.method, d.state = "sms", "secret"
        return SAY["code_sent"].to(d, masked=rules.mask_account(d.account))
    if ev.kind == "password":
        d.method, d.state = "password", "secret"
        return SAY["ask_password"].to(d)
    return SAY["method_again"].to(d)


def _secret(d: Dialogue, ev: Event, desk: Desk) -> str:
    assert d.account
    ok = desk.code_ok(d.account, ev.value) if d.method == "sms" else desk.password_ok(d.account, ev.value)
    if ok is None:
        d.state = "ended"
        return SAY["locked"].to(d)
    if not ok:
        d.attempts += 1
        if d.attempts >= MAX_VERIFY_ATTEMPTS:
            d.state = "ended"
            return SAY["too_many"].to(d)
        return SAY["retry_secret"].to(d, left=str(MAX_VERIFY_ATTEMPTS - d.attempts))
    label = desk.member_label(d.account)
    assert label
    service, status = label
    if status == "unsubscribed":
        d.receipt_no, _ = desk.unsubscribe(d.account)
        d.state = "done"
        return SAY["already"].to(d, **_receipt(d))
    d.state = "confirm"
    return SAY["confirm"].to(d, service=service, fee=desk.penalty(d.account))


def _confirm(d: Dialogue, ev: Event, desk: Desk) -> str:
    assert d.account
    if ev.kind == "yes":
        d.receipt_no, _ = desk.unsubscribe(d.account)
        d.state = "done"
        return SAY["done"].to(d, **_receipt(d))
    if ev.kind == "no":
        d.state = "menu"
        return SAY["cancelled"].to(d)
    return SAY["confirm_again"].to(d)


def _done(d: Dialogue, ev: Event, desk: Desk) -> str:
    return SAY["repeat" if ev.kind == "repeat" else "bye"].to(d, **_receipt(d))


# The dialogue: state → what handles the next event there.
HANDLERS: dict[str, Callable[[Dialogue, Event, Desk], str]] = {
    "menu": _menu,
    "account": _account,
    "method": _method,
    "secret": _secret,
    "confirm": _confirm,
    "done": _done,
    "ended": _ended,
}


def advance(d: Dialogue, ev: Event, desk: Desk) -> str:
    """Apply one event in the dialogue's state; returns the desk's reply in the dialogue's channel."""
    try:
        handler = HANDLERS[d.state]
    except KeyError:
        raise ValueError(f"unknown dialogue state {d.state!r}") from None
    return handler(d, ev, desk)


def ivr_event(d: Dialogue, keys: str) -> Event | None:
    """Keypad presses → an event; None while a multi-key entry is still being typed (no '#' yet)."""
    if d.state in SINGLE_KEY_STATES:
        key = keys.strip()[:1]
        table = {
            "menu": {"1": "status", "2": "unsubscribe", "3": "pause", "0": "human"},
            "method": {"1": "sms", "2": "password"},
            "confirm": {"1": "yes", "2": "no"},
            "done": {"9": "repeat"},
            "ended": {},
        }[d.state]
        return Event(table.get(key, "unknown"))
    d.buffer += keys
    if "#" not in d.buffer:
        return None
    value, d.buffer = d.buffer.split("#", 1)[0], ""
    return Event("value", value)


_INTENTS = [
    (
        "unsubscribe",
        re.compile(r"退订|取消.{0,4}会员|不想.{0,4}(续费|会员)|关闭.{0,2}自动续费|注销会员|unsubscribe|cancel", re.I),
    ),
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
        return Event(
            "yes"
            if re.fullmatch(r"确认|确定|是|是的|好的?|yes|ok", t, re.I)
            else "no"
            if re.fullmatch(r"取消|不|不要|算了|否|no", t, re.I)
            else "unknown"
        )
    return Event("value", t)
