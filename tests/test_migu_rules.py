from datetime import date, datetime, timedelta

import pytest

from tuiding_portals.clock import CHINA_TZ
from tuiding_portals.migu import rules

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


@pytest.mark.parametrize(
    "start,months,expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 22), 2, date(2027, 1, 22)),
        (date(2026, 12, 15), 3, date(2027, 3, 15)),
    ],
)
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


@pytest.mark.parametrize(
    "new,confirm,problem",
    [
        ("short1", "short1", "长度"),
        ("onlyletters", "onlyletters", "字母和数字"),
        ("Passw0rd99", "Passw0rd98", "不一致"),
        ("Passw0rd99", "Passw0rd99", None),
    ],
)
def test_password_rules(new, confirm, problem):
    got = rules.password_problem(new, confirm)
    assert (got is None) if problem is None else (problem in got)


def test_timestamp_carries_the_timezone():
    assert rules.format_timestamp(NOW) == "2026-11-22 10:00:00 (UTC+08:00 北京时间)"


from decimal import Decimal as D  # noqa: E402

START, END = date(2026, 6, 5), date(2027, 6, 5)  # a 365-day annual period


@pytest.mark.parametrize(
    "member_type,plan,today,expected",
    [
        ("黄金会员", "monthly", date(2026, 11, 22), "0.00"),  # monthly: never
        ("钻石会员", "monthly", date(2026, 11, 22), "0.00"),
        ("钻石会员", "annual", date(2026, 6, 8), "0.00"),  # within the 7 cooling-off days
        ("钻石会员", "annual", date(2027, 5, 10), "0.00"),  # within the final 30 days
        ("钻石会员", "annual", date(2026, 11, 22), "computed"),  # 248 × 195/365 × 20%
        ("黄金会员", "annual", date(2026, 11, 22), "computed"),  # 128 × 195/365 × 10%
    ],
)
def test_penalty_by_type_plan_and_time(member_type, plan, today, expected):
    price = D("248") if member_type == "钻石会员" else D("128")
    left = (END - today).days
    if expected == "computed":
        rate = D("0.20") if member_type == "钻石会员" else D("0.10")
        expected = str((price * left / 365 * rate).quantize(D("0.01")))
    assert rules.penalty(member_type, plan, price, START, END, today).amount == D(expected)


def test_penalty_explains_its_arithmetic():
    p = rules.penalty("钻石会员", "annual", D("248"), START, END, date(2026, 11, 22))
    assert p.reason == f"年费 248.00 元 × 剩余 195/365 天 × 20% = {p.amount} 元" and p.amount == D("26.50")


def test_penalty_free_day_boundaries():
    assert rules.penalty("钻石会员", "annual", D("248"), START, END, START + timedelta(days=6)).amount == 0
    assert rules.penalty("钻石会员", "annual", D("248"), START, END, START + timedelta(days=7)).amount > 0
    assert rules.penalty("钻石会员", "annual", D("248"), START, END, END - timedelta(days=30)).amount == 0
    assert rules.penalty("钻石会员", "annual", D("248"), START, END, END - timedelta(days=31)).amount > 0


@pytest.mark.parametrize(
    "member_type,unsub,today,allowed",
    [
        ("黄金会员", date(2026, 11, 22), date(2026, 11, 28), False),  # 6 days: still waiting
        ("黄金会员", date(2026, 11, 22), date(2026, 11, 29), True),  # 7 days: allowed
        ("钻石会员", date(2026, 11, 22), date(2026, 12, 21), False),  # 29 days
        ("钻石会员", date(2026, 11, 22), date(2026, 12, 22), True),  # 30 days
        ("钻石会员", date(2026, 12, 20), date(2027, 1, 19), True),  # across the new year
    ],
)
def test_resubscribe_waiting_period(member_type, unsub, today, allowed):
    assert rules.can_resubscribe(member_type, unsub, today) is allowed


def test_waiting_period_is_configurable_per_type():
    table = {"黄金会员": rules.TypeRules(resubscribe_wait_days=1, annual_penalty_rate=D("0"))}
    assert rules.resubscribe_date("黄金会员", date(2026, 11, 22), table) == date(2026, 11, 23)


def test_renewal_reminder_is_due_from_five_days_before_until_the_renewal():
    from datetime import date

    expires = date(2026, 12, 8)
    from tuiding_portals.renewal import reminder_due

    assert [reminder_due(expires, date(2026, 12, d)) for d in (2, 3, 7, 8)] == [False, True, True, False]
    text = rules.renewal_reminder_text("黄金会员", expires, 15.0, "monthly")
    assert "2026-12-08" in text and "15.00 元/月" in text and "退订" in text
