"""移动云电脑软件版 business rules as plain functions: refunds, penalties, working days, verification."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import chinese_calendar

CENT = Decimal("0.01")

# ---------------------------------------------------------------- 退订原因

REASONS = ("费用过高", "服务不满意", "使用频率低", "性能不满足需求", "找到更合适的产品", "其他")
OTHER_MAX = 200


FORCED_REASON_MIN = 20  # the forced_reason variant: a free-text explanation is required for every reason


def reason_problem(reason: str, other_text: str, *, forced: bool = False) -> str | None:
    if reason not in REASONS:
        return "请选择退订原因"
    if forced and len(other_text.strip()) < FORCED_REASON_MIN:
        return f"请详细说明退订原因(至少 {FORCED_REASON_MIN} 字,当前 {len(other_text.strip())} 字)"
    if forced and len(other_text.strip()) > OTHER_MAX:
        return f"原因说明最多 {OTHER_MAX} 字(当前 {len(other_text.strip())} 字)"
    if reason == "其他":
        text = other_text.strip()
        if not text:
            return "选择「其他」时请填写具体原因"
        if len(text) > OTHER_MAX:
            return f"原因说明最多 {OTHER_MAX} 字(当前 {len(text)} 字)"
    return None


# ---------------------------------------------------------------- 退款 (退订条款)


@dataclass(frozen=True)
class Refund:
    paid: Decimal
    remaining_days: int
    period_days: int
    prorated: Decimal
    penalty: Decimal
    amount: Decimal
    lines: tuple[str, ...]  # how it was computed, shown to the user


ANNUAL_PENALTY_RATE = Decimal("0.10")
PENALTY_MIN = Decimal("5.00")
FREE_DAYS = 7  # 开通 7 天内(含)退订:全额退款、无违约金
MIN_REFUND = Decimal("1.00")


def refund(price: Decimal, plan: str, period_start: date, period_end: date, today: date) -> Refund:
    """Pro-rata refund of the paid period's remaining days, minus the terms' penalty.

    - within FREE_DAYS of the start: everything back, no penalty;
    - annual plans: penalty = 10 % of the pro-rata amount, at least 5 元, at most the amount;
    - monthly plans: no penalty;
    - less than 1 元 left to refund: nothing is refunded.
    """
    period_days = max(1, (period_end - period_start).days)
    used = (today - period_start).days
    remaining = max(0, min(period_days, (period_end - today).days))
    if used < FREE_DAYS:
        return Refund(
            price,
            remaining,
            period_days,
            price,
            Decimal("0.00"),
            price,
            (f"开通 {FREE_DAYS} 天内退订,全额退还已付 {price:.2f} 元,无违约金",),
        )
    prorated = (price * remaining / period_days).quantize(CENT, rounding=ROUND_HALF_UP)
    lines = [f"已付 {price:.2f} 元 × 剩余 {remaining}/{period_days} 天 = {prorated:.2f} 元"]
    penalty = Decimal("0.00")
    if plan == "annual" and prorated > 0:
        penalty = min(prorated, max(PENALTY_MIN, (prorated * ANNUAL_PENALTY_RATE).quantize(CENT, rounding=ROUND_HALF_UP)))
        lines.append(f"年付提前退订违约金 {penalty:.2f} 元(剩余金额的 10%,最低 {PENALTY_MIN:.0f} 元)")
    amount = prorated - penalty
    if amount < MIN_REFUND:
        lines.append(f"可退金额不足 {MIN_REFUND:.0f} 元,不予退还")
        amount = Decimal("0.00")
    return Refund(price, remaining, period_days, prorated, penalty, amount, tuple(lines))


# ---------------------------------------------------------------- 工作日 (退款 7–15 个工作日到账)

REFUND_WORKDAYS = (7, 15)


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, per the official calendar?) — public holidays and make-up days included.

    Years the calendar does not publish yet fall back to Monday–Friday (and say so).
    """
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_workdays(start: date, n: int) -> tuple[date, bool]:
    """The n-th working day after `start` (start itself not counted); second value: all days were official."""
    day, counted, official = start, 0, True
    while counted < n:
        day += timedelta(days=1)
        work, known = is_workday(day)
        official &= known
        counted += work
    return day, official


# ---------------------------------------------------------------- 异步处理

PROCESSING = timedelta(hours=24)


def request_state(complete_at: datetime, now: datetime) -> str:
    """The subscription: 处理中 until processing completes, then 已退订."""
    return "处理中" if now < complete_at else "已退订"


def refund_state(complete_at: datetime, refund_amount: Decimal, refund_by: date | None, now: datetime) -> str | None:
    """The money: none to return (None), 待退款 while processing, 退款中 after it, 已退款 once the last expected day passed."""
    if refund_amount <= 0 or refund_by is None:
        return None
    if now < complete_at:
        return "待退款"
    return "已退款" if now.date() > refund_by else "退款中"


# ---------------------------------------------------------------- 身份验证

SMS_MAX_WRONG = 5
SMS_RESEND = timedelta(seconds=60)
QUESTION_MAX_WRONG = 3
QUESTION_LOCK = timedelta(minutes=30)
ANSWER_MAX = 50


def normalise_answer(text: str) -> str:
    """Case-, width- and space-insensitive: 'ＸinＨua 小学' == 'xinhua小学'."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def resend_wait(last_sent: datetime | None, now: datetime) -> int:
    """Seconds until another SMS code may be sent (0 = now)."""
    if last_sent is None:
        return 0
    left = SMS_RESEND - (now - last_sent)
    return max(0, int(-(-left.total_seconds() // 1)))


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else phone


def renewal_reminder_text(plan_name: str, renews_on: str, price_yuan: str) -> str:
    return (
        f"【移动云电脑】自动续费提醒:您订购的{plan_name}将于 {renews_on} 到期并自动续费 {price_yuan} 元。"
        "如不需要续费,请在到期前登录移动云电脑「账户管理」申请退订,或拨打 10086。"
    )


# 重新订购: the plans offered, and when a new period ends.
ORDER_PLANS = {"monthly": ("个人版 月付", "39.00", 1), "annual": ("个人版 年付", "399.00", 12)}


def can_order(request_state: str | None) -> bool:
    """Ordering again is for an account whose service has ended (its unsubscribe processed), not one in use."""
    return request_state == "已退订"
