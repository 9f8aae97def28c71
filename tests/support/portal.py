"""Driving a portal through Flask's test client: forms posted as the portal's pages post them (with the
session's CSRF token), several at once, and signing in as a seed account."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tuiding_portals import create_app

SEED_LOGIN = {"migu": ("account", "13800000001"), "cloudpc": ("phone", "13900000001")}


def form_client(app):
    """A test client that posts forms the way the portal's own pages do: with the session's CSRF token
    (fetched from /__mock__/csrf), unless the test passes its own `csrf_token` to see it refused."""
    from flask.testing import FlaskClient

    class FormClient(FlaskClient):
        def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "/")
            data = kwargs.get("data")
            if kwargs.get("method") == "POST" and not path.startswith("/__mock__/") and kwargs.get("json") is None:
                data = dict(data or {})
                if "csrf_token" not in data:
                    data["csrf_token"] = super().open("/__mock__/csrf").get_json()["csrf_token"]
                kwargs["data"] = data
            return super().open(*args, **kwargs)

    app.test_client_class = FormClient
    return app.test_client()


def post_at_once(app, user, path: str, forms: list[dict[str, str]], threads: int) -> list[str]:
    """POST every form in `user`'s session (its CSRF token included), each from its own client, `threads`
    at a time; the first `threads` wait for one another so they really arrive together. The pages' texts."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    token = user.get("/__mock__/csrf").get_json()["csrf_token"]
    cookie = user.get_cookie("session")
    assert cookie is not None
    barrier = threading.Barrier(min(threads, len(forms)))

    def post(i: int) -> str:
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        if i < threads:
            barrier.wait()
        return c.post(path, data={**forms[i], "csrf_token": token}).text

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, range(len(forms))))


class AuthActions:
    """Sign in and out of the portal under test, as a seed account (flaskr's tests have the same helper):
    `auth.login()` is the first seed account, `auth.login("13800000002")` another one with its seed
    password, `auth.login(password="nope")` a wrong password."""

    def __init__(self, client: Any, portal: str) -> None:
        self.client, self.portal = client, portal

    def login(self, who: str | None = None, password: str | None = None) -> Any:
        field, first = SEED_LOGIN[self.portal]
        who = who or first
        prefix = "migu-pass-00" if self.portal == "migu" else "cloud-pass-00"
        return self.client.post("/login", data={field: who, "password": password or f"{prefix}{who[-1]}"})

    def logout(self) -> Any:
        return self.client.post("/logout")


# ---------------------------------------------------------------- signing up, up to the SMS code

ORDER_CLOCK = "2026-11-20T10:00:00+08:00"
# portal: (login form, phone, order page, after ordering: the account page and the state it shows)
ORDER_PORTALS = {
    "migu": ({"account": "13800000003", "password": "migu-pass-003"}, "13800000003", "/member/subscribe", "/member", "生效中"),
    "cloudpc": ({"phone": "13900000005", "password": "cloud-pass-005"}, "13900000005", "/order", "/account", "使用中"),
}


def order_started(portal: str, tmp_path: Path):
    """A signed-in client whose account may order, past step 1 (auto-renewal agreed) and step 2 (payment)."""
    app = create_app(portal, database=tmp_path / "s.db", test_api=True, clock=ORDER_CLOCK)
    user = form_client(app)
    form, phone, order, _, _ = ORDER_PORTALS[portal]
    assert user.post("/login", data=form).status_code == 302
    if portal == "cloudpc":
        user.post("/__mock__/clock/advance", json={"days": 1})  # its unsubscribe finishes processing
    pay = user.post(order, data={"plan": "monthly", "agree_autorenew": "yes"})
    assert pay.status_code == 302 and pay.location.endswith(f"{order}/pay")
    page = user.get(pay.location).text
    chosen = re.search(r'name="pay" value="([^"]+)" checked', page).group(1)
    confirm = user.post(pay.location, data={"pay": chosen})
    assert confirm.status_code == 302
    return app, user, phone, confirm.location


def order_code(user, phone: str) -> str:
    return user.get(f"/__mock__/sms/latest?phone={phone}&purpose=order").get_json()["code"]
