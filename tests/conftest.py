"""Fixtures shared by the whole suite: portal apps and clients, one browser per worker, the CLI,
a free port, and a check that no browser, driver or run-server outlives the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data"

# Scenario files used as test data are run by the tests themselves, not collected as tests.
collect_ignore_glob = ["data/*", "data/**/*"]


# ---------------------------------------------------------------- markers: the fast lane is `pytest -m "not browser"`


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from tuiding.pytest_plugin import ScenarioItem

    for item in items:
        if isinstance(item, ScenarioItem):
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------- portals


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


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh portal app with its own SQLite file; the portal is the test module's PORTAL (default migu)."""
    from tuiding_portals import create_app

    return create_app(getattr(request.module, "PORTAL", "migu"), database=tmp_path / "state.db", test_api=True)


@pytest.fixture
def client(app):
    return form_client(app)


# ---------------------------------------------------------------- browser and CLI


@pytest.fixture(scope="session")
def session(playwright, browser) -> object:
    """One Chromium per test worker (contexts keep tests apart): pytest-playwright's, launched with
    tuiding's browser discovery and flags, so tests and scenario items share one driver."""
    from tuiding.pytest_plugin import PytestBrowser

    return PytestBrowser(browser.new_context, playwright.devices, {}, description=f"chromium {browser.version}")


def run_cli(
    *args: object, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`tuiding …` as a user runs it: a new process, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def run_server() -> tuple[subprocess.Popen[str], str]:
    """A `playwright run-server` on a free loopback port, and its ws:// URL. --unsafe lets the client name
    the executable (no Playwright-downloaded browser here). Own process group: `python -m playwright
    run-server` leaves its node child running after SIGTERM, so stop it with os.killpg."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1", "--port", str(port), "--unsafe"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and "Listening on" in proc.stdout.readline()
    return proc, f"ws://127.0.0.1:{port}/"


def stop_server(proc: subprocess.Popen[str]) -> None:
    """Stop a run_server() and everything in its process group. Its node child outlives a SIGTERM to the
    Python parent, and once orphaned the end-of-session process check (descendants only) cannot see it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.2)  # the group may still hold the node child for a moment


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


@pytest.fixture
def run_dir_in() -> Callable[[Path], Path]:
    return only_run_dir


# ---------------------------------------------------------------- no leftover processes


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc; empty where there is none)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if state != "Z":
            parents[int(entry.name)] = ppid
    found, frontier = set(), {pid}
    while frontier:
        nxt = {c for c, p in parents.items() if p in frontier} - found
        found |= nxt
        frontier = nxt
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Set up first, torn down last: after every other fixture closed, nothing this worker started may still run."""
    yield
    if not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + 10
    left = _children(os.getpid())
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _children(os.getpid())
    if left:
        described = [f"{pid} {_command(pid)}" for pid in sorted(left)]
        for pid in left:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        pytest.fail("processes started by the tests are still running: " + "; ".join(described), pytrace=False)
