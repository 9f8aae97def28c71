"""A browser farm: `--connect` repeated spreads journeys over several `playwright run-server`s; one that
fails leaves the farm, its unstarted journeys run on the others, and the run says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, free_port, run_server, stop_server

pytestmark = pytest.mark.browser

SLOW = "name: 慢{n}\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n  - wait: {wait}\n  - goto: /\n"


@pytest.fixture
def farm() -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    servers = [run_server(), run_server()]
    yield servers
    for proc, _ in servers:
        stop_server(proc)


def _run(*args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "TUIDING_BROWSER": "chromium"}
    return subprocess.Popen(
        [sys.executable, "-m", "tuiding", "run", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _suite(folder: Path, n: int, wait: str = "0.2s") -> list[Path]:
    folder.mkdir()
    files = []
    for i in range(n):
        f = folder / f"s{i}.yaml"
        f.write_text(SLOW.format(n=i, wait=wait), encoding="utf-8")
        files.append(f)
    return files


def test_journeys_are_spread_over_the_farm(tmp_path, farm):
    (_, a), (_, b) = farm
    files = _suite(tmp_path / "suite", 4)
    proc = _run(*files, "--connect", a, "--connect", b, "-j", "2", "--out", tmp_path / "runs", "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    used = [json.loads((Path(r["run_dir"]) / "manifest.json").read_text("utf-8"))["browser"] for r in lines]
    assert {u.rsplit(" via ", 1)[1] for u in used} == {a, b}, used  # both browsers did journeys


def test_an_endpoint_down_at_the_start_leaves_the_farm_with_one_line(tmp_path, farm):
    (_, a), _ = farm
    dead = f"ws://127.0.0.1:{free_port()}/"
    files = _suite(tmp_path / "suite", 2)
    proc = _run(*files, "--connect", dead, "--connect", a, "--out", tmp_path / "runs")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"tuiding: {dead} is out of the farm (" in err and f"unstarted journeys run on {a}" in err
    assert "Traceback" not in err


def test_an_endpoint_lost_mid_run_sends_the_unstarted_journeys_to_the_others(tmp_path, farm):
    (_, a), (server_b, b) = farm
    files = _suite(tmp_path / "suite", 6, wait="3s")
    out_dir = tmp_path / "runs"
    proc = _run(*files, "--connect", a, "--connect", b, "-j", "2", "--out", out_dir, "--json")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out_dir.glob("*/receipts/*.png"))) < 4:
        time.sleep(0.1)  # both journeys under way, one on each browser
    os.killpg(server_b.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 1), err  # 1: the journey running on b at that moment failed (almost always)
    assert f"tuiding: {b} is out of the farm (its browser disconnected); unstarted journeys run on {a}" in err
    assert "Traceback" not in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 6
    manifests = [json.loads((Path(r["run_dir"]) / "manifest.json").read_text("utf-8")) for r in lines]
    assert all(m["browser"].endswith(f"via {b}") for m in manifests if m["status"] != "passed")  # only b's journeys
    assert all(m["browser"].endswith(f"via {a}") and m["status"] == "passed" for m in manifests[-2:])  # started after
