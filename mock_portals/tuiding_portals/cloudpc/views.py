"""Cloud PC: login, the three places the unsubscribe entry lives (设置 / 账户管理 / 帮助中心), help pages."""

from __future__ import annotations

import re

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..db import get_clock, get_db, get_setting
from ..guards import requires
from ..security import end_session, safe_next, session_account, start_session
from . import bp, rules, store

PHONE_RE = re.compile(r"^1\d{10}$")


@bp.before_app_request
def _load_account() -> None:
    g.now = get_clock().now()
    store.send_due_renewal_reminders(get_db(), g.now)
    phone = session_account()
    acct = store.find_account(get_db(), phone) if phone else None
    g.account = acct if acct and not acct.deleted else None


@bp.app_context_processor
def _inject() -> dict:
    return {"account": g.get("account"), "today": g.now.date() if "now" in g else None, "variant": get_setting("variant")}


login_required = requires("account", "cloudpc.login")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error, phone = None, ""
    if request.method == "POST":
        phone = request.form.get("phone", "").strip()
        password = request.form.get("password", "")
        if not PHONE_RE.match(phone) or not password:
            error = "请输入 11 位手机号和密码"
        else:
            acct, error = store.login(get_db(), phone, password)
            if acct is not None:
                start_session(acct.phone)
                return redirect(safe_next(request.args.get("next"), url_for("cloudpc.home")))
    return render_template("cloudpc/login.html", error=error, phone=phone), (400 if error else 200)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    end_session()
    return redirect(url_for("cloudpc.login"))


def _with_status(template: str) -> str:
    """Pages that show the account's status card (_status.html): its open request, if any."""
    req = store.open_request(get_db(), g.account.phone)
    return render_template(template, req=req, state=req.state(g.now) if req else None)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return _with_status("cloudpc/home.html")


@bp.get("/settings")
@login_required
def settings() -> ResponseReturnValue:
    return render_template("cloudpc/settings.html")


@bp.get("/account")
@login_required
def account_page() -> ResponseReturnValue:
    return _with_status("cloudpc/account.html")


@bp.get("/help")
def help_center() -> ResponseReturnValue:
    return render_template("cloudpc/help.html")


@bp.get("/help/terms")
def terms() -> ResponseReturnValue:
    return render_template("cloudpc/terms.html", rules=rules)


@bp.get("/help/uninstall")
def uninstall() -> ResponseReturnValue:
    return render_template("cloudpc/uninstall.html")
