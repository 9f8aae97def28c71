"""The portals behave like careful real services: forms need the session's CSRF token, cross-site POSTs
are refused, redirects stay on the site, logout ends the session on the server, requests are bounded,
and lockout counters hold under concurrent guessing, across channels."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import form_client, post_at_once

from tuiding_portals import create_app
from tuiding_portals.security import safe_next

MIGU_LOGIN = {"account": "13800000001", "password": "migu-pass-001"}
CLOUDPC_LOGIN = {"phone": "13900000001", "password": "cloud-pass-001"}


def test_a_form_without_its_token_is_refused_and_changes_nothing(app):
    plain = app.test_client()  # posts like a forged page: no token, or one made up
    for data in (MIGU_LOGIN, {**MIGU_LOGIN, "csrf_token": "forged"}):
        r = plain.post("/login", data=data)
        assert r.status_code == 400
        assert 'role="alert"' in r.text and "页面已过期" in r.text
        assert "sid" not in (plain.get_cookie("session") or "")
    assert plain.get("/member", follow_redirects=False).status_code == 302  # still not logged in


def test_a_token_from_another_session_is_refused(app):
    mallory, victim = form_client(app), app.test_client()
    stolen = mallory.get("/__mock__/csrf").get_json()["csrf_token"]
    assert victim.post("/login", data={**MIGU_LOGIN, "csrf_token": stolen}).status_code == 400


def test_a_post_from_another_site_is_refused(client):
    r = client.post("/login", data=MIGU_LOGIN, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "其他网站" in r.text
    same = client.post("/login", data=MIGU_LOGIN, headers={"Origin": "http://localhost"})
    assert same.status_code == 302


@pytest.mark.parametrize(
    "nxt",
    ["//evil.example", "/\\evil.example", "/%09/evil.example", "/\t/evil.example", "https://evil.example/", "/\n//evil", ""],
)
def test_login_never_redirects_off_site(client, nxt):
    r = client.post("/login", query_string={"next": nxt}, data=MIGU_LOGIN)
    assert r.status_code == 302
    assert r.location == "/"


def test_login_keeps_a_next_page_on_the_site(client):
    r = client.post("/login", query_string={"next": "/member/manage?x=1"}, data=MIGU_LOGIN)
    assert r.location == "/member/manage?x=1"


def test_safe_next_rules():
    assert safe_next("/member", "/") == "/member"
    for bad in ("//x", "/\\x", "http://x/", "/\tx", "/ x", "x", "javascript:alert(1)", "/\u2028x"):
        assert safe_next(bad, "/") == "/", bad


@pytest.mark.parametrize("portal,login", [("migu", MIGU_LOGIN), ("cloudpc", CLOUDPC_LOGIN)])
def test_logout_ends_the_session_on_the_server(tmp_path: Path, portal, login):
    app = create_app(portal, database=tmp_path / "s.db", test_api=True)
    user = form_client(app)
    assert user.post("/login", data=login).status_code == 302
    cookie = user.get_cookie("session")
    assert cookie is not None
    home = "/member" if portal == "migu" else "/account"
    assert user.get(home).status_code == 200
    user.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)  # the cookie captured before logout
    r = thief.get(home)
    assert r.status_code == 302 and "/login" in r.location


def test_an_oversized_form_is_refused_unread(client):
    r = client.post("/login", data={**MIGU_LOGIN, "pad": "x" * (50 * 1024 * 1024)})
    assert r.status_code == 413 and "请求过大" in r.text


def test_confirming_without_the_agreement_is_refused(client):
    client.post("/login", data=MIGU_LOGIN)
    r = client.post("/member/unsubscribe/confirm", data={})
    assert r.status_code in (302, 400)
    manage = client.get("/member/manage").text
    assert "已退订" not in manage


def test_concurrent_wrong_passwords_lock_after_exactly_the_allowed_attempts(app):
    """A hundred wrong passwords at once: each is judged in turn, so exactly four say how many tries are
    left and every later one is refused as locked — none slips through between check and write."""
    token_client = form_client(app)
    wrong = [{"account": "13800000002", "password": f"wrong-{i}"} for i in range(100)]
    pages = post_at_once(app, token_client, "/login", wrong, threads=20)
    remaining = [p for p in pages if "还可尝试" in p]
    locked = [p for p in pages if "锁定" in p]
    assert len(remaining) == 4, [p for p in pages if "还可尝试" not in p and "锁定" not in p][:1]
    assert len(locked) == 96
    # the lock holds on every channel: the right password is refused on the website too
    r = token_client.post("/login", data={"account": "13800000002", "password": "migu-pass-002"})
    assert "锁定" in r.text


def test_cloudpc_sms_code_guesses_are_counted_one_at_a_time(tmp_path: Path):
    app = create_app("cloudpc", database=tmp_path / "s.db", test_api=True)
    user = form_client(app)
    assert user.post("/login", data=CLOUDPC_LOGIN).status_code == 302
    user.get("/unsubscribe?from=account")
    assert user.post("/unsubscribe/reason", data={"reason": "找到更合适的产品"}).status_code == 302
    user.post("/unsubscribe/verify/send", data={})
    codes = app.test_client().get("/__mock__/sms/latest?phone=13900000001").get_json()
    guesses = [{"code": f"{i:06d}"} for i in range(40) if f"{i:06d}" != codes["code"]]
    pages = post_at_once(app, user, "/unsubscribe/verify", guesses, threads=10)
    left = sorted(p.count("还可尝试") for p in pages)
    assert sum(left) == 4  # SMS_MAX_WRONG = 5: four "还可尝试 n 次", then invalidated
    assert sum("失效" in p for p in pages) == len(pages) - 4
