"""The unsubscribe flow: 退订原因 → 身份验证 (短信 / 人脸 / 安全问题) → 确认退订信息 → 处理中 → 退订进度."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from .. import sms
from ..db import get_db, get_setting
from ..security import account_lock
from . import bp, notices, rules, store
from .views import login_required

ENTRIES = ("settings", "account", "help")


def _processing() -> timedelta:
    return timedelta(hours=float(get_setting("processing_hours")))


@bp.get("/unsubscribe")
@login_required
def unsubscribe_start() -> ResponseReturnValue:
    """The one flow behind the three entries; `from` says which one the user took."""
    req = store.open_request(get_db(), g.account.phone)
    if req is not None:
        flash("您已提交过退订申请,以下是办理进度")
        return redirect(url_for("cloudpc.progress", request_id=req.id))
    entry = request.args.get("from", "")
    session["cp_entry"] = entry if entry in ENTRIES else "direct"
    for key in ("cp_reason", "cp_reason_text", "cp_verified"):
        session.pop(key, None)
    if get_setting("variant") == "one_click":
        return redirect(url_for("cloudpc.one_click"))
    return redirect(url_for("cloudpc.reason"))


@bp.route("/unsubscribe/reason", methods=["GET", "POST"])
@login_required
def reason() -> ResponseReturnValue:
    error, chosen, other = None, session.get("cp_reason", ""), session.get("cp_reason_text", "")
    if request.method == "POST":
        chosen, other = request.form.get("reason", ""), request.form.get("other", "")
        forced = get_setting("variant") == "forced_reason"
        error = rules.reason_problem(chosen, other, forced=forced)
        if error is None:
            session["cp_reason"], session["cp_reason_text"] = chosen, other.strip() if chosen == "其他" or forced else ""
            if get_setting("variant") == "retention":
                return redirect(url_for("cloudpc.offer"))
            return redirect(url_for("cloudpc.verify"))
    return render_template(
        "cloudpc/reason.html", reasons=rules.REASONS, error=error, chosen=chosen, other=other, limit=rules.OTHER_MAX
    ), (400 if error else 200)


@bp.route("/unsubscribe/offer", methods=["GET", "POST"])
@login_required
def offer() -> ResponseReturnValue:
    """The retention variant: a discount between the reason and the verification; going on is a small grey link."""
    if get_setting("variant") != "retention":
        abort(404)
    if "cp_reason" not in session:
        return redirect(url_for("cloudpc.reason"))
    if request.method == "POST":
        for key in ("cp_reason", "cp_reason_text", "cp_verified"):
            session.pop(key, None)
        flash("已为您保留云电脑服务,续订享 7 折优惠已生效")
        return redirect(url_for("cloudpc.home"))
    return render_template("cloudpc/offer.html")


def _method() -> str:
    # SMS is the fallback for every method (no camera, a locked security question).
    wanted = request.values.get("method", "")
    return "sms" if wanted == "sms" else g.account.verify_method


@bp.get("/unsubscribe/verify")
@login_required
def verify() -> ResponseReturnValue:
    if "cp_reason" not in session:
        return redirect(url_for("cloudpc.reason"))
    method = _method()
    wrong, last = store.sms_status(get_db(), g.account.phone)
    if method == "face":
        session["cp_face_nonce"] = secrets.token_urlsafe(12)
    return render_template(
        "cloudpc/verify.html",
        method=method,
        wait=rules.resend_wait(last, g.now),
        sent=last is not None,
        nonce=session.get("cp_face_nonce", ""),
        error=None,
    )


@bp.post("/unsubscribe/verify/send")
@login_required
def send_code() -> ResponseReturnValue:
    conn = get_db()
    _, last = store.sms_status(conn, g.account.phone)
    wait = rules.resend_wait(last, g.now)
    if wait:
        flash(f"验证码发送过于频繁,请 {wait} 秒后再获取", "error")
    else:
        sms.send_code(
            conn, g.account.phone, "unsubscribe", "【移动云电脑】您正在申请退订,验证码 {code},5 分钟内有效,请勿泄露。", g.now
        )
        store.sms_sent(conn, g.account.phone, g.now)
        flash(f"验证码已发送至 {g.account.masked}")
    return redirect(url_for("cloudpc.verify", method="sms"))


@bp.post("/unsubscribe/verify")
@login_required
def verify_submit() -> ResponseReturnValue:
    if "cp_reason" not in session:
        return redirect(url_for("cloudpc.reason"))
    conn, phone, method = get_db(), g.account.phone, _method()
    error = None
    if method == "sms":
        code = request.form.get("code", "").strip()
        with account_lock(f"cloudpc:{phone}"):  # concurrent guesses are counted one at a time
            wrong, last = store.sms_status(conn, phone)
            latest = sms.latest(conn, phone, "unsubscribe")
            if not re.fullmatch(r"\d{6}", code):
                error = "请输入 6 位数字验证码"
            elif latest is None or last is None:
                error = "请先获取验证码"
            elif wrong >= rules.SMS_MAX_WRONG:
                error = "验证码错误次数过多已失效,请重新获取"
            elif not sms.code_is_valid(latest, code, g.now):
                if g.now - last > sms.CODE_TTL:
                    error = "验证码已过期,请重新获取"
                else:
                    left = rules.SMS_MAX_WRONG - store.sms_wrong(conn, phone)
                    error = f"验证码错误,还可尝试 {left} 次" if left > 0 else "验证码错误次数过多已失效,请重新获取"
    elif method == "face":
        nonce = session.pop("cp_face_nonce", None)
        given = request.form.get("face_nonce", "")
        if not nonce or not given.isascii() or not secrets.compare_digest(nonce, given):
            error = "人脸识别未完成,请重新识别或改用短信验证"
    else:
        answer = request.form.get("answer", "")
        if not answer.strip():
            error = "请输入安全问题的答案"
        elif len(answer) > rules.ANSWER_MAX:
            error = f"答案最多 {rules.ANSWER_MAX} 个字"
        else:
            with account_lock(f"cloudpc:{phone}"):
                ok, error = store.question_check(conn, phone, answer, g.now)
            error = None if ok else error
    if error:
        wrong, last = store.sms_status(conn, phone)
        if method == "face":
            session["cp_face_nonce"] = secrets.token_urlsafe(12)
        return render_template(
            "cloudpc/verify.html",
            method=method,
            wait=rules.resend_wait(last, g.now),
            sent=last is not None,
            nonce=session.get("cp_face_nonce", ""),
            error=error,
        ), 400
    session["cp_verified"] = {"phone": phone, "method": method}
    return redirect(url_for("cloudpc.confirm"))


@bp.route("/unsubscribe/confirm", methods=["GET", "POST"])
@login_required
def confirm() -> ResponseReturnValue:
    verified = session.get("cp_verified") or {}
    if verified.get("phone") != g.account.phone or "cp_reason" not in session:
        flash("请先完成身份验证", "error")
        return redirect(url_for("cloudpc.reason"))
    error = None
    if request.method == "POST":
        if request.form.get("agree") != "yes":
            error = "请阅读并勾选同意《退订条款》"
        else:
            req, created = store.create_request(
                get_db(),
                g.account.phone,
                session["cp_reason"],
                session.get("cp_reason_text", ""),
                verified["method"],
                "standard",
                g.now,
                _processing(),
            )
            for key in ("cp_reason", "cp_reason_text", "cp_verified"):
                session.pop(key, None)
            if created:
                notices.mail_request(get_db(), req, g.now)
            return redirect(url_for("cloudpc.progress", request_id=req.id))
    return render_template(
        "cloudpc/confirm.html", refund=g.account.refund(g.now.date()), hours=_processing().total_seconds() / 3600, error=error
    ), (400 if error else 200)


@bp.route("/unsubscribe/one-click", methods=["GET", "POST"])
@login_required
def one_click() -> ResponseReturnValue:
    """The guide's suggested simpler design: one page, one button (the session is the identity check)."""
    if get_setting("variant") != "one_click":
        abort(404)
    if request.method == "POST":
        chosen = request.form.get("reason", "") or "未填写"
        if chosen != "未填写" and chosen not in rules.REASONS[:-1]:
            chosen = "未填写"
        req, created = store.create_request(get_db(), g.account.phone, chosen, "", "session", "one_click", g.now, _processing())
        if created:
            notices.mail_request(get_db(), req, g.now)
        return redirect(url_for("cloudpc.progress", request_id=req.id))
    return render_template(
        "cloudpc/one_click.html",
        refund=g.account.refund(g.now.date()),
        reasons=rules.REASONS[:-1],
        hours=_processing().total_seconds() / 3600,
    )


@bp.get("/progress")
@login_required
def progress_list() -> ResponseReturnValue:
    return render_template("cloudpc/progress_list.html", requests=store.requests_for(get_db(), g.account.phone))


@bp.get("/progress/<request_id>")
@login_required
def progress(request_id: str) -> ResponseReturnValue:
    req = store.get_request(get_db(), g.account.phone, request_id)
    if req is None:
        abort(404)
    return render_template("cloudpc/progress.html", req=req, state=req.state(g.now))
