"""Migu membership business rules as plain functions (unit-tested without Flask)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
    if is_locked(locked_until, now):
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


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (1月31日 + 1 → 2月28/29日)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


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
