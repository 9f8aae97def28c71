"""`--retries N` with `--trace on-retry` (the default): a passing run records no trace; a failed one is run
again from scratch, traced; passing on a retry is passed and reported as flaky."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import run_cli

pytestmark = pytest.mark.browser


@pytest.fixture
def flaky_site() -> Iterator[str]:
    """A site whose first page view says 故障 and every later one 正常: a journey fails once, then passes."""
    views = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/":
                self.send_error(404)
                return
            views["n"] += 1
            body = f"<!doctype html><title>t</title><h1>{'故障' if views['n'] == 1 else '正常'}</h1>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


SCENARIO = "name: 偶发故障\nsteps:\n  - goto: /\n  - see: 正常\n    timeout: 1s\n"


def test_a_flaky_journey_passes_on_its_retry_with_a_trace_and_says_so(tmp_path, flaky_site):
    scen = tmp_path / "flaky.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "runs"
    r = run_cli("run", scen, "--base-url", flaky_site, "--retries", "2", "--out", out, "--lang", "en")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "↻ 偶发故障: failed on attempt 1" in r.stderr and "retry 1/2, traced" in r.stderr
    assert "flaky" in r.stdout  # the summary table
    first, second = sorted(out.iterdir(), key=lambda d: json.loads((d / "manifest.json").read_text("utf-8"))["attempt"])
    m1, m2 = (json.loads((d / "manifest.json").read_text("utf-8")) for d in (first, second))
    assert (m1["status"], m1["attempt"], m1["trace"]) == ("failed", 1, None)
    assert not (first / "trace.zip").exists()  # on-retry: the first attempt paid nothing for tracing
    assert (m2["status"], m2["attempt"], m2["retry_of"]) == ("passed", 2, m1["run_id"])
    assert (second / "trace.zip").is_file() and m2["trace"] == "trace.zip"
    for d in (first, second):
        assert run_cli("verify", d).returncode == 0

    summary = tmp_path / "summary"
    r = run_cli("merge", out, "--out", summary)
    assert r.returncode == 0, r.stdout + r.stderr  # the retried attempt does not count against the suite
    assert r.stdout.startswith("1 runs: 1 passed (1 flaky), 0 not passed")
    totals = json.loads((summary / "summary.json").read_text("utf-8"))["totals"]
    assert totals["retried"] == 1 and totals["flaky"] == 1


def test_without_retries_a_failure_says_how_to_get_a_trace(tmp_path, flaky_site):
    scen = tmp_path / "flaky.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    r = run_cli("run", scen, "--base-url", flaky_site, "--out", tmp_path / "runs", "--json")
    assert r.returncode == 1
    line = json.loads(r.stdout)
    assert line["attempt"] == 1 and line["status"] == "failed"
    r = run_cli("run", scen, "--base-url", flaky_site, "--out", tmp_path / "runs2")
    assert r.returncode == 0  # the site is fine now
    scen.write_text(SCENARIO.replace("正常", "永远不会出现"), encoding="utf-8")
    r = run_cli("run", scen, "--base-url", flaky_site, "--out", tmp_path / "runs4", "--lang", "en")
    assert r.returncode == 1 and "no trace.zip was recorded (--trace on-retry traces retries): add --retries 1" in r.stderr
    assert not list((tmp_path / "runs4").glob("*/trace.zip"))
    r = run_cli("run", "scenarios/migu/web_pause.yaml", "--out", tmp_path / "runs3", "--trace", "on-retry")
    assert r.returncode == 0 and not list((tmp_path / "runs3").glob("*/trace.zip"))
