"""Migu portal behaviour that only a browser shows: the printable receipt and the double-click guard."""
import sqlite3

import pytest

from mock_portals.server import EmbeddedPortal
from scripts.browser import BrowserSession


@pytest.fixture(scope="module")
def session():
    with BrowserSession() as s:
        yield s


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
        # Two submissions of the same confirmation form, as an impatient double click sends them.
        page.evaluate("""() => { const f = document.querySelector('form.actions');
            fetch(f.action || location.href, {method: 'POST', body: new FormData(f)}); f.submit(); }""")
        page.get_by_test_id("receipt-no").wait_for()
        page.wait_for_timeout(300)
        conn = sqlite3.connect(portal.app.config["DATABASE"])
        assert conn.execute("SELECT count(*) FROM migu_receipt WHERE account='13800000001'").fetchone()[0] == 1
