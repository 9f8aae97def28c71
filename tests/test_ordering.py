"""Signing up on both portals, as China Mobile does it: auto-renewal agreed, a payment method, then a second
confirmation by SMS code (二次确认) before anything is charged, then an order number with its time."""

from __future__ import annotations

import re

import pytest
from support import form_client, post_at_once
from support.portal import ORDER_CLOCK as CLOCK
from support.portal import ORDER_PORTALS as PORTALS
from support.portal import order_code as code_for
from support.portal import order_started as started

from tuiding_portals import create_app
from tuiding_portals.ordering import MAX_WRONG, payment_choices


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.mark.parametrize("portal", list(PORTALS))
def test_nothing_is_ordered_without_the_sms_code_and_the_order_number_comes_with_its_time(portal, tmp_path):
    app, user, phone, confirm = started(portal, tmp_path)
    _, _, _, account_page, active = PORTALS[portal]
    page = user.get(confirm).text
    assert "二次确认" in page and "自动续费" in page and "获取验证码" in page
    assert user.post(confirm, data={"code": "123456"}).text.count("请先获取验证码") == 1  # none sent yet
    assert user.post(f"{confirm}/send").status_code == 302
    assert "重新获取(60 秒)" in user.get(confirm).text  # a second code only after a minute
    code = code_for(user, phone)
    assert active not in user.get(account_page).text  # not ordered yet
    done = user.post(confirm, data={"code": code}, follow_redirects=True).text
    number, at = (
        re.search(r"(KT|DG)(\d{8})(\d{2})(\d{2})\d{4}<", done),
        re.search(r"(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})</dd>", done),
    )
    assert number and at and (number[2], number[3], number[4]) == (at[1].replace("-", ""), at[2], at[3])
    assert active in user.get(account_page).text
    again = user.post(confirm, data={"code": code})  # the order is placed: the same code orders nothing twice
    assert again.status_code == 302


@pytest.mark.parametrize("portal", list(PORTALS))
def test_wrong_codes_count_down_and_then_void_the_code(portal, tmp_path):
    app, user, phone, confirm = started(portal, tmp_path)
    user.post(f"{confirm}/send")
    code = code_for(user, phone)
    for left in range(MAX_WRONG - 1, 0, -1):
        r = user.post(confirm, data={"code": wrong(code)})
        assert r.status_code == 400 and f"还可尝试 {left} 次" in r.text
    assert "失效" in user.post(confirm, data={"code": wrong(code)}).text
    assert "已失效" in user.post(confirm, data={"code": code}).text  # the right code no longer helps
    assert "请输入 6 位数字验证码" in user.post(confirm, data={"code": "12ab"}).text


def test_concurrent_wrong_codes_are_counted_one_at_a_time(tmp_path):
    app, user, phone, confirm = started("migu", tmp_path)
    user.post(f"{confirm}/send")
    code = code_for(user, phone)
    pages = post_at_once(app, user, confirm, [{"code": wrong(code)}] * 10, threads=10)
    assert sum("还可尝试" in p for p in pages) == MAX_WRONG - 1
    assert sum("失效" in p for p in pages) == 10 - (MAX_WRONG - 1)


@pytest.mark.parametrize("portal", list(PORTALS))
def test_later_steps_cannot_be_reached_without_the_earlier_ones(portal, tmp_path):
    app = create_app(portal, database=tmp_path / "s.db", test_api=True, clock=CLOCK)
    user = form_client(app)
    form, _, order, _, _ = PORTALS[portal]
    user.post("/login", data=form)
    for step in ("/pay", "/confirm"):
        r = user.get(order + step)
        assert r.status_code == 302 and r.location.endswith(order)
    assert user.post(order + "/confirm", data={"code": "123456"}).status_code == 302


def test_a_payment_method_not_offered_is_refused(tmp_path):
    app, user, phone, confirm = started("cloudpc", tmp_path)
    r = user.post("/order/pay", data={"pay": "信用卡 (伪造)"})
    assert r.status_code == 400 and "请选择支付方式" in r.text


def test_payment_choices_put_the_accounts_own_first_and_add_the_kinds_it_lacks():
    assert payment_choices(["支付宝 (a***@b.cn)"], ["话费支付 (138****0003)", "支付宝", "微信支付"]) == [
        "支付宝 (a***@b.cn)",
        "话费支付 (138****0003)",
        "微信支付",
    ]
