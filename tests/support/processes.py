"""Running tuiding and Playwright servers as a user does: new processes, free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .paths import ROOT


def run_cli(
    *args: object, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`tuiding …` as a user runs it: a new process, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def start_cli(*args: object, cwd: Path = ROOT) -> subprocess.Popen[str]:
    """`tuiding …` started in its own process group, for signals to all of it: what a terminal's Ctrl-C does."""
    return subprocess.Popen(
        [sys.executable, "-m", "tuiding", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_steps(out: Path, n: int, timeout: float = 60) -> Path:
    """The run folder under `out` that has recorded `n` steps (polls steps.jsonl)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for jsonl in out.glob("*/steps.jsonl"):
            if len(jsonl.read_text(encoding="utf-8").splitlines()) >= n:
                return jsonl.parent
        time.sleep(0.1)
    raise AssertionError(f"no run reached {n} steps")


def verify_run(run_dir: Path) -> subprocess.CompletedProcess[str]:
    """`tuiding verify RUN_DIR` in a new process."""
    return run_cli("verify", run_dir, timeout=60)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]
