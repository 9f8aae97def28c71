"""Selenium Grid 4 as the browser backend: a Grid standalone started here (the jar `make bootstrap` fetches, Debian's
chromium-driver, the Java runtime), journeys on it one Grid session each, manifests naming Grid, node and session,
and a launch that waited in the Grid's queue too long cleaned up after."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import ROOT, free_port, run_cli

pytestmark = pytest.mark.browser

JAR = ROOT / "build" / "tools" / "selenium" / "lib" / "selenium-server-4.20.0.jar"
JOURNEY = "name: 网格{n}\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n"
CONFIG = """[node]
detect-drivers = false
selenium-manager = false
max-sessions = {slots}
session-timeout = 300

[[node.driver-configuration]]
display-name = "chromium"
stereotype = '{{"browserName": "chrome", "goog:chromeOptions": {{"binary": "{binary}"}}}}'
max-sessions = {slots}
webdriver-executable = "{driver}"
"""


def _status(url: str) -> dict:
    with urllib.request.urlopen(url + "/status", timeout=5) as answer:
        return json.loads(answer.read())["value"]


def _sessions(url: str) -> list[str]:
    return [s["session"]["sessionId"] for n in _status(url)["nodes"] for s in n["slots"] if s.get("session")]


@pytest.fixture
def grid(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Start a Grid standalone with `slots` Chromium slots on a free loopback port; its URL."""
    java, driver, binary = shutil.which("java"), shutil.which("chromedriver"), shutil.which("chromium")
    if not (JAR.is_file() and java and driver and binary):
        pytest.skip("needs the Grid jar (make bootstrap fetches it), Java and chromium-driver (make bootstrap installs it)")
    started: list[subprocess.Popen[bytes]] = []

    def start(slots: int) -> str:
        port = free_port()
        config = tmp_path / f"grid-{port}.toml"
        config.write_text(CONFIG.format(slots=slots, binary=binary, driver=driver), encoding="utf-8")
        proc = subprocess.Popen(
            [java, "-Djdk.httpclient.websocket.intermediateBufferSize=3000000", "-jar", JAR, "standalone",
             "--config", config, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _status(url).get("ready"):
                    return url
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("the Grid did not become ready in 60 s")

    yield start
    for proc in started:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_journeys_run_one_grid_session_each_and_the_manifest_names_grid_node_and_session(grid, tmp_path: Path) -> None:
    url = grid(2)
    scens = []
    for n in range(3):
        scens.append(tmp_path / f"grid{n}.yaml")
        scens[-1].write_text(JOURNEY.format(n=n), encoding="utf-8")
    r = run_cli("run", *scens, "--grid", url, "--out", tmp_path / "runs", "--no-a11y")
    assert r.returncode == 0, r.stdout + r.stderr
    browsers = [json.loads(m.read_text(encoding="utf-8"))["browser"] for m in (tmp_path / "runs").glob("*/manifest.json")]
    assert len(browsers) == 3 and all(f"via Selenium Grid {url} (node {url}, session " in b for b in browsers), browsers
    assert len(set(browsers)) == 2  # -j from the Grid's two free slots: two sessions, the third journey reused one
    assert _sessions(url) == []  # nothing left holding a slot
    # SELENIUM_REMOTE_URL is honoured as Playwright reads it
    r = run_cli("run", scens[0], "--out", tmp_path / "env", env={**os.environ, "SELENIUM_REMOTE_URL": url})
    assert r.returncode == 0 and "via Selenium Grid" in next((tmp_path / "env").glob("*/manifest.json")).read_text()


def test_a_launch_queued_too_long_fails_in_one_line_and_leaves_no_session_behind(grid, tmp_path: Path) -> None:
    url = grid(1)
    holder = subprocess.Popen(  # another user of the Grid holds its only slot for a while
        [sys.executable, "-c",
         "import time; from playwright.sync_api import sync_playwright\n"
         "with sync_playwright() as p:\n    b = p.chromium.launch(args=['--no-sandbox']); print('held', flush=True)\n"
         "    time.sleep(9); b.close()"],
        env={**os.environ, "SELENIUM_REMOTE_URL": url}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    held = _sessions(url)
    scen = tmp_path / "queued.yaml"
    scen.write_text(JOURNEY.format(n=0), encoding="utf-8")
    r = run_cli("run", scen, "--grid", url, "--connect-timeout", "4", "-j", "1", "--out", tmp_path / "runs")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"the Selenium Grid at {url} gave no browser within 4 s" in r.stderr
    holder.wait(timeout=60)
    deadline = time.monotonic() + 20
    while _sessions(url) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert held and _sessions(url) == []  # the session queued for the run that gave up was deleted, not left to time out
