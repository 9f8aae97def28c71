"""Portal load: requests/s and p50/p99 latency of `tuiding serve` (waitress, SQLite) on the login page and
the signed-in member page, under `wrk` on loopback (`apt-get install wrk`; without it, a small threaded
keep-alive client here stands in and the table says so).

    .venv/bin/python benchmarks/portal_load.py                 # 10 s per page, 16 connections
    .venv/bin/python benchmarks/portal_load.py --seconds 2     # a smoke run
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine

ROOT = Path(__file__).parents[1]
# portal: (login form fields, signed-in page)
PORTALS = {
    "migu": ({"account": "13800000001", "password": "migu-pass-001"}, "/member"),
    "cloudpc": ({"phone": "13900000001", "password": "cloud-pass-001"}, "/account"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(portal: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiding", "serve", portal, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"tuiding serve {portal} did not answer on port {port} within 30 s")


def signed_in_cookie(base: str, form: dict[str, str]) -> str:
    """Log in the way a browser does (CSRF token from the form, then POST) and return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    body = urllib.parse.urlencode({**form, "csrf_token": token.group(1)}).encode()
    opener.open(urllib.request.Request(base + "/login", data=body, headers={"Origin": base})).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def with_wrk(url: str, cookie: str, seconds: float, connections: int) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: wrk saw error responses:\n{out}")

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, pct("50"), pct("99")


def with_threads(url: str, cookie: str, seconds: float, connections: int) -> tuple[float, float, float]:
    """Keep-alive GETs from `connections` threads; each latency is one request's round trip."""
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", parts.path, headers={"Cookie": cookie})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"{url}: HTTP {r.status}")
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49], q[98]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="load per page (default 10)")
    ap.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    args = ap.parse_args()
    tool = "wrk" if shutil.which("wrk") else "threaded Python client (install wrk for real figures)"
    measure = with_wrk if shutil.which("wrk") else with_threads
    rows = []
    for portal, (form, member_page) in PORTALS.items():
        port = free_port()
        proc = serve(portal, port)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = signed_in_cookie(base, form)
            check = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            check.request("GET", member_page, headers={"Cookie": cookie})
            if check.getresponse().status != 200:  # a redirect to /login would be measured as a fast page
                raise SystemExit(f"{portal}: signing in failed; {member_page} does not answer 200")
            for path in ("/login", member_page):
                print(f"{portal} {path}: {args.seconds:g} s under load …", file=sys.stderr, flush=True)
                rps, p50, p99 = measure(base + path, cookie, args.seconds, args.connections)
                rows.append((portal, path, rps, p50, p99))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
    print(f"\nMachine: {machine()}. Load: {tool}, {args.connections} connections, {args.seconds:g} s per page.\n")
    print("| portal | page | requests/s | p50 | p99 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for portal, path, rps, p50, p99 in rows:
        print(f"| {portal} | `{path}` | {rps:.0f} | {p50:.1f} ms | {p99:.1f} ms |")


if __name__ == "__main__":
    main()
