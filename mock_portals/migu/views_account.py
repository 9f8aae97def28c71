"""Before and after the unsubscribe: help, backup export, content lists, payment methods, re-subscribing."""

from __future__ import annotations

import csv
import io
import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

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
    m = g.member
    if m.status != "unsubscribed":
        flash("您的会员仍在有效期内,无需重新开通", "error")
        return redirect(url_for("migu.member_center"))
    allowed = m.resubscribe_on()
    renewal_method = next((p.label for p in store.payments_for(get_db(), m.account) if p.is_default), m.payment_method)
    page = {"allowed": allowed, "renewal_method": renewal_method, "refused": False, "error": None}
    if request.method == "POST":
        # Auto-renewal is pointed out before the purchase and agreed to explicitly (网络交易监督管理办法 第十八条).
        if request.form.get("agree_autorenew") != "yes":
            return render_template("migu/subscribe.html", **{**page, "error": "请先阅读并同意《自动续费服务协议》"}), 400
        try:
            expires = store.resubscribe(get_db(), m, g.now.date())
        except store.TooEarly as exc:
            return render_template("migu/subscribe.html", **{**page, "allowed": exc.allowed_on, "refused": True}), 409
        flash(f"{m.member_type}已重新开通,有效期至 {expires:%Y-%m-%d},到期前 5 天短信提醒续费")
        return redirect(url_for("migu.member_center"))
    return render_template("migu/subscribe.html", **page)
