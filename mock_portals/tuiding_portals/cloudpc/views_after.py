"""After the unsubscribe: data backup (ZIP), 注销账户, 评价 / 建议."""

from __future__ import annotations

import io
import json
import zipfile

from flask import flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash

from .. import ordering, sms
from ..db import get_db
from ..downloads import download
from ..security import end_session
from . import bp, rules, store
from .seed import INSTALLED_SOFTWARE
from .views import login_required

FEEDBACK_MAX = 500
DELETE_WORD = "注销"


@bp.get("/account/backup")
@login_required
def backup() -> ResponseReturnValue:
    return render_template("cloudpc/backup.html", documents=store.documents_for(get_db(), g.account.phone))


@bp.get("/account/backup.zip")
@login_required
def backup_zip() -> ResponseReturnValue:
    """A real ZIP: the document list and the account's settings as JSON, plus a readme."""
    docs = store.documents_for(get_db(), g.account.phone)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("documents.json", json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=2))
        z.writestr(
            "settings.json",
            json.dumps(
                {
                    "phone": g.account.masked,
                    "plan": g.account.plan_name,
                    "resolution": "1920x1080",
                    "input_method": "搜狗拼音",
                    "auto_sleep_minutes": 30,
                    "installed_software": list(INSTALLED_SOFTWARE),
                },
                ensure_ascii=False,
                indent=2,
            ),
        )
        z.writestr("说明.txt", f"移动云电脑数据备份\n导出时间:{g.now:%Y-%m-%d %H:%M:%S}\n文件数:{len(docs)}\n")
    name = f"云电脑备份-{g.account.phone[-4:]}-{g.now:%Y%m%d}.zip"
    return download(buf.getvalue(), "application/zip", name, f"cloudpc-backup-{g.account.phone[-4:]}.zip")


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account() -> ResponseReturnValue:
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        word = request.form.get("confirm_word", "").strip()
        row = get_db().execute("SELECT password_hash FROM cloudpc_account WHERE phone=?", (g.account.phone,)).fetchone()
        if store.open_request(get_db(), g.account.phone) is None:
            error = "请先退订云电脑服务,再注销账户"
        elif request.form.get("understand") != "yes":
            error = "请勾选「我已了解注销后数据将无法恢复」"
        elif word != DELETE_WORD:
            error = f"请输入「{DELETE_WORD}」二字以确认"
        elif not password or not check_password_hash(row["password_hash"], password):
            error = "登录密码不正确"
        else:
            store.delete_account(get_db(), g.account.phone)
            end_session()
            flash("账户已注销,感谢您使用移动云电脑")
            return redirect(url_for("cloudpc.login"))
    return render_template("cloudpc/delete.html", error=error, word=DELETE_WORD), (400 if error else 200)


@bp.route("/feedback", methods=["GET", "POST"])
@login_required
def feedback() -> ResponseReturnValue:
    error, text, rating = None, "", ""
    if request.method == "POST":
        rating, text = request.form.get("rating", ""), request.form.get("text", "").strip()
        if rating not in ("1", "2", "3", "4", "5"):
            error = "请选择 1–5 星评价"
        elif len(text) > FEEDBACK_MAX:
            error = f"建议最多 {FEEDBACK_MAX} 字(当前 {len(text)} 字)"
        else:
            store.add_feedback(get_db(), g.account.phone, int(rating), text, g.now)
            flash("感谢您的评价与建议")
            return redirect(url_for("cloudpc.feedback"))
    return render_template(
        "cloudpc/feedback.html",
        error=error,
        text=text,
        rating=rating,
        limit=FEEDBACK_MAX,
        items=store.feedback_for(get_db(), g.account.phone),
    ), (400 if error else 200)


@bp.route("/order", methods=["GET", "POST"])
@login_required
def order() -> ResponseReturnValue:
    """重新订购, step 1 of 4: the plan and its auto-renewal, agreed to explicitly (网络交易监督管理办法 第十八条);
    then the payment, an SMS second confirmation (二次确认) and the order number — the sign-up journey a
    cancellation is measured against."""
    req = store.open_request(get_db(), g.account.phone)
    state = req.state(g.now) if req else None
    if not rules.can_order(state):
        flash("您的云电脑服务正在使用中,无需订购" if state is None else "退订处理完成后才能重新订购", "error")
        return redirect(url_for("cloudpc.account_page"))
    error, plan = None, request.form.get("plan", "monthly")
    if request.method == "POST":
        if plan not in rules.ORDER_PLANS:
            error = "请选择套餐"
        elif request.form.get("agree_autorenew") != "yes":
            error = "请先阅读并同意《自动续费服务协议》"
        else:
            session["cp_order"] = {"phone": g.account.phone, "plan": plan, "pay": g.account.payment_account}
            return redirect(url_for("cloudpc.order_pay"))
    return render_template("cloudpc/order.html", plans=rules.ORDER_PLANS, plan=plan, error=error), (400 if error else 200)


def _pending() -> dict | None:
    """The order being placed in this session, for this account, while ordering is still allowed."""
    order = session.get("cp_order")
    if not isinstance(order, dict) or order.get("phone") != g.account.phone or order.get("plan") not in rules.ORDER_PLANS:
        return None
    req = store.open_request(get_db(), g.account.phone)
    return order if rules.can_order(req.state(g.now) if req else None) else None


@bp.route("/order/pay", methods=["GET", "POST"])
@login_required
def order_pay() -> ResponseReturnValue:
    order = _pending()
    if order is None:
        return redirect(url_for("cloudpc.order"))
    methods = ordering.payment_choices(
        [g.account.payment_account], [f"话费支付 ({g.account.masked})", f"和包支付 ({g.account.masked})"]
    )
    page = {"plan": rules.ORDER_PLANS[order["plan"]], "methods": methods, "chosen": order["pay"]}
    if request.method == "POST":
        chosen = request.form.get("pay", "")
        if chosen not in methods:
            return render_template("cloudpc/order_pay.html", **page, error="请选择支付方式"), 400
        session["cp_order"] = {**order, "pay": chosen}
        return redirect(url_for("cloudpc.order_confirm"))
    return render_template("cloudpc/order_pay.html", **page, error=None)


def _order_confirm_page(order: dict, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "cloudpc/order_confirm.html",
        order=order,
        plan=rules.ORDER_PLANS[order["plan"]],
        wait=ordering.resend_wait(g.account.phone, g.now),
        sent=sms.latest(get_db(), g.account.phone, ordering.PURPOSE) is not None,
        error=error,
    ), status


@bp.route("/order/confirm", methods=["GET", "POST"])
@login_required
def order_confirm() -> ResponseReturnValue:
    """二次确认: nothing is charged without the SMS code sent to the account's phone."""
    order = _pending()
    if order is None:
        return redirect(url_for("cloudpc.order"))
    if request.method == "GET":
        return _order_confirm_page(order)
    phone = g.account.phone
    error = ordering.check_code(f"cloudpc:{phone}", phone, request.form.get("code", ""), g.now)
    if error:
        return _order_confirm_page(order, error, 400)
    end = store.order_again(get_db(), phone, order["plan"], g.now.date())
    done = ordering.placed("DG", g.now)
    name, price, months = rules.ORDER_PLANS[order["plan"]]
    session.pop("cp_order", None)
    session["cp_order_done"] = {
        "phone": phone, "order_no": done.order_no, "at": done.at, "plan": name, "price": price,
        "period": "月" if months == 1 else "年", "pay": order["pay"], "end": f"{end:%Y-%m-%d}",
    }  # fmt: skip
    return redirect(url_for("cloudpc.order_done"))


@bp.post("/order/confirm/send")
@login_required
def order_send_code() -> ResponseReturnValue:
    order = _pending()
    if order is None:
        return redirect(url_for("cloudpc.order"))
    name, price, _ = rules.ORDER_PLANS[order["plan"]]
    text = f"【移动云电脑】您正在订购{name},资费 {price} 元,验证码 {{code}},5 分钟内有效,请勿泄露。"
    wait = ordering.send_code(g.account.phone, text, g.now)
    flash(
        f"验证码发送过于频繁,请 {wait} 秒后再获取" if wait else f"验证码已发送至 {g.account.masked}", "error" if wait else "info"
    )
    return redirect(url_for("cloudpc.order_confirm"))


@bp.get("/order/done")
@login_required
def order_done() -> ResponseReturnValue:
    done = session.get("cp_order_done")
    if not isinstance(done, dict) or done.get("phone") != g.account.phone:
        return redirect(url_for("cloudpc.account_page"))
    return render_template("cloudpc/order_done.html", done=done)
