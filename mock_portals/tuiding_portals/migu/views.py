"""Routes of the Migu website. Rules live in rules.py, storage in store.py."""

from __future__ import annotations

import re

from flask import Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from .. import sms
from ..db import get_clock, get_db, get_setting
from ..downloads import download
from ..guards import requires
from ..security import end_session, safe_next, session_account, start_session
from . import bp, rules, store

PHONE_RE = re.compile(r"^1\d{10}$")


@bp.before_app_request
def _load_member() -> None:
    g.now = get_clock().now()
    store.send_due_renewal_reminders(get_db(), g.now)
    account = session_account()
    g.member = store.find_member(get_db(), account, g.now.date()) if account else None


@bp.app_context_processor
def _inject() -> dict:
    return {
        "member": g.get("member"),
        "today": g.now.date() if "now" in g else None,
        "variant": get_setting("variant"),
        "button_order": get_setting("button_order"),
    }


@bp.app_template_filter("cn_time")
def cn_time(value: str) -> str:
    """'2026-10-14T06:20:30+08:00' → '2026-10-14 06:20' (stored ISO, shown the way the site's users read it)."""
    return value[:16].replace("T", " ")


login_required = requires("member", "migu.login")


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_template("migu/home.html")


def login_from_form() -> tuple[store.Member | None, str | None, str]:
    """Check the posted account and password (lockout rules apply); on success start the member's session.

    Returns (member or None, error or None, the account as typed) for the website and the app alike.
    """
    account = request.form.get("account", "").strip()
    password = request.form.get("password", "")
    if not account or not password:
        return None, "请输入账号和密码", account
    member, error = store.attempt_login(get_db(), account, password, g.now)
    if member is not None:
        start_session(member.account)
    return member, error or None, account


def own_receipt(receipt_no: str) -> store.Receipt:
    """The logged-in member's receipt, or a 404 page (never another account's receipt)."""
    r = store.get_receipt(get_db(), g.member.account, receipt_no)
    if r is None:
        abort(Response(render_template("migu/not_found.html"), 404))
    return r


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error, account = None, ""
    if request.method == "POST":
        member, error, account = login_from_form()
        if member is not None:
            nxt = request.args.get("next", "")
            return redirect(safe_next(nxt, url_for("migu.home")))
    return render_template("migu/login.html", error=error, account=account), (400 if error else 200)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    end_session()
    flash("您已安全退出")
    return redirect(url_for("migu.home"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    error, phone = None, request.form.get("phone", "").strip()
    if request.method == "POST":
        if not PHONE_RE.match(phone):
            error = "请输入 11 位手机号"
        elif store.find_member(get_db(), phone, g.now.date()) is None:
            error = "该手机号未注册咪咕账号"
        else:
            sms.send_code(get_db(), phone, "reset", "【咪咕】您正在重置密码,验证码 {code},5 分钟内有效。", g.now)
            session["reset_phone"] = phone
            return redirect(url_for("migu.forgot_reset"))
    return render_template("migu/forgot.html", error=error, phone=phone), (400 if error else 200)


@bp.route("/forgot/reset", methods=["GET", "POST"])
def forgot_reset() -> ResponseReturnValue:
    phone = session.get("reset_phone")
    if not phone:
        return redirect(url_for("migu.forgot"))
    error = None
    if request.method == "POST":
        code = request.form.get("code", "").strip()
        new, confirm = request.form.get("new_password", ""), request.form.get("confirm_password", "")
        if not re.fullmatch(r"\d{6}", code):
            error = "请输入 6 位数字验证码"
        elif not sms.code_is_valid(sms.latest(get_db(), phone, "reset"), code, g.now):
            error = "验证码错误或已过期,请重新获取"
        else:
            error = rules.password_problem(new, confirm)
        if error is None:
            store.set_password(get_db(), phone, new)
            session.pop("reset_phone", None)
            flash("密码已重置,请使用新密码登录")
            return redirect(url_for("migu.login"))
    return render_template("migu/forgot_reset.html", error=error, masked=rules.mask_account(phone)), (400 if error else 200)


@bp.get("/member")
@login_required
def member_center() -> ResponseReturnValue:
    return render_template("migu/member.html", receipts=store.receipts_for(get_db(), g.member.account))


@bp.get("/member/manage")
@login_required
def manage() -> ResponseReturnValue:
    return render_template("migu/manage.html")


@bp.route("/member/unsubscribe", methods=["GET", "POST"])
@login_required
def unsubscribe_agreement() -> ResponseReturnValue:
    if g.member.status == "unsubscribed":
        return render_template("migu/already.html", receipts=store.receipts_for(get_db(), g.member.account)), 409
    if get_setting("variant") == "phone_only":
        return render_template("migu/phone_only.html")
    error = None
    if request.method == "POST":
        if request.form.get("agree") != "yes":
            error = "请先阅读并勾选同意《咪咕会员退订协议》"
        else:
            session["agreed"] = g.member.account
            session.pop("past_offer", None)
            if get_setting("variant") == "retention":
                return redirect(url_for("migu.unsubscribe_offer"))
            return redirect(url_for("migu.unsubscribe_confirm"))
    return render_template("migu/agreement.html", error=error), (400 if error else 200)


def _retention_only() -> ResponseReturnValue | None:
    """The retention pages exist in that variant only, and only after the agreement."""
    if get_setting("variant") != "retention":
        abort(404)
    if session.get("agreed") != g.member.account:
        return redirect(url_for("migu.unsubscribe_agreement"))
    return None


@bp.route("/member/unsubscribe/offer", methods=["GET", "POST"])
@login_required
def unsubscribe_offer() -> ResponseReturnValue:
    """挽留: a discount to stay; going on with the unsubscribe is possible, but small and grey."""
    refused = _retention_only()
    if refused is not None:
        return refused
    if request.method == "POST":
        session.pop("agreed", None)
        flash("已为您领取续费 5 折优惠,会员继续有效")
        return redirect(url_for("migu.member_center"))
    return render_template("migu/retention_offer.html")


@bp.get("/member/unsubscribe/sure")
@login_required
def unsubscribe_sure() -> ResponseReturnValue:
    """确定要离开吗?: one more page between the offer and the confirmation."""
    refused = _retention_only()
    if refused is not None:
        return refused
    session["past_offer"] = g.member.account
    return render_template("migu/retention_sure.html")


def _may_confirm() -> bool:
    if session.get("agreed") != g.member.account:
        return False
    return get_setting("variant") != "retention" or session.get("past_offer") == g.member.account


@bp.route("/member/unsubscribe/confirm", methods=["GET", "POST"])
@login_required
def unsubscribe_confirm() -> ResponseReturnValue:
    conn = get_db()
    if request.method == "POST":
        token = request.form.get("token", "")
        if g.member.status == "unsubscribed" and store.issued_receipt(conn, g.member.account, token) is None:
            return render_template("migu/already.html", receipts=store.receipts_for(conn, g.member.account)), 409
        if not _may_confirm() and store.issued_receipt(conn, g.member.account, token) is None:
            flash("请先阅读并同意退订协议", "error")
            return redirect(url_for("migu.unsubscribe_agreement"))
        try:
            receipt = store.unsubscribe(conn, g.member.account, request.form.get("token", ""), g.now)
        except store.AlreadyUnsubscribed:
            return render_template("migu/already.html", receipts=store.receipts_for(conn, g.member.account)), 409
        except store.UnknownToken:
            flash("确认页面已过期,请重新确认", "error")
            return redirect(url_for("migu.unsubscribe_agreement"))
        session.pop("agreed", None)
        session.pop("past_offer", None)
        if get_setting("variant") == "no_receipt":
            return redirect(url_for("migu.unsubscribe_submitted"))
        return redirect(url_for("migu.receipt", receipt_no=receipt.receipt_no))
    if g.member.status == "unsubscribed":
        return render_template("migu/already.html", receipts=store.receipts_for(conn, g.member.account)), 409
    if not _may_confirm():
        flash("请先阅读并同意退订协议", "error")
        return redirect(url_for("migu.unsubscribe_agreement"))
    return render_template("migu/confirm.html", token=store.new_confirm_token(conn, g.member.account))


@bp.get("/member/unsubscribe/submitted")
@login_required
def unsubscribe_submitted() -> ResponseReturnValue:
    """The no_receipt variant's last page: 已提交, no reference number, no date-time."""
    return render_template("migu/submitted.html")


@bp.get("/member/receipts/<receipt_no>")
@login_required
def receipt(receipt_no: str) -> ResponseReturnValue:
    return render_template("migu/receipt.html", receipt=own_receipt(receipt_no))


@bp.get("/member/receipts/<receipt_no>.png")
@login_required
def receipt_image(receipt_no: str) -> ResponseReturnValue:
    from .receipt_image import render_png

    r = own_receipt(receipt_no)
    return download(render_png(r), "image/png", f"退订凭证-{r.receipt_no}.png", f"receipt-{r.receipt_no}.png")


@bp.get("/member/history")
@login_required
def history() -> ResponseReturnValue:
    return render_template("migu/history.html", receipts=store.receipts_for(get_db(), g.member.account))


@bp.route("/member/pause", methods=["GET", "POST"])
@login_required
def pause() -> ResponseReturnValue:
    m = g.member
    error = None
    if m.status != "active":
        error = f"当前会员状态为「{m.status_label}」,无法暂停"
    elif request.method == "POST":
        raw = request.form.get("months", "")
        if not raw.isdigit() or int(raw) not in rules.PAUSE_MONTHS:
            error = "请选择暂停时长"
        else:
            p = store.pause_member(get_db(), m, int(raw), g.now)
            flash(f"会员已暂停,将于 {p.resumes_on:%Y-%m-%d} 自动恢复,剩余 {p.remaining_days} 天权益已为您保留")
            return redirect(url_for("migu.member_center"))
    return render_template("migu/pause.html", error=error, options=rules.PAUSE_MONTHS), (
        400 if error and request.method == "POST" else 200
    )


@bp.post("/member/resume")
@login_required
def resume() -> ResponseReturnValue:
    if g.member.status != "paused":
        flash("会员未处于暂停状态", "error")
        return redirect(url_for("migu.manage"))
    expires = store.resume_member(get_db(), g.member, g.now)
    flash(f"会员已恢复,有效期至 {expires:%Y-%m-%d}")
    return redirect(url_for("migu.member_center"))
