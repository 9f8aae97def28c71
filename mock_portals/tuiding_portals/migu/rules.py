"""Migu membership business rules as plain functions (unit-tested without Flask)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ..periods import add_months

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
PAUSE_MONTHS = (1, 2, 3)
PASSWORD_MIN, PASSWORD_MAX = 8, 32


@dataclass(frozen=True)
class LoginVerdict:
    ok: bool
    failed_logins: int
    locked_until: datetime | None
    message: str


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def register_login(password_ok: bool, failed_logins: int, locked_until: datetime | None, now: datetime) -> LoginVerdict:
    """Apply the lockout rule: the 5th wrong password in a row locks the account for 15 minutes."""
    if locked_until is not None and is_locked(locked_until, now):
        return LoginVerdict(False, failed_logins, locked_until, lockout_message(locked_until, now))
    if password_ok:
        return LoginVerdict(True, 0, None, "")
    failed = failed_logins + 1
    if failed >= MAX_FAILED_LOGINS:
        until = now + LOCKOUT
        return LoginVerdict(False, 0, until, lockout_message(until, now))
    left = MAX_FAILED_LOGINS - failed
    return LoginVerdict(False, failed, None, f"账号或密码错误,还可尝试 {left} 次")


def lockout_message(until: datetime, now: datetime) -> str:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return f"密码连续错误 {MAX_FAILED_LOGINS} 次,账号已锁定,请 {minutes} 分钟后({until:%H:%M})再试,或通过忘记密码重置"


def remaining_days(expires_on: date, today: date) -> int:
    return max(0, (expires_on - today).days)


@dataclass(frozen=True)
class Pause:
    resumes_on: date
    remaining_days: int


def pause(expires_on: date, today: date, months: int) -> Pause:
    """Pausing freezes the days left; they are given back when the membership resumes."""
    if months not in PAUSE_MONTHS:
        raise ValueError(f"pause duration must be one of {PAUSE_MONTHS} months")
    return Pause(add_months(today, months), remaining_days(expires_on, today))


def resume(frozen_days: int, today: date) -> date:
    """New expiry when a paused membership resumes (early by the member, or on the resume date)."""
    return today + timedelta(days=frozen_days)


def mask_account(account: str) -> str:
    """138****0001 for phone numbers; first and last character otherwise."""
    if len(account) == 11 and account.isdigit():
        return f"{account[:3]}****{account[-4:]}"
    if len(account) <= 2:
        return "*" * len(account)
    return f"{account[0]}{'*' * (len(account) - 2)}{account[-1]}"


def password_problem(new: str, confirm: str) -> str | None:
    if not (PASSWORD_MIN <= len(new) <= PASSWORD_MAX):
        return f"新密码长度需为 {PASSWORD_MIN}–{PASSWORD_MAX} 位"
    if not (any(c.isalpha() for c in new) and any(c.isdigit() for c in new)):
        return "新密码需同时包含字母和数字"
    if new != confirm:
        return "两次输入的新密码不一致"
    return None


def format_timestamp(moment: datetime) -> str:
    """Receipt time with its zone: 2026-11-22 21:50:03 (UTC+08:00 北京时间)."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]} 北京时间)"


# ---------------------------------------------------------------- FAQ rules, configurable per membership type


@dataclass(frozen=True)
class TypeRules:
    resubscribe_wait_days: int  # 退订后需等待多少天才能重新开通
    annual_penalty_rate: Decimal  # 年度会员提前退订:剩余价值 × 比例
    cooling_off_days: int = 7  # 开通后 N 天内退订免违约金
    final_days_free: int = 30  # 到期前 N 天内退订免违约金


MEMBERSHIP_RULES: dict[str, TypeRules] = {
    "黄金会员": TypeRules(resubscribe_wait_days=7, annual_penalty_rate=Decimal("0.10")),
    "钻石会员": TypeRules(resubscribe_wait_days=30, annual_penalty_rate=Decimal("0.20")),
}


@dataclass(frozen=True)
class Penalty:
    amount: Decimal
    reason: str


def penalty(
    member_type: str,
    plan: str,
    price_yuan: Decimal,
    period_start: date,
    period_end: date,
    today: date,
    table: dict[str, TypeRules] = MEMBERSHIP_RULES,
) -> Penalty:
    """违约金 for unsubscribing today.

    Monthly plans never pay one (提前退订通常不需要违约金). Annual plans pay the type's rate
    on the unused value of the year, except within the cooling-off days after the start and
    within the final days before the end.
    """
    zero = Decimal("0.00")
    if plan != "annual":
        return Penalty(zero, "连续包月会员退订无违约金")
    r = table[member_type]
    used = (today - period_start).days
    left = max(0, (period_end - today).days)
    total = max(1, (period_end - period_start).days)
    if used < r.cooling_off_days:
        return Penalty(zero, f"开通 {r.cooling_off_days} 天内退订,免收违约金")
    if left <= r.final_days_free:
        return Penalty(zero, f"到期前 {r.final_days_free} 天内退订,免收违约金")
    unused = price_yuan * left / total
    amount = (unused * r.annual_penalty_rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Penalty(
        amount, f"年费 {price_yuan:.2f} 元 × 剩余 {left}/{total} 天 × {r.annual_penalty_rate * 100:.0f}% = {amount:.2f} 元"
    )


def resubscribe_date(member_type: str, unsubscribed_on: date, table: dict[str, TypeRules] = MEMBERSHIP_RULES) -> date:
    """The first day a member who unsubscribed may subscribe again."""
    return unsubscribed_on + timedelta(days=table[member_type].resubscribe_wait_days)


def can_resubscribe(member_type: str, unsubscribed_on: date, today: date, table: dict[str, TypeRules] = MEMBERSHIP_RULES) -> bool:
    return today >= resubscribe_date(member_type, unsubscribed_on, table)


def renewal_reminder_text(member_type: str, expires_on: date, price_yuan: float, plan: str) -> str:
    period = "月" if plan == "monthly" else "年"
    return (
        f"【咪咕】自动续费提醒:您的{member_type}将于 {expires_on:%Y-%m-%d} 到期并自动续费 {price_yuan:.2f} 元/{period}。"
        "如不需要续费,请在到期前登录咪咕会员官网「会员管理」退订,或拨打 95016。"
    )
