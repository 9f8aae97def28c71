"""A browser on another machine reaches the embedded portals: `--connect` exposes the runner's loopback to it
(Playwright's `expose_network`). The other machine is a `playwright run-server` in a network namespace of its
own (`unshare -n`: nothing but its own loopback), reached through a Unix socket bridged with socat."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port, run_cli, run_server, stop_server

pytestmark = pytest.mark.browser

JOURNEY = "name: 远程浏览器\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n"


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("socat") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _answers(port: int, timeout: float = 30) -> None:
    """The bridged run-server answers an HTTP request (its WebSocket endpoint says so to a plain GET)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                if s.recv(64):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the run-server in its own network namespace never answered")


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[str]:
    """ws:// of a run-server whose browser cannot reach this machine's 127.0.0.1 by itself."""
    if not _can_unshare():
        pytest.skip("needs unshare -n (root, or user namespaces) and socat (make bootstrap installs socat)")
    sock = tmp_path / "run-server.sock"
    inside = (
        f"ip link set lo up && {sys.executable} -m playwright run-server --host 127.0.0.1 --port 3000 --unsafe & "
        f"exec socat UNIX-LISTEN:{sock},fork TCP:127.0.0.1:3000"
    )
    server = subprocess.Popen(["unshare", "-n", "sh", "-c", inside], start_new_session=True, stdout=subprocess.DEVNULL)
    port = free_port()
    bridge = subprocess.Popen(
        ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr", f"UNIX-CONNECT:{sock}"],
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    try:
        _answers(port)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        _stop(bridge)
        _stop(server)


def test_a_portal_scenario_runs_unchanged_on_a_browser_in_another_network(elsewhere: str, tmp_path: Path) -> None:
    scen = tmp_path / "remote.yaml"
    scen.write_text(JOURNEY, encoding="utf-8")
    env = {**os.environ, "TUIDING_BROWSER": "chromium"}
    r = run_cli("run", scen, "--connect", elsewhere, "--out", tmp_path / "runs", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without the runner's loopback exposed, that browser's 127.0.0.1 is its own: the portal is not there.
    r = run_cli("run", scen, "--connect", elsewhere, "--out", tmp_path / "closed", env={**env, "TUIDING_EXPOSE_NETWORK": ""})
    assert r.returncode == 1 and "ERR_CONNECTION_REFUSED" in r.stdout + r.stderr, r.stdout + r.stderr


def test_the_fence_holds_on_a_browser_elsewhere(tmp_path: Path) -> None:
    # On a remote browser the proxy fence cannot work (its loopback bypass would be the remote machine's), so the
    # runner aborts requests that leave this machine itself, before they are sent. The probe: a link to this very
    # server by its IPv4-mapped IPv6 address, which the guard does not count as this machine — without the fence
    # the browser would fetch it, and the server would log it.
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    away = f"http://[::ffff:127.0.0.1]:{port}/secret.html"
    (site / "index.html").write_text(f'<a href="{away}">Cancel there</a>', encoding="utf-8")
    (site / "secret.html").write_text("<h1>reached</h1>", encoding="utf-8")
    log = tmp_path / "access.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", site],
            start_new_session=True, stdout=sink, stderr=sink,
        )  # fmt: skip
    remote, ws = run_server()
    try:
        _answers(port)
        scen = tmp_path / "away.yaml"
        scen.write_text(
            f"name: away\nbase_url: http://127.0.0.1:{port}\nsteps:\n  - goto: /index.html\n  - click: Cancel there\n",
            encoding="utf-8",
        )
        env = {**os.environ, "TUIDING_BROWSER": "chromium"}
        r = run_cli("run", scen, "--connect", ws, "--out", tmp_path / "runs", env=env)
        out = r.stdout + r.stderr
        assert r.returncode == 1 and "left this machine for http://[::ffff:7f00:1]" in out, out  # as the browser writes it
        assert "GET /index.html" in log.read_text() and "secret.html" not in log.read_text()
    finally:
        stop_server(remote)
        _stop(server)  # type: ignore[arg-type]
