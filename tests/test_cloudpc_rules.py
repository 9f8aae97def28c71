from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from tuiding_portals.clock import CHINA_TZ
from tuiding_portals.cloudpc import rules

Y_START, Y_END = date(2026, 8, 14), date(2027, 8, 14)  # 365-day annual period
M_START, M_END = date(2026, 11, 2), date(2026, 12, 2)  # 30-day monthly period


@pytest.mark.parametrize(
    "price,plan,start,end,today,amount,penalty",
    [
        ("399.00", "annual", Y_START, Y_END, date(2026, 11, 22), "260.71", "28.97"),  # 289.68 − 10%
        ("39.00", "monthly", M_START, M_END, date(2026, 11, 12), "26.00", "0.00"),  # 20/30 left, no penalty
        ("699.00", "annual", Y_START, Y_END, Y_START + timedelta(days=3), "699.00", "0.00"),  # 7-day full refund
        ("39.00", "monthly", M_START, M_END, M_END, "0.00", "0.00"),  # nothing left
        ("39.00", "annual", Y_START, Y_END, date(2027, 5, 1), "6.22", "5.00"),  # minimum penalty 5 元: 39 × 105/365 = 11.22 − 5
        ("39.00", "annual", Y_START, Y_END, date(2027, 7, 20), "0.00", "2.67"),  # 2.67 left ≤ min penalty → capped, nothing back
        ("39.00", "monthly", M_START, M_END, date(2026, 12, 1), "1.30", "0.00"),  # 1 day left: 1.30
    ],
)
def test_refund_arithmetic(price, plan, start, end, today, amount, penalty):
    r = rules.refund(D(price), plan, start, end, today)
    assert (r.amount, r.penalty) == (D(amount), D(penalty))


def test_refund_explains_itself():
    r = rules.refund(D("399.00"), "annual", Y_START, Y_END, date(2026, 11, 22))
    assert r.lines == ("已付 399.00 元 × 剩余 265/365 天 = 289.68 元", "年付提前退订违约金 28.97 元(剩余金额的 10%,最低 5 元)")


def test_refund_under_one_yuan_is_not_paid():
    r = rules.refund(D("20.00"), "monthly", M_START, M_END, date(2026, 12, 1))  # 0.67 left
    assert r.amount == 0 and "不足 1 元" in r.lines[-1]


def test_working_days_skip_national_day_and_count_the_make_up_saturday():
    # 2026-09-30 (Wed) + working days: 10-01..10-07 holiday, 10-10 (Sat) is a make-up working day.
    assert rules.add_workdays(date(2026, 9, 30), 1) == (date(2026, 10, 8), True)
    assert rules.add_workdays(date(2026, 9, 30), 3) == (date(2026, 10, 10), True)
    assert rules.add_workdays(date(2026, 9, 30), 7) == (date(2026, 10, 15), True)
    assert rules.add_workdays(date(2026, 9, 29), 15) == (date(2026, 10, 26), True)


def test_working_days_over_a_plain_week():
    assert rules.add_workdays(date(2026, 11, 20), 7) == (date(2026, 12, 1), True)  # Fri + 7 → Tue week after


def test_unpublished_years_fall_back_to_weekdays_and_say_so():
    day, official = rules.add_workdays(date(2026, 12, 28), 10)
    assert not official and day == date(2027, 1, 11)


@pytest.mark.parametrize(
    "reason,text,ok",
    [
        ("费用过高", "", True),
        ("其他", "换了别的产品", True),
        ("其他", "   ", False),
        ("其他", "字" * 201, False),
        ("", "", False),
        ("<script>", "", False),
    ],
)
def test_reason_validation(reason, text, ok):
    assert (rules.reason_problem(reason, text) is None) is ok


@pytest.mark.parametrize("typed", ["新华小学", " 新华 小学 ", "新华小学　", "ＸＩＮＨＵＡ"])
def test_answers_compare_case_width_and_space_insensitively(typed):
    stored = rules.normalise_answer("新华小学" if "新" in typed else "xinhua")
    assert rules.normalise_answer(typed) == stored


def test_sms_resend_throttle():
    now = datetime(2026, 11, 22, 10, 0, tzinfo=CHINA_TZ)
    assert rules.resend_wait(None, now) == 0
    assert rules.resend_wait(now - timedelta(seconds=15), now) == 45
    assert rules.resend_wait(now - timedelta(seconds=60), now) == 0


def test_request_and_refund_states_follow_the_clock():
    sub = datetime(2026, 11, 22, 10, 0, tzinfo=CHINA_TZ)
    done = sub + timedelta(hours=24)
    assert rules.request_state(done, sub + timedelta(hours=23)) == "处理中"
    assert rules.request_state(done, done) == "已退订"
    by = date(2026, 12, 14)
    assert rules.refund_state(done, D("10"), by, sub) == "待退款"
    assert rules.refund_state(done, D("10"), by, done) == "退款中"
    assert rules.refund_state(done, D("10"), by, datetime(2026, 12, 15, 0, 1, tzinfo=CHINA_TZ)) == "已退款"
    assert rules.refund_state(done, D("0"), None, done) is None
