"""Migu portal behaviour that only a browser shows: the printable receipt and the double-click guard."""

import sqlite3

import pytest

from tuiding_portals.server import EmbeddedPortal

pytestmark = pytest.mark.browser


def unsubscribe_to_confirmation(page, url):
    page.goto(f"{url}/login")
    page.get_by_label("账号").fill("13800000001")
    page.get_by_label("密码").fill("migu-pass-001")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{url}/member/unsubscribe")
    page.get_by_label("我已阅读并同意《咪咕会员退订协议》").check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="确认退订").wait_for()


def test_receipt_prints_without_site_chrome(session, tmp_path):
    with EmbeddedPortal("migu") as portal:
        page = session.new_context(locale="zh-CN").new_page()
        unsubscribe_to_confirmation(page, portal.url)
        page.get_by_role("button", name="确认退订").click()
        page.get_by_test_id("receipt-no").wait_for()
        page.wait_for_load_state("load")  # the receipt can be in the DOM before its stylesheet applies (seen under load)
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.get_by_role("button", name="打印凭证").is_visible()
        assert page.get_by_test_id("receipt-no").is_visible()
        pdf = page.pdf(path=str(tmp_path / "receipt.pdf"))
        assert pdf.startswith(b"%PDF")


def test_double_clicked_confirmation_issues_one_receipt(session):
    with EmbeddedPortal("migu") as portal:
        page = session.new_context(locale="zh-CN").new_page()
        unsubscribe_to_confirmation(page, portal.url)
        # Two submissions of the same confirmation form at once, as an impatient double click sends them;
        # both are awaited in the page, so both reached the server before we look.
        statuses = page.evaluate("""async () => { const f = document.querySelector('input[name=token]').form;
            const send = () => fetch(f.action || location.href, {method: 'POST', body: new FormData(f), redirect: 'manual'});
            const answers = await Promise.all([send(), send()]);
            return answers.map(a => a.type === 'opaqueredirect' ? 302 : a.status); }""")
        assert statuses == [302, 302]
        conn = sqlite3.connect(portal.app.config["DATABASE"])
        assert conn.execute("SELECT count(*) FROM migu_receipt WHERE account='13800000001'").fetchone()[0] == 1
        assert (
            conn.execute("SELECT count(DISTINCT receipt_no) FROM migu_confirm_token WHERE receipt_no IS NOT NULL").fetchone()[0]
            == 1
        )
