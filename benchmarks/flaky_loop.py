"""Flakiness: the repo's scenarios run again and again under `tuiding run -j 2` until at least --runs
journeys have run; every journey that does not pass is listed with its first error line. Every repo
scenario passes on a fresh portal, so any failure here is the tool's (or the machine's) — none is expected.

    .venv/bin/python benchmarks/flaky_loop.py               # ≥ 200 journeys
    .venv/bin/python benchmarks/flaky_loop.py --runs 30     # a smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine

ROOT = Path(__file__).parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("-j", "--jobs", default="2")
    args = ap.parse_args()
    statuses: Counter[str] = Counter()
    bad: list[str] = []
    passes = 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        while sum(statuses.values()) < args.runs:
            passes += 1
            out = Path(tmp) / f"pass{passes}"
            r = subprocess.run(
                [sys.executable, "-m", "tuiding", "run", "scenarios/", "-j", args.jobs, "--out", str(out), "--json"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if r.returncode not in (0, 1) or "Traceback" in r.stderr:
                bad.append(f"pass {passes}: exit {r.returncode}: {r.stderr.strip().splitlines()[-1:]}")
            for line in r.stdout.splitlines():
                res = json.loads(line)
                statuses[res["status"]] += 1
                if res["status"] != "passed":
                    why = (res.get("failure") or {}).get("message", "").splitlines()[:1]
                    bad.append(f"pass {passes}: {res['file']} [{res.get('row') or ''}] {res['status']}: {why}")
            print(f"pass {passes}: {sum(statuses.values())} journeys so far, {dict(statuses)}", file=sys.stderr, flush=True)
    minutes = (time.monotonic() - t0) / 60
    print(f"{machine()}; `tuiding run scenarios/ -j {args.jobs}` × {passes} passes in {minutes:.1f} min\n")
    print(f"{sum(statuses.values())} journeys: " + ", ".join(f"{n} {s}" for s, n in statuses.most_common()))
    for line in bad:
        print(f"- {line}")
    if not bad:
        print("No failures.")


if __name__ == "__main__":
    main()
