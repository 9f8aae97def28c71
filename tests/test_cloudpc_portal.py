"""移动云电脑 portal rules through Flask's test client (real SQLite file per test)."""

import io
import json
import re
import sqlite3
import zipfile
from datetime import datetime

PORTAL = "cloudpc"  # the `app` and `client` fixtures (tests/conftest.py) serve this portal


def db(app):
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    return conn


def start(client, reason="费用过高", other=""):
    client.get("/unsubscribe?from=settings")
    return client.post("/unsubscribe/reason", data={"reason": reason, "other": other})


def sms_verify(client, phone="13900000001"):
    client.post("/unsubscribe/verify/send")
    code = client.get(f"/__mock__/sms/latest?phone={phone}&purpose=unsubscribe").json["code"]
    return client.post("/unsubscribe/verify", data={"method": "sms", "code": code})


def submit(client):
    r = client.post("/unsubscribe/confirm", data={"agree": "yes"})
    assert r.status_code == 302 and "/progress/" in r.location, r.data[:300]
    return r.location


def test_the_three_entries_lead_to_the_same_flow(client, auth):
    auth.login()
    for page, entry in (("/settings", "settings"), ("/account", "account"), ("/help", "help")):
        html = client.get(page).text
        assert f"/unsubscribe?from={entry}" in html, page
        assert client.get(f"/unsubscribe?from={entry}").location == "/unsubscribe/reason"


def test_reason_rules_and_other_text_shown_back_escaped(client, auth):
    auth.login()
    assert "请选择退订原因" in start(client, reason="").text
    assert "请填写具体原因" in start(client, reason="其他", other=" ").text
    assert "最多 200 字" in start(client, reason="其他", other="长" * 201).text
    r = start(client, reason="其他", other="<script>alert(1)</script>")
    assert r.status_code == 302
    page = client.get("/unsubscribe/reason").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_sms_code_rules_wrong_tries_expiry_and_throttle(client, app, auth):
    auth.login()
    start(client)
    assert "请先获取验证码" in client.post("/unsubscribe/verify", data={"method": "sms", "code": "123456"}).text
    client.post("/unsubscribe/verify/send")
    assert "请 " in client.post("/unsubscribe/verify/send", follow_redirects=True).text  # resend within 60 s refused
    assert len(client.get("/__mock__/sms?phone=13900000001").json["messages"]) == 1
    code = client.get("/__mock__/sms/latest?phone=13900000001").json["code"]
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        assert f"还可尝试 {left} 次" in client.post("/unsubscribe/verify", data={"method": "sms", "code": wrong}).text
    assert "错误次数过多已失效" in client.post("/unsubscribe/verify", data={"method": "sms", "code": wrong}).text
    assert "错误次数过多已失效" in client.post("/unsubscribe/verify", data={"method": "sms", "code": code}).text
    client.post("/__mock__/clock/advance", json={"seconds": 61})
    client.post("/unsubscribe/verify/send")  # a new code restores the tries
    code = client.get("/__mock__/sms/latest?phone=13900000001").json["code"]
    client.post("/__mock__/clock/advance", json={"minutes": 6})
    assert "已过期" in client.post("/unsubscribe/verify", data={"method": "sms", "code": code}).text
    assert "6 位数字" in client.post("/unsubscribe/verify", data={"method": "sms", "code": "12ab"}).text


def test_face_verification_needs_the_page_issued_nonce_and_offers_sms(client, auth):
    auth.login("13900000002")
    start(client)
    page = client.get("/unsubscribe/verify").text
    assert "getUserMedia" in page and "改用短信验证" in page
    nonce = re.search(r'face-nonce\'\)\.value = "([^"]+)"', page).group(1)
    assert "人脸识别未完成" in client.post("/unsubscribe/verify", data={"method": "face", "face_nonce": "forged"}).text
    page = client.get("/unsubscribe/verify").text
    nonce = re.search(r'face-nonce\'\)\.value = "([^"]+)"', page).group(1)
    assert client.post("/unsubscribe/verify", data={"method": "face", "face_nonce": nonce}).location == "/unsubscribe/confirm"


def test_sms_fallback_works_for_a_face_account(client, auth):
    auth.login("13900000002")
    start(client)
    assert "短信验证码" in client.get("/unsubscribe/verify?method=sms").text
    assert sms_verify(client, "13900000002").location == "/unsubscribe/confirm"


def test_security_question_is_insensitive_and_locks_after_three(client, app, auth):
    auth.login("13900000003")
    start(client)
    for left in (2, 1):
        assert f"还可尝试 {left} 次" in client.post("/unsubscribe/verify", data={"method": "question", "answer": "光明小学"}).text
    assert "锁定 30 分钟" in client.post("/unsubscribe/verify", data={"method": "question", "answer": "光明小学"}).text
    assert "已锁定" in client.post("/unsubscribe/verify", data={"method": "question", "answer": "新华小学"}).text
    client.post("/__mock__/clock/advance", json={"minutes": 31})
    r = client.post("/unsubscribe/verify", data={"method": "question", "answer": " 新华　小学 "})
    assert r.location == "/unsubscribe/confirm"


def test_confirm_needs_verification_and_agreement(client, auth):
    auth.login()
    start(client)
    assert client.get("/unsubscribe/confirm").location == "/unsubscribe/reason"
    sms_verify(client)
    page = client.get("/unsubscribe/confirm").text
    for text in ("260.71 元", "289.68 元", "违约金 28.97 元", "原路退回至 支付宝", "7–15 个工作日"):
        assert text in page
    assert "请阅读并勾选" in client.post("/unsubscribe/confirm", data={}).text


def test_processing_then_done_then_refund_by_the_clock(client, app, auth):
    auth.login()
    start(client)
    sms_verify(client)
    progress = submit(client)
    assert "处理中" in client.get(progress).text and "待退款" in client.get(progress).text
    client.post("/__mock__/clock/advance", json={"hours": 23})
    assert "处理中" in client.get(progress).text
    client.post("/__mock__/clock/advance", json={"hours": 2})
    page = client.get(progress).text
    assert "已退订" in page and "退款中" in page
    by = db(app).execute("SELECT refund_by FROM cloudpc_request WHERE phone='13900000001'").fetchone()[0]
    now = datetime.fromisoformat(client.get("/__mock__/clock").json["now"]).date()
    from datetime import date

    client.post("/__mock__/clock/advance", json={"days": (date.fromisoformat(by) - now).days + 1})
    assert "已退款" in client.get(progress).text


def test_processing_delay_is_a_setting(client, app, auth):
    assert client.post("/__mock__/settings", json={"processing_hours": "2"}).json["processing_hours"] == "2"
    auth.login()
    start(client)
    sms_verify(client)
    assert "约 2 小时内处理完成" in client.get("/unsubscribe/confirm").text
    progress = submit(client)
    client.post("/__mock__/clock/advance", json={"hours": 2})
    assert "已退订" in client.get(progress).text


def test_settings_api_rejects_unknown_names_and_values(client):
    assert client.post("/__mock__/settings", json={"variant": "two_click"}).status_code == 400
    assert client.post("/__mock__/settings", json={"colour": "red"}).status_code == 400
    assert client.post("/__mock__/settings", json={"processing_hours": "-1"}).status_code == 400
    # A mock never mails the world: only a server on this machine, or none (the outbox only).
    for far in ("smtp.example.com:25", "10.0.0.1:25", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1"):
        assert client.post("/__mock__/settings", json={"mail_smtp": far}).status_code == 400, far
    assert client.get("/__mock__/settings").json == {"variant": "standard", "processing_hours": "24", "mail_smtp": ""}


def test_one_request_per_account_and_seeded_request_in_processing(client, app, auth):
    auth.login("13900000005")
    r = client.get("/unsubscribe?from=account")
    assert "/progress/TD" in r.location
    assert "处理中" in client.get(r.location).text
    client.post("/logout")
    auth.login()
    start(client)
    sms_verify(client)
    first = submit(client)
    assert client.get("/unsubscribe?from=help").location == first
    assert db(app).execute("SELECT count(*) FROM cloudpc_request WHERE phone='13900000001'").fetchone()[0] == 1


def test_nothing_to_refund_shows_so(client, auth):
    auth.login("13900000004")
    start(client)
    sms_verify(client, "13900000004")
    assert "0.00 元" in client.get("/unsubscribe/confirm").text
    page = client.get(submit(client)).text
    assert "无可退金额" in page and "预计到账" not in page


def test_one_click_variant(client, app, auth):
    auth.login("13900000002")
    assert client.get("/unsubscribe/one-click").status_code == 404  # only in the variant
    client.post("/__mock__/settings", json={"variant": "one_click"})
    assert client.get("/unsubscribe?from=account").location == "/unsubscribe/one-click"
    assert "26.00 元" in client.get("/unsubscribe/one-click").text
    r = client.post("/unsubscribe/one-click", data={"reason": "<b>bad</b>"})
    row = db(app).execute("SELECT reason, flow FROM cloudpc_request WHERE phone='13900000002'").fetchone()
    assert tuple(row) == ("未填写", "one_click") and "/progress/" in r.location


def test_backup_is_a_real_zip_of_the_documents(client, auth):
    from tuiding_portals.cloudpc.seed import DOCUMENTS

    auth.login()
    r = client.get("/account/backup.zip")
    assert r.mimetype == "application/zip" and r.headers["Content-Disposition"].encode("latin-1")
    z = zipfile.ZipFile(io.BytesIO(r.data))
    assert {"documents.json", "settings.json", "说明.txt"} <= set(z.namelist())
    assert sorted(d["path"] for d in json.loads(z.read("documents.json"))) == sorted(p for p, _ in DOCUMENTS)


def test_delete_account_needs_unsubscribe_word_and_password_then_login_fails(client, app, auth):
    auth.login("13900000006")
    form = {"understand": "yes", "confirm_word": "注销", "password": "cloud-pass-006"}
    assert "请先退订" in client.post("/account/delete", data=form).text
    start(client)
    sms_verify(client, "13900000006")
    submit(client)
    assert "请勾选" in client.post("/account/delete", data={**form, "understand": ""}).text
    assert "请输入「注销」" in client.post("/account/delete", data={**form, "confirm_word": "删除"}).text
    assert "密码不正确" in client.post("/account/delete", data={**form, "password": "x"}).text
    assert db(app).execute("SELECT deleted FROM cloudpc_account WHERE phone='13900000006'").fetchone()[0] == 0
    assert client.post("/account/delete", data=form).location == "/login"
    r = auth.login("13900000006")
    assert r.status_code == 400 and "已注销" in r.text


def test_feedback_is_stored_and_listed(client, app, auth):
    auth.login()
    assert "请选择 1–5 星" in client.post("/feedback", data={"rating": "9", "text": "x"}).text
    assert "最多 500 字" in client.post("/feedback", data={"rating": "3", "text": "长" * 501}).text
    client.post("/feedback", data={"rating": "4", "text": "<i>希望更快</i>"})
    page = client.get("/feedback").text
    assert "★★★★☆" in page and "&lt;i&gt;希望更快&lt;/i&gt;" in page
    assert db(app).execute("SELECT count(*) FROM cloudpc_feedback").fetchone()[0] == 1


def test_pages_need_login_and_phone_viewport_css_exists(client):
    for path in ("/", "/settings", "/account", "/unsubscribe", "/progress", "/feedback", "/account/backup"):
        assert "/login" in client.get(path).location
    css = client.get("/static/cloudpc/cloudpc.css").text
    assert "@media (max-width: 640px)" in css


def test_renewal_reminders_go_to_accounts_that_renew_and_not_to_those_leaving(tmp_path):
    """自动续费提醒 5 days ahead; an account with an unsubscribe request (13900000005's seeded one) gets none."""
    from tuiding_portals import create_app

    app = create_app("cloudpc", database=tmp_path / "s.db", test_api=True, clock="2026-11-20T10:00:00+08:00")
    client = app.test_client()
    latest = "/__mock__/sms/latest?phone={}&purpose=renewal"
    client.post("/__mock__/clock/advance", json={"days": 5})  # 2026-11-25
    due = client.get(latest.format("13900000006")).get_json()  # renews 2026-11-30
    assert "2026-11-30 到期并自动续费" in due["text"] and "申请退订" in due["text"]
    assert client.get(latest.format("13900000002")).status_code == 404  # renews 12-10: not yet
    client.post("/__mock__/clock/advance", json={"days": 8})  # 2026-12-03
    assert client.get(latest.format("13900000005")).status_code == 404  # renews 12-08, but is leaving


def test_ordering_again_needs_the_service_ended_and_the_auto_renewal_agreed(tmp_path):
    from support import form_client

    from tuiding_portals import create_app

    app = create_app("cloudpc", database=tmp_path / "s.db", test_api=True, clock="2026-11-20T10:00:00+08:00")
    in_use, leaving = form_client(app), form_client(app)
    in_use.post("/login", data={"phone": "13900000001", "password": "cloud-pass-001"})
    assert "/account" in in_use.get("/order").location  # a service in use is not ordered again
    leaving.post("/login", data={"phone": "13900000005", "password": "cloud-pass-005"})
    assert "/account" in leaving.get("/order").location  # its unsubscribe is still 处理中
    leaving.post("/__mock__/clock/advance", json={"days": 1})
    page = leaving.get("/order").text
    assert 'data-testid="autorenew-disclosure"' in page and "续费前 5 天短信提醒" in page
    refused = leaving.post("/order", data={"plan": "monthly"})
    assert refused.status_code == 400 and "请先阅读并同意《自动续费服务协议》" in refused.text
    leaving.post("/order", data={"plan": "annual", "agree_autorenew": "yes"})
    leaving.post("/order/pay", data={"pay": "话费支付 (139****0005)"})
    leaving.post("/order/confirm/send")
    code = leaving.get("/__mock__/sms/latest?phone=13900000005&purpose=order").get_json()["code"]
    done = leaving.post("/order/confirm", data={"code": code}, follow_redirects=True).text
    assert "个人版 年付" in done and "服务期至</dt><dd>2027-11-21" in done and "话费支付 (139****0005)" in done
    assert "使用中" in leaving.get("/account").text
    assert "TD20261120" in leaving.get("/progress").text  # the finished unsubscribe stays in the history
    assert leaving.get("/unsubscribe?from=account").location.endswith("/unsubscribe/reason")  # and can be done again
