"""Before and after the unsubscribe: help, backup export, content lists, payment methods, re-subscribing."""

from __future__ import annotations

import csv
import io
import json

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from .. import ordering, sms
from ..db import get_db
from ..downloads import download
from . import bp, store
from .views import login_required

EXPORTS = {"history": "观看记录", "favorite": "收藏", "watchlist": "未观看内容"}


@bp.get("/help/unsubscribe")
def help_unsubscribe() -> ResponseReturnValue:
    return render_template("migu/help.html")


@bp.get("/member/backup")
@login_required
def backup() -> ResponseReturnValue:
    conn = get_db()
    return render_template(
        "migu/backup.html",
        history=store.content_for(conn, g.member.account, "history"),
        favorites=store.content_for(conn, g.member.account, "favorite"),
    )


@bp.get("/member/export/<what>.<fmt>")
@login_required
def export(what: str, fmt: str) -> ResponseReturnValue:
    """观看记录 / 收藏 / 未观看内容 as a real file (CSV with a BOM so Excel reads the Chinese, or JSON)."""
    if what not in EXPORTS or fmt not in ("csv", "json"):
        abort(404)
    items = store.content_for(get_db(), g.member.account, what)
    name = f"migu-{what}-{g.member.account[-4:]}-{g.now:%Y%m%d}.{fmt}"
    if fmt == "json":
        body = json.dumps(
            {
                "account": g.member.masked,
                "list": EXPORTS[what],
                "exported_at": g.now.isoformat(timespec="seconds"),
                "items": [i.__dict__ for i in items],
            },
            ensure_ascii=False,
            indent=2,
        )
        mimetype = "application/json"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["标题", "类别", "时间", "说明"])
        writer.writerows([i.title, i.category, i.at, i.detail] for i in items)
        body, mimetype = "\ufeff" + buf.getvalue(), "text/csv"
    return download(body, mimetype, name)


@bp.get("/member/content")
@login_required
def content() -> ResponseReturnValue:
    conn = get_db()
    return render_template(
        "migu/content.html",
        purchased=store.content_for(conn, g.member.account, "purchased"),
        watchlist=store.content_for(conn, g.member.account, "watchlist"),
    )


@bp.get("/member/payments")
@login_required
def payments() -> ResponseReturnValue:
    return render_template("migu/payments.html", payments=store.payments_for(get_db(), g.member.account))


@bp.route("/member/payments/<int:payment_id>/unlink", methods=["GET", "POST"])
@login_required
def unlink_payment(payment_id: int) -> ResponseReturnValue:
    conn = get_db()
    pm = next((p for p in store.payments_for(conn, g.member.account) if p.id == payment_id), None)
    if pm is None:
        abort(404)
    if request.method == "POST":
        try:
            store.unlink_payment(conn, g.member, payment_id)
        except store.PaymentInUse:
            flash(f"{pm.label} 正用于自动续费,请先退订会员或关闭自动续费后再取消关联", "error")
            return redirect(url_for("migu.payments"))
        flash(f"已取消关联:{pm.label}")
        return redirect(url_for("migu.payments"))
    return render_template("migu/unlink.html", pm=pm)


@bp.route("/member/subscribe", methods=["GET", "POST"])
@login_required
def subscribe() -> ResponseReturnValue:
    """开通会员, step 1 of 4: the package and its auto-renewal, agreed to explicitly before anything else
    (网络交易监督管理办法 第十八条); then the payment method, an SMS second confirmation and the order number."""
    m = g.member
    if m.status != "unsubscribed":
        flash("您的会员仍在有效期内,无需重新开通", "error")
        return redirect(url_for("migu.member_center"))
    allowed = m.resubscribe_on()
    renewal_method = next((p.label for p in store.payments_for(get_db(), m.account) if p.is_default), m.payment_method)
    page = {"allowed": allowed, "renewal_method": renewal_method, "refused": False, "error": None}
    if request.method == "POST":
        if request.form.get("agree_autorenew") != "yes":
            return render_template("migu/subscribe.html", **{**page, "error": "请先阅读并同意《自动续费服务协议》"}), 400
        if allowed and allowed > g.now.date():
            return render_template("migu/subscribe.html", **{**page, "refused": True}), 409
        session["migu_order"] = {"account": m.account, "pay": renewal_method}
        return redirect(url_for("migu.subscribe_pay"))
    return render_template("migu/subscribe.html", **page)


def _order() -> dict | None:
    """The order being placed in this session, for this account (none: start again at step 1)."""
    order = session.get("migu_order")
    return order if isinstance(order, dict) and order.get("account") == g.member.account else None


@bp.route("/member/subscribe/pay", methods=["GET", "POST"])
@login_required
def subscribe_pay() -> ResponseReturnValue:
    order = _order()
    if order is None or g.member.status != "unsubscribed":
        return redirect(url_for("migu.subscribe"))
    own = [p.label for p in store.payments_for(get_db(), g.member.account)] or [g.member.payment_method]
    methods = ordering.payment_choices(own, [f"话费支付 ({g.member.masked})", "支付宝", "微信支付"])
    if request.method == "POST":
        chosen = request.form.get("pay", "")
        if chosen not in methods:
            return render_template("migu/subscribe_pay.html", methods=methods, chosen=order["pay"], error="请选择支付方式"), 400
        session["migu_order"] = {**order, "pay": chosen}
        return redirect(url_for("migu.subscribe_confirm"))
    return render_template("migu/subscribe_pay.html", methods=methods, chosen=order["pay"], error=None)


def _confirm_page(order: dict, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    wait = ordering.resend_wait(g.member.phone, g.now)
    sent = sms.latest(get_db(), g.member.phone, ordering.PURPOSE) is not None
    return render_template("migu/subscribe_confirm.html", order=order, wait=wait, sent=sent, error=error), status


@bp.route("/member/subscribe/confirm", methods=["GET", "POST"])
@login_required
def subscribe_confirm() -> ResponseReturnValue:
    """二次确认: the order is placed only with the SMS code sent to the member's phone."""
    order = _order()
    if order is None or g.member.status != "unsubscribed":
        return redirect(url_for("migu.subscribe"))
    if request.method == "GET":
        return _confirm_page(order)
    m = g.member
    error = ordering.check_code(f"migu:{m.account}", m.phone, request.form.get("code", ""), g.now)
    if error:
        return _confirm_page(order, error, 400)
    try:
        expires = store.resubscribe(get_db(), m, g.now.date())
    except store.TooEarly as exc:
        return _confirm_page(order, f"退订后需等待一段时间才能重新开通,您可于 {exc.allowed_on} 起重新开通", 409)
    done = ordering.placed("KT", g.now)
    session.pop("migu_order", None)
    session["migu_order_done"] = {
        "account": m.account, "order_no": done.order_no, "at": done.at, "pay": order["pay"],
        "expires": f"{expires:%Y-%m-%d}", "service": m.service, "price": f"{m.price_yuan:.2f}",
        "period": "月" if m.plan == "monthly" else "年",
    }  # fmt: skip
    return redirect(url_for("migu.subscribe_done"))


@bp.post("/member/subscribe/confirm/send")
@login_required
def subscribe_send_code() -> ResponseReturnValue:
    order = _order()
    if order is None:
        return redirect(url_for("migu.subscribe"))
    m = g.member
    text = f"【咪咕】您正在开通{m.service},资费 {m.price_yuan:.2f} 元,验证码 {{code}},5 分钟内有效。如非本人操作请忽略。"
    wait = ordering.send_code(m.phone, text, g.now)
    flash(f"验证码发送过于频繁,请 {wait} 秒后再获取" if wait else f"验证码已发送至 {m.masked}", "error" if wait else "info")
    return redirect(url_for("migu.subscribe_confirm"))


@bp.get("/member/subscribe/done")
@login_required
def subscribe_done() -> ResponseReturnValue:
    done = session.get("migu_order_done")
    if not isinstance(done, dict) or done.get("account") != g.member.account:
        return redirect(url_for("migu.member_center"))
    return render_template("migu/subscribe_done.html", done=done)
