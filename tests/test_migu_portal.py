"""The Migu website's rules through Flask's test client (real SQLite file per test)."""

import re
import sqlite3
from datetime import datetime

from tuiding_portals import create_app

PORTAL = "migu"  # the `app` and `client` fixtures (tests/conftest.py) serve this portal


def db(app):
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    return conn


def unsubscribe(client):
    assert client.post("/member/unsubscribe", data={"agree": "yes"}).status_code == 302
    page = client.get("/member/unsubscribe/confirm")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return page, token


def test_login_succeeds_and_shows_membership(client, auth):
    assert auth.login().status_code == 302
    page = client.get("/member").text
    for text in ("黄金会员", "生效中", "到期日", "剩余天数", "18 天", "自动续费", "已开通", "支付宝", "咪咕视频 高清片库"):
        assert text in page


def test_wrong_password_shows_error_and_five_failures_lock(client, app, auth):
    for left in (4, 3, 2, 1):
        r = auth.login(password="nope")
        assert r.status_code == 400 and f"还可尝试 {left} 次" in r.text
    r = auth.login(password="nope")
    assert "账号已锁定" in r.text
    assert "账号已锁定" in auth.login().text  # the right password does not get in while locked
    client.post("/__mock__/clock/advance", json={"minutes": 16})
    assert auth.login().status_code == 302


def test_empty_and_hostile_login_input_is_answered_not_crashed(client):
    r = client.post("/login", data={"account": "", "password": ""})
    assert r.status_code == 400 and "请输入账号和密码" in r.text
    r = client.post("/login", data={"account": "<script>alert(1)</script>", "password": "x"})
    assert r.status_code == 400 and "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_forgot_password_resets_with_sms_code_and_lifts_lockout(client, app, auth):
    for _ in range(5):
        auth.login(password="nope")
    assert client.post("/forgot", data={"phone": "13900000000"}).status_code == 400  # not registered
    assert client.post("/forgot", data={"phone": "13800000001"}).status_code == 302
    code = client.get("/__mock__/sms/latest?phone=13800000001&purpose=reset").json["code"]
    wrong = "000000" if code != "000000" else "111111"
    assert (
        "验证码错误"
        in client.post(
            "/forgot/reset", data={"code": wrong, "new_password": "NewPass2026", "confirm_password": "NewPass2026"}
        ).text
    )
    assert (
        "不一致" in client.post("/forgot/reset", data={"code": code, "new_password": "NewPass2026", "confirm_password": "x"}).text
    )
    assert (
        client.post(
            "/forgot/reset", data={"code": code, "new_password": "NewPass2026", "confirm_password": "NewPass2026"}
        ).status_code
        == 302
    )
    assert auth.login(password="migu-pass-001").status_code == 400
    assert auth.login(password="NewPass2026").status_code == 302


def test_sms_code_expires_after_five_minutes(client):
    client.post("/forgot", data={"phone": "13800000001"})
    code = client.get("/__mock__/sms/latest?phone=13800000001").json["code"]
    client.post("/__mock__/clock/advance", json={"minutes": 6})
    r = client.post("/forgot/reset", data={"code": code, "new_password": "NewPass2026", "confirm_password": "NewPass2026"})
    assert "已过期" in r.text


def test_agreement_must_be_acknowledged(client, auth):
    auth.login()
    r = client.post("/member/unsubscribe", data={})
    assert r.status_code == 400 and "请先阅读并勾选" in r.text
    assert client.get("/member/unsubscribe/confirm").status_code == 302  # cannot skip the agreement


def test_unsubscribe_issues_one_receipt_even_when_submitted_twice(client, app, auth):
    auth.login()
    page, token = unsubscribe(client)
    assert "确认后立即生效" in page.text and "咪咕音乐 无损音质" in page.text
    first = client.post("/member/unsubscribe/confirm", data={"token": token})
    second = client.post("/member/unsubscribe/confirm", data={"token": token})
    assert first.location == second.location
    receipt = client.get(first.location).text
    for text in ("退订凭证", "凭证编号", "138****0001", "黄金会员(连续包月)", "UTC+08:00", "生效日期", "打印凭证"):
        assert text in receipt
    assert db(app).execute("SELECT count(*) FROM migu_receipt WHERE account='13800000001'").fetchone()[0] == 1
    member = client.get("/member").text
    assert "已退订" in member and "已关闭" in member
    no = first.location.rsplit("/", 1)[1]
    assert no in client.get("/member/history").text


def test_already_unsubscribed_is_told_so_without_a_new_receipt(client, app, auth):
    auth.login("13800000003", "migu-pass-003")
    r = client.get("/member/unsubscribe")
    assert r.status_code == 409 and "无需重复操作" in r.text
    r = client.post("/member/unsubscribe/confirm", data={"token": "forged"})
    assert r.status_code == 409
    assert db(app).execute("SELECT count(*) FROM migu_receipt WHERE account='13800000003'").fetchone()[0] == 1


def test_receipts_are_private_to_their_account(client, auth):
    auth.login()
    _, token = unsubscribe(client)
    path = client.post("/member/unsubscribe/confirm", data={"token": token}).location
    client.post("/logout")
    auth.login("13800000002", "migu-pass-002")
    assert client.get(path).status_code == 404


def test_pause_and_resume(client, app, auth):
    auth.login("13800000002", "migu-pass-002")
    assert client.post("/member/pause", data={"months": "7"}).status_code == 400
    assert client.post("/member/pause", data={"months": "2"}).status_code == 302
    page = client.get("/member").text
    assert "已暂停" in page and "自动恢复" in page and "200 天" in page
    client.post("/member/resume")
    assert "生效中" in client.get("/member").text


def test_paused_member_resumes_by_itself_when_the_date_passes(client, auth):
    auth.login("13800000004", "migu-pass-004")
    assert "已暂停" in client.get("/member").text
    from datetime import timedelta

    from tuiding_portals.migu import rules

    today = datetime.fromisoformat(client.get("/__mock__/clock").json["now"]).date()
    resumes_on = rules.add_months(today - timedelta(days=10), 1)  # seed: paused 10 days ago for 1 month
    client.post("/__mock__/clock/advance", json={"days": 25})
    page = client.get("/member").text
    assert "生效中" in page and "已暂停" not in page
    assert str(resumes_on + timedelta(days=12)) in page  # the 12 frozen days count from the resume date


def test_pages_need_login(client):
    for path in ("/member", "/member/manage", "/member/unsubscribe", "/member/pause", "/member/history"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.location


def test_open_redirect_is_refused(client):
    r = client.post("/login?next=//evil.example", data={"account": "13800000001", "password": "migu-pass-001"})
    assert r.location == "/"


def test_test_api_is_off_unless_enabled(tmp_path):
    client = create_app("migu", database=tmp_path / "s.db").test_client()
    assert client.get("/__mock__/sms/latest?phone=1").status_code == 404
    assert client.post("/__mock__/reset").status_code == 404


def test_reset_restores_the_seed(client, app, auth):
    auth.login()
    _, token = unsubscribe(client)
    client.post("/member/unsubscribe/confirm", data={"token": token})
    assert client.post("/__mock__/reset").json["ok"]
    assert db(app).execute("SELECT status FROM migu_account WHERE account='13800000001'").fetchone()[0] == "active"


def test_clock_only_moves_forward_and_rejects_garbage(client):
    assert client.post("/__mock__/clock/advance", json={"days": -1}).status_code == 400
    assert client.post("/__mock__/clock/advance", json={"weeks": 1}).status_code == 400
    assert client.post("/__mock__/clock/advance", json={"days": "x"}).status_code == 400


def test_penalty_is_shown_before_committing_and_recorded_on_the_receipt(client, app, auth):
    auth.login("13800000002", "migu-pass-002")  # 钻石 annual, 165 days used, 200 left of 365
    page, token = unsubscribe(client)
    assert "违约金" in page.text and "27.18 元" in page.text and "× 20%" in page.text
    receipt = client.get(client.post("/member/unsubscribe/confirm", data={"token": token}).location).text
    assert "27.18 元" in receipt


def test_resubscribing_too_early_is_refused_with_the_date(client, auth):
    auth.login()
    _, token = unsubscribe(client)
    client.post("/member/unsubscribe/confirm", data={"token": token})
    today = datetime.fromisoformat(client.get("/__mock__/clock").json["now"]).date()
    from datetime import timedelta

    agreed = {"agree_autorenew": "yes"}
    r = client.post("/member/subscribe", data=agreed)
    assert r.status_code == 409 and f"可于 {today + timedelta(days=7)} 起重新开通" in r.text
    client.post("/__mock__/clock/advance", json={"days": 7})
    assert client.post("/member/subscribe", data=agreed).location.endswith("/member/subscribe/pay")


def test_signing_up_shows_the_auto_renewal_terms_and_needs_them_agreed(client, auth):
    """网络交易监督管理办法 第十八条: auto-renewal pointed out prominently before purchase, agreed explicitly."""
    auth.login("13800000003", "migu-pass-003")
    page = client.get("/member/subscribe").text
    assert 'data-testid="autorenew-disclosure"' in page and "自动续费 <strong>15.00 元</strong>" in page
    assert "续费前 5 天短信提醒" in page and "取消自动续费" in page
    refused = client.post("/member/subscribe", data={})
    assert refused.status_code == 400 and "请先阅读并同意《自动续费服务协议》" in refused.text
    assert "已退订" in client.get("/member").text
    assert client.post("/member/subscribe", data={"agree_autorenew": "yes"}).location.endswith("/member/subscribe/pay")
    assert "已退订" in client.get("/member").text  # nothing is ordered before the SMS confirmation (tests/test_ordering.py)


def test_purchased_content_stays_viewable_after_unsubscribing(client, auth):
    auth.login()
    _, token = unsubscribe(client)
    client.post("/member/unsubscribe/confirm", data={"token": token})
    page = client.get("/member/content").text
    assert "封神第二部" in page and "可观看" in page and "三体 第 1 季" in page


def test_backup_export_rows_match_the_seeded_history(client, auth):
    import csv
    import io
    import json as _json

    from tuiding_portals.migu.seed import CONTENT

    auth.login()
    r = client.get("/member/export/history.csv")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["标题", "类别", "时间", "说明"]
    assert [row[0] for row in rows[1:]] == [c[1] for c in CONTENT if c[0] == "history"]
    favs = _json.loads(client.get("/member/export/favorite.json").data)
    assert [i["title"] for i in favs["items"]] == [c[1] for c in CONTENT if c[0] == "favorite"]
    assert client.get("/member/export/passwords.csv").status_code == 404
    assert client.get("/member/export/history.exe").status_code == 404


def test_payment_unlink_rules(client, app, auth):
    auth.login()
    ids = [r[0] for r in db(app).execute("SELECT id FROM migu_payment WHERE account='13800000001' ORDER BY id")]
    renewal, other = ids[0], ids[1]
    assert "确认删除" in client.get(f"/member/payments/{other}/unlink").text
    client.post(f"/member/payments/{other}/unlink")
    r = client.post(f"/member/payments/{renewal}/unlink", follow_redirects=True)
    assert "正用于自动续费" in r.text  # refused while auto-renew charges it
    _, token = unsubscribe(client)
    client.post("/member/unsubscribe/confirm", data={"token": token})
    assert "已取消关联" in client.post(f"/member/payments/{renewal}/unlink", follow_redirects=True).text
    left = [r[0] for r in db(app).execute("SELECT id FROM migu_payment WHERE account='13800000001'")]
    assert left == [ids[2]]


def test_payment_of_another_account_cannot_be_touched(client, app, auth):
    other = db(app).execute("SELECT id FROM migu_payment WHERE account='13800000002'").fetchone()[0]
    auth.login()
    assert client.post(f"/member/payments/{other}/unlink").status_code == 404
    assert client.get("/member/payments/abc/unlink").status_code == 404
    assert db(app).execute("SELECT count(*) FROM migu_payment WHERE id=?", (other,)).fetchone()[0] == 1


def test_member_center_shows_hidden_benefits_and_help_guide(client, auth):
    auth.login("13800000002", "migu-pass-002")
    assert "续费年度会员立减 30 元" in client.get("/member").text
    help_page = client.get("/help/unsubscribe").text
    for text in ("退订前的准备", "会员管理", "95016", "常见问题", "违约金"):
        assert text in help_page


def test_receipt_downloads_as_an_image_listed_in_history(client, auth):
    import io

    from PIL import Image

    auth.login()
    _, token = unsubscribe(client)
    no = client.post("/member/unsubscribe/confirm", data={"token": token}).location.rsplit("/", 1)[1]
    history = client.get("/member/history").text
    assert f"/member/receipts/{no}.png" in history
    r = client.get(f"/member/receipts/{no}.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["Content-Disposition"].encode("latin-1")  # a real WSGI server needs latin-1 headers
    assert Image.open(io.BytesIO(r.data)).size[0] == 900
    client.post("/logout")
    auth.login("13800000002", "migu-pass-002")
    assert client.get(f"/member/receipts/{no}.png").status_code == 404


PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"}


def test_phones_are_sent_to_the_app_layout_desktops_are_not(client):
    assert client.get("/", headers=PHONE).location == "/app/"
    assert client.get("/login", headers=PHONE).location == "/app/login"
    assert client.get("/").status_code == 200


def test_app_unsubscribe_needs_the_agreement_and_its_receipt_shows_on_the_website(client, app):
    client.post("/app/login", data={"account": "13800000001", "password": "migu-pass-001"})
    page = client.get("/app/member/unsubscribe", headers=PHONE).text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = client.post("/app/member/unsubscribe", data={"token": token})
    assert r.status_code == 400 and "请先阅读并勾选" in r.text
    r = client.post("/app/member/unsubscribe", data={"token": token, "agree": "yes"})
    no = r.location.rsplit("/", 1)[1]
    assert client.post("/app/member/unsubscribe", data={"token": token, "agree": "yes"}).location == r.location
    history = client.get("/member/history").text  # the website, same account
    assert no in history and "APP" in history
    assert db(app).execute("SELECT count(*) FROM migu_receipt WHERE account='13800000001'").fetchone()[0] == 1


def test_app_pause_rejects_unknown_durations(client):
    client.post("/app/login", data={"account": "13800000002", "password": "migu-pass-002"})
    assert client.post("/app/member/pause", data={"months": "<script>"}).status_code == 400
    assert client.post("/app/member/pause", data={"months": "1"}).status_code == 302
    assert "已暂停" in client.get("/app/member").text


def test_hotline_unsubscribe_acts_on_the_website_account(client, app, auth):
    client.get("/service/hotline")
    client.post("/service/hotline", data={"key": "2"})
    client.post("/service/hotline", data={"keys": "13800000001", "key": "#"})
    client.post("/service/hotline", data={"key": "1"})
    code = client.get("/__mock__/sms/latest?phone=13800000001&purpose=service").json["code"]
    client.post("/service/hotline", data={"keys": code, "key": "#"})
    page = client.get("/service/hotline").text
    assert "违约金 0.00 元" in page
    client.post("/service/hotline", data={"key": "1"})
    row = db(app).execute("SELECT receipt_no, channel FROM migu_receipt WHERE account='13800000001'").fetchone()
    assert row["channel"] == "客服热线 95016"
    assert " ".join(row["receipt_no"]) in client.get("/service/hotline").text
    auth.login()
    assert row["receipt_no"] in client.get("/member/history").text and "已退订" in client.get("/member").text


def test_hotline_rejects_garbage_keys_without_changing_state(client, app):
    client.get("/service/hotline")
    for bad in ("abc", "<script>", "2" * 50):
        client.post("/service/hotline", data={"keys": bad})
    page = client.get("/service/hotline").text
    log = re.findall(r'<li class="desk">.*?</li>', page, re.S)
    assert sum("无效按键" in line for line in log) == 3 and "<script>" not in page
    assert db(app).execute("SELECT count(*) FROM migu_receipt WHERE account='13800000001'").fetchone()[0] == 0


def test_chat_unsubscribe_masks_the_password_and_records_the_channel(client, app):
    for message in ("我要退订会员", "13800000002", "2", "migu-pass-002", "确认"):
        client.post("/service/chat", data={"message": message})
    page = client.get("/service/chat").text
    assert "退订成功" in page and "migu-pass-002" not in page and "••••••" in page
    stored = db(app).execute("SELECT data FROM migu_dialogue").fetchall()
    assert all("migu-pass-002" not in r[0] for r in stored)  # not even in the portal's own state
    assert db(app).execute("SELECT channel FROM migu_receipt WHERE account='13800000002'").fetchone()[0] == "在线客服"


def test_chat_bad_input_gets_an_answer_and_changes_nothing(client, app):
    for message in ("", "x" * 201, "<script>alert('x')</script>", "DROP TABLE migu_account;"):
        client.post("/service/chat", data={"message": message})
    page = client.get("/service/chat").text
    assert "请输入您的问题" in page and "消息过长" in page and "没有理解" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert db(app).execute("SELECT count(*) FROM migu_account").fetchone()[0] == 6
    assert db(app).execute("SELECT count(*) FROM migu_receipt").fetchone()[0] == 1  # only the seeded one


def test_refusals_are_alerts_and_confirmations_are_status_messages(client, app, auth):
    """A scenario (and a screen reader) can tell a refusal from a success: role=alert with an error style."""
    auth.login()
    conn = db(app)
    renew = conn.execute("SELECT id FROM migu_payment WHERE account='13800000001' AND is_default=1").fetchone()[0]
    other = conn.execute("SELECT id FROM migu_payment WHERE account='13800000001' AND is_default=0").fetchone()[0]
    refused = client.post(f"/member/payments/{renew}/unlink", follow_redirects=True).text
    assert '<div class="notice error" role="alert">' in refused and "正用于自动续费" in refused
    done = client.post(f"/member/payments/{other}/unlink", follow_redirects=True).text
    assert '<div class="notice" role="status">已取消关联' in done


def test_one_renewal_reminder_five_days_before_renewal(tmp_path):
    """自动续费提醒: sent once when the clock reaches 5 days before the renewal date, however many requests follow."""
    app = create_app("migu", database=tmp_path / "s.db", test_api=True, clock="2026-11-20T10:00:00+08:00")
    client = app.test_client()
    latest = "/__mock__/sms/latest?phone=13800000001&purpose=renewal"
    client.post("/__mock__/clock/advance", json={"days": 12})
    assert client.get(latest).status_code == 404
    client.post("/__mock__/clock/advance", json={"days": 1})
    reminder = client.get(latest).get_json()
    assert reminder["sent_at"].startswith("2026-12-03") and "2026-12-08" in reminder["text"]
    for _ in range(3):
        client.get("/")
    messages = client.get("/__mock__/sms?phone=13800000001").get_json()["messages"]
    assert [m["purpose"] for m in messages] == ["renewal"]
    assert "自动续费提醒" in client.get("/__mock__/inbox?phone=13800000001").text
