"""A run that cannot go on as planned: the disk fills at any point, a --connect endpoint accepts the connection
and never answers, the browser path names something that is not a browser, a second Ctrl-C lands while the
run seals. Each is one line and a documented exit code; no folder says `passed` unless it passed and is sealed,
and nothing is left under --out for a run that never started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import ROOT, start_cli, verify_run, wait_for_steps

pytestmark = pytest.mark.browser

JOURNEY = ROOT / "scenarios" / "migu" / "web_unsubscribe.yaml"


def tuiding(*args: object, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """A real file system of a given size (tmpfs), so the disk really fills under the run."""
    mounted: list[Path] = []

    def make(size: str) -> Path:
        where = tmp_path / f"disk-{size}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small file system here (needs root): {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


# The journey's receipts take ~1.4 MB: these sizes fill the disk during the steps, while the report is
# written and while the walkthrough is; wherever it happens the invariants below must hold.
@pytest.mark.parametrize("size", ["350k", "800k", "1600k"])
def test_a_disk_that_fills_during_a_run_is_an_error_never_a_passed_folder(small_disk, size):
    disk = small_disk(size)
    r = tuiding("run", JOURNEY, "--out", disk / "runs", "--trace", "off", "--lang", "en", "--walkthrough", "md")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "0 passed" in r.stdout, r.stdout
    (run_dir,) = (disk / "runs").iterdir()
    said = r.stdout + r.stderr  # in words: the step's failure, or the line about the report and seal
    assert "the run folder cannot be written: No space left on device" in said or (
        f"{run_dir}: the disk refused the report or the seal" in said and "free space and run it again" in said
    ), said
    manifest_file = run_dir / "manifest.json"
    if not manifest_file.exists():
        assert "left without a manifest" in r.stderr, r.stderr
        return
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    assert manifest["status"] in ("error", "running"), manifest["status"]
    assert "No space left on device" in (manifest["failure"] or {}).get("message", "") or manifest["status"] == "running"
    v = verify_run(run_dir)
    if manifest.get("seal"):
        assert v.returncode == 0, v.stdout + v.stderr  # sealed as an error: intact, and says what happened
    elif manifest["status"] == "running":
        assert "incomplete run" in v.stderr, v.stderr
    else:
        assert v.returncode == 1 and "not sealed" in v.stdout + v.stderr


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP listener that accepts connections and never says a word (a wrong port, a hung proxy)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_endpoint_that_never_answers_is_given_up_after_the_connect_timeout(silent_endpoint, tmp_path):
    out = tmp_path / "never" / "runs"
    t0 = time.monotonic()
    r = tuiding("run", JOURNEY, "--connect", silent_endpoint, "--connect-timeout", "2", "--out", out, timeout=60)
    assert r.returncode == 2, r.stderr
    assert time.monotonic() - t0 < 30
    assert r.stderr.strip().splitlines() == [
        f"tuiding: could not connect to {silent_endpoint}: no answer within 2 s "
        "(is it a 'playwright run-server'? --connect-timeout waits longer)"
    ]
    assert not (tmp_path / "never").exists()  # nothing under --out for a run that never started


def test_the_connect_timeout_comes_from_the_environment_too(silent_endpoint, tmp_path):
    env = {**os.environ, "TUIDING_CONNECT_TIMEOUT": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "tuiding", "run", str(JOURNEY), "--connect", silent_endpoint, "--out", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode == 2 and "no answer within 1 s" in r.stderr, r.stderr


def test_a_refused_endpoint_leaves_an_existing_out_folder_as_it_was(tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    (out / "older-run").mkdir()
    r = tuiding("run", JOURNEY, "--connect", "ws://127.0.0.1:9/", "--out", out, timeout=60)
    assert r.returncode == 2 and "could not connect to ws://127.0.0.1:9/" in r.stderr, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["older-run"]


@pytest.mark.parametrize("program", ["/bin/true", "/bin/echo"])
def test_a_browser_path_that_is_not_a_browser_is_named_as_such(program, tmp_path):
    r = tuiding("run", JOURNEY, "--browser-path", program, "--out", tmp_path / "new" / "runs", timeout=60)
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"tuiding: --browser-path {program}: not a Chromium or Chrome browser"), line
    assert "GNU coreutils" in line  # what it said it is
    assert not (tmp_path / "new").exists()


def test_a_real_browser_that_fails_keeps_playwrights_words(tmp_path):
    """The --version probe only speaks for programs that are not browsers."""
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'Chromium 156.0.0.0 built on Debian'\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    r = tuiding("run", JOURNEY, "--browser-path", fake, "--out", tmp_path / "o", timeout=60)
    assert r.returncode == 2 and "could not start Chromium" in r.stderr and "not a Chromium" not in r.stderr, r.stderr


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_a_second_ctrl_c_while_the_run_seals_still_leaves_a_verifiable_folder(tmp_path, delay):
    """Two Ctrl-C 0.3 s apart, the first as the last step is recorded (the report and walkthrough are being
    written and the folder sealed): exit 130, one line, and the folder verifies."""
    scen = tmp_path / "short.yaml"
    scen.write_text("name: 短场景\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n", encoding="utf-8")
    out = tmp_path / "runs"
    proc = start_cli("run", scen, "--out", out, "--walkthrough", "html", "--lang", "en")
    run_dir = wait_for_steps(out, 2)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        pass  # it had already finished
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130, -2), err
    assert "Traceback" not in err, err
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seal"], manifest["status"]
    v = verify_run(run_dir)
    assert v.returncode == 0, v.stdout + v.stderr


@pytest.mark.parametrize(
    "command", [("record", "--portal", "migu", "--out", "{tmp}/r.yaml"), ("run", JOURNEY, "--headed", "--out", "{tmp}/runs")]
)
def test_a_window_without_a_display_is_one_line_that_says_what_to_do(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in command]
    r = subprocess.run([sys.executable, "-m", "tuiding", *args], capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("tuiding: a browser window needs a display") and "--headless --debug-port" in line, line
    assert not (tmp_path / "runs").exists() and not (tmp_path / "r.yaml").exists()
