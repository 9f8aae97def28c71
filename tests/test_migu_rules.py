from datetime import date, datetime, timedelta

import pytest

from mock_portals.clock import CHINA_TZ
from mock_portals.migu import rules

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=CHINA_TZ)


def test_wrong_passwords_count_down_then_lock_for_15_minutes():
    failed, locked = 0, None
    for left in (4, 3, 2, 1):
        v = rules.register_login(False, failed, locked, NOW)
        assert not v.ok and v.locked_until is None and f"还可尝试 {left} 次" in v.message
        failed = v.failed_logins
    v = rules.register_login(False, failed, None, NOW)
    assert v.locked_until == NOW + timedelta(minutes=15)
    assert "账号已锁定" in v.message and "15 分钟" in v.message


def test_correct_password_is_refused_while_locked_and_accepted_after():
    until = NOW + timedelta(minutes=15)
    assert not rules.register_login(True, 0, until, NOW + timedelta(minutes=14)).ok
    ok = rules.register_login(True, 0, until, NOW + timedelta(minutes=15))
    assert ok.ok and ok.failed_logins == 0 and ok.locked_until is None


def test_success_resets_the_failure_count():
    assert rules.register_login(True, 3, None, NOW).failed_logins == 0


@pytest.mark.parametrize("start,months,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 11, 22), 2, date(2027, 1, 22)),
    (date(2026, 12, 15), 3, date(2027, 3, 15)),
])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert rules.add_months(start, months) == expected


def test_pause_freezes_remaining_days_and_resume_gives_them_back():
    p = rules.pause(date(2026, 12, 10), date(2026, 11, 22), 2)
    assert p == rules.Pause(resumes_on=date(2027, 1, 22), remaining_days=18)
    assert rules.resume(p.remaining_days, date(2027, 1, 22)) == date(2027, 2, 9)


def test_pause_only_for_offered_durations():
    with pytest.raises(ValueError):
        rules.pause(date(2026, 12, 10), date(2026, 11, 22), 6)


def test_remaining_days_never_negative():
    assert rules.remaining_days(date(2026, 11, 1), date(2026, 11, 22)) == 0


@pytest.mark.parametrize("account,masked", [("13800000001", "138****0001"), ("migu_user", "m*******r"), ("ab", "**")])
def test_mask_account(account, masked):
    assert rules.mask_account(account) == masked


@pytest.mark.parametrize("new,confirm,problem", [
    ("short1", "short1", "长度"), ("onlyletters", "onlyletters", "字母和数字"),
    ("Passw0rd99", "Passw0rd98", "不一致"), ("Passw0rd99", "Passw0rd99", None),
])
def test_password_rules(new, confirm, problem):
    got = rules.password_problem(new, confirm)
    assert (got is None) if problem is None else (problem in got)


def test_timestamp_carries_the_timezone():
    assert rules.format_timestamp(NOW) == "2026-11-22 10:00:00 (UTC+08:00 北京时间)"
