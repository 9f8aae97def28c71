"""The Migu mobile app journey (phone layout under /app/): 我的 → 我的会员 → 会员管理 → 立即退订 / 暂停会员."""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..db import get_db
from ..guards import requires
from . import bp, rules, store
from .views import login_from_form, own_receipt

MOBILE_UA = re.compile(r"Mobile|iPhone|iPad|Android", re.I)


def is_phone() -> bool:
    return bool(MOBILE_UA.search(request.headers.get("User-Agent", "")))


@bp.before_app_request
def _phones_get_the_app() -> ResponseReturnValue | None:
    # A phone opening the website's entry pages lands in the app layout, as the real site sends users to its app.
    if request.method == "GET" and request.path in ("/", "/login") and is_phone():
        return redirect(url_for("migu.app_home" if request.path == "/" else "migu.app_login"))
    return None


app_login_required = requires("member", "migu.app_login", remember_next=False)


@bp.get("/app/")
def app_home() -> ResponseReturnValue:
    return render_template("migu/app/home.html", tab="home")


@bp.route("/app/login", methods=["GET", "POST"])
def app_login() -> ResponseReturnValue:
    error, account = None, ""
    if request.method == "POST":
        member, error, account = login_from_form()
        if member is not None:
            return redirect(url_for("migu.app_me"))
    return render_template("migu/app/login.html", error=error, account=account, tab="me"), (400 if error else 200)


@bp.get("/app/me")
@app_login_required
def app_me() -> ResponseReturnValue:
    return render_template("migu/app/me.html", tab="me")


@bp.get("/app/member")
@app_login_required
def app_member() -> ResponseReturnValue:
    return render_template("migu/app/member.html", tab="me")


@bp.get("/app/member/manage")
@app_login_required
def app_manage() -> ResponseReturnValue:
    return render_template("migu/app/manage.html", tab="me")


@bp.route("/app/member/unsubscribe", methods=["GET", "POST"])
@app_login_required
def app_unsubscribe() -> ResponseReturnValue:
    conn = get_db()
    if g.member.status == "unsubscribed" and request.method == "GET":
        return render_template("migu/app/already.html", receipts=store.receipts_for(conn, g.member.account), tab="me"), 409
    error = None
    if request.method == "POST":
        if request.form.get("agree") != "yes":
            error = "请先阅读并勾选同意《咪咕会员退订协议》"
        else:
            try:
                receipt = store.unsubscribe(conn, g.member.account, request.form.get("token", ""), g.now, channel="APP")
            except store.AlreadyUnsubscribed:
                return render_template(
                    "migu/app/already.html", receipts=store.receipts_for(conn, g.member.account), tab="me"
                ), 409
            except store.UnknownToken:
                error = "确认页面已过期,请重新确认"
            else:
                return redirect(url_for("migu.app_receipt", receipt_no=receipt.receipt_no))
    return render_template(
        "migu/app/unsubscribe.html", token=store.new_confirm_token(conn, g.member.account), error=error, tab="me"
    ), (400 if error else 200)


@bp.get("/app/receipts/<receipt_no>")
@app_login_required
def app_receipt(receipt_no: str) -> ResponseReturnValue:
    return render_template("migu/app/receipt.html", receipt=own_receipt(receipt_no), tab="me")


@bp.route("/app/member/pause", methods=["GET", "POST"])
@app_login_required
def app_pause() -> ResponseReturnValue:
    error = None
    if g.member.status != "active":
        error = f"当前会员状态为「{g.member.status_label}」,无法暂停"
    elif request.method == "POST":
        raw = request.form.get("months", "")
        if not raw.isdigit() or int(raw) not in rules.PAUSE_MONTHS:
            error = "请选择暂停时长"
        else:
            p = store.pause_member(get_db(), g.member, int(raw), g.now)
            flash(f"会员已暂停,将于 {p.resumes_on:%Y-%m-%d} 自动恢复")
            return redirect(url_for("migu.app_member"))
    return render_template("migu/app/pause.html", error=error, options=rules.PAUSE_MONTHS, tab="me"), (
        400 if error and request.method == "POST" else 200
    )


@bp.post("/app/member/resume")
@app_login_required
def app_resume() -> ResponseReturnValue:
    if g.member.status == "paused":
        expires = store.resume_member(get_db(), g.member, g.now)
        flash(f"会员已恢复,有效期至 {expires:%Y-%m-%d}")
    return redirect(url_for("migu.app_member"))
