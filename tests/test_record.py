"""`tuiding record` as a user runs it, with the test as the user: the recorder's browser is driven over
CDP (the recorder cannot tell a script from a person), then the YAML it wrote is checked and run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Playwright
from support import ROOT, free_port

pytestmark = pytest.mark.browser


def record(
    playwright: Playwright, tmp_path: Path, portal: str, drive: Callable[[Page], None]
) -> tuple[subprocess.CompletedProcess[str], str]:
    out = tmp_path / f"{portal}_recorded.yaml"
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuiding",
            "record",
            "--portal",
            portal,
            "--headless",
            "--debug-port",
            str(port),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("recording "), line + proc.stderr.read()
        # The session's Playwright (pytest-playwright's): a second sync driver cannot run in this thread.
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        page = next(p for c in browser.contexts for p in c.pages if p.url.startswith("http"))
        drive(page)
        page.wait_for_timeout(300)  # the last event's binding call reaches the recorder
        page.close()
        browser.close()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, line + stderr), out.read_text(encoding="utf-8")


def migu_journey(page: Page) -> None:
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("账号").fill("13800000001")
    page.get_by_label("密码").fill("migu-pass-001")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("欢迎回来").wait_for()
    page.get_by_role("link", name="会员中心").first.click()
    page.get_by_role("link", name="会员管理").first.click()
    page.get_by_role("link", name="立即退订").click()
    page.get_by_label("我已阅读并同意《咪咕会员退订协议》").check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("确认后立即生效").wait_for()


def cloudpc_journey(page: Page) -> None:
    page.goto(page.url.split("/login")[0] + "/login")  # typed into the address bar: recorded as a goto
    page.get_by_label("手机号").fill("13900000001")
    page.get_by_label("密码").fill("cloud-pass-001")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="账户管理").first.click()
    page.get_by_role("link", name="退订服务").first.click()
    page.get_by_label("找到更合适的产品").check()
    page.get_by_role("button", name="提交").click()
    page.get_by_text("身份验证").first.wait_for()


@pytest.mark.parametrize(
    "portal,drive,password,expected",
    [
        (
            "migu",
            migu_journey,
            "migu-pass-001",
            [
                "  - fill: {账号: '13800000001', 密码: '${password}'}",
                "  - click: {role: button, name: 登录}",
                "  - check: 我已阅读并同意《咪咕会员退订协议》",
                "  - see: 确认退订信息",
            ],
        ),
        (
            "cloudpc",
            cloudpc_journey,
            "cloud-pass-001",
            ["  - fill: {手机号: '13900000001', 密码: '${password}'}", "  - check: 找到更合适的产品"],
        ),
    ],
)
def test_a_recorded_journey_is_a_scenario_that_passes(playwright, tmp_path, cli, portal, drive, password, expected):
    r, text = record(playwright, tmp_path, portal, drive)
    assert r.returncode == 0, r.stderr
    assert f"wrote {tmp_path / f'{portal}_recorded.yaml'}" in r.stdout and "run it: TUIDING_PASSWORD=… tuiding run" in r.stdout
    assert password not in text and password not in r.stdout + r.stderr  # never written down
    lines = text.splitlines()
    assert f"portal: {portal}" in lines and "  password: ${env:TUIDING_PASSWORD}" in lines
    for line in expected:
        assert line in lines, text
    # the first page is opened by URL, and so is a page the user typed into the address bar; links are clicked
    assert sum(line.startswith("  - goto:") for line in lines) == (2 if portal == "cloudpc" else 1)
    assert all(line.startswith(("    name: ", "  - ")) for line in lines[lines.index("steps:") + 1 :]), text
    run = cli(
        "run", tmp_path / f"{portal}_recorded.yaml", "--out", tmp_path / "runs", env={**os.environ, "TUIDING_PASSWORD": password}
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_record_needs_a_url_or_a_portal(cli, tmp_path):
    r = cli("record", "--out", tmp_path / "x.yaml")
    assert r.returncode == 2 and r.stderr.strip() == "tuiding: record: give a URL or --portal NAME (one of them)"
    started = time.monotonic()
    r = cli("record", "--portal", "nope", "--headless", "--out", tmp_path / "x.yaml")
    assert r.returncode == 2 and "nope" in r.stderr and time.monotonic() - started < 60
    assert not (tmp_path / "x.yaml").exists()
