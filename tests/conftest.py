"""Fixtures shared by the whole suite: portal apps and clients, one browser per worker, the CLI,
a free port, and a check that no browser, driver or run-server outlives the session."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import AuthActions, form_client, free_port, only_run_dir, run_cli

# Scenario files used as test data are run by the tests themselves, not collected as tests.
collect_ignore_glob = ["data/*", "data/**/*"]


# ---------------------------------------------------------------- markers: the fast lane is `pytest -m "not browser"`


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from tuiding.pytest_plugin import ScenarioItem

    for item in items:
        if isinstance(item, ScenarioItem):
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------- portals


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh portal app with its own SQLite file; the portal is the test module's PORTAL (default migu)."""
    from tuiding_portals import create_app

    return create_app(getattr(request.module, "PORTAL", "migu"), database=tmp_path / "state.db", test_api=True)


@pytest.fixture
def client(app):
    return form_client(app)


@pytest.fixture
def auth(client, request: pytest.FixtureRequest) -> AuthActions:
    """Sign in and out of the module's portal as a seed account (flaskr's AuthActions)."""
    return AuthActions(client, getattr(request.module, "PORTAL", "migu"))


# ---------------------------------------------------------------- browser and CLI


@pytest.fixture(scope="session")
def session(playwright, browser) -> object:
    """One Chromium per test worker (contexts keep tests apart): pytest-playwright's, launched with
    tuiding's browser discovery and flags, so tests and scenario items share one driver."""
    from tuiding.pytest_plugin import PytestBrowser

    return PytestBrowser(browser.new_context, playwright.devices, {}, description=f"chromium {browser.version}")


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture
def port() -> int:
    return free_port()


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
