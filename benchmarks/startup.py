"""Start-up: process start → first receipt on disk for a one-step scenario, against a one-shot Playwright
script that opens the same embedded portal page and takes one screenshot; and `tuiding validate
scenarios/` wall time. New processes each time (what a user waits for), alternated; medians.
Python may cache compiled modules, as it does for an installed package (pip compiles them at install;
an editable install under PYTHONDONTWRITEBYTECODE=1 would compile tuiding's ~40 modules on every start,
~30 ms), and one unmeasured warm-up round fills that cache.

    .venv/bin/python benchmarks/startup.py              # 10 rounds
    .venv/bin/python benchmarks/startup.py --rounds 2   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine

ROOT = Path(__file__).parents[1]
ONE_STEP = "name: 启动\nportal: migu\nsteps:\n  - goto: /login\n"
ONE_SHOT = """
import sys
from playwright.sync_api import sync_playwright
from tuiding.browser import find_browser, launch_options
from tuiding_portals.server import migu
with migu() as url, sync_playwright() as p:
    browser = p.chromium.launch(**launch_options(find_browser()))
    page = browser.new_page()
    page.goto(url + "/login")
    page.screenshot(path=sys.argv[1])
    browser.close()
"""


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def until_file(cmd: list[str], pattern: str, folder: Path) -> float:
    """Seconds from starting `cmd` until a file matching `pattern` exists under `folder` (then it may finish)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = None
    while seen is None:
        if any(folder.glob(pattern)):
            seen = time.monotonic() - t0
        elif proc.poll() is not None:
            raise SystemExit(f"{' '.join(cmd[:5])}: exit {proc.returncode} before {pattern}: {proc.stderr.read()[-500:]}")
        else:
            time.sleep(0.005)
    proc.wait()
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    times: dict[str, list[float]] = {
        "one-shot Playwright script": [],
        "tuiding run (one step)": [],
        "tuiding validate scenarios/": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "start.yaml"
        scen.write_text(ONE_STEP, encoding="utf-8")
        script = Path(tmp) / "one_shot.py"
        script.write_text(ONE_SHOT, encoding="utf-8")
        for r in range(-1, args.rounds):  # round -1: the warm-up, not counted
            raw, ours = Path(tmp) / f"raw{r}", Path(tmp) / f"ours{r}"
            raw.mkdir()
            one_shot = until_file([sys.executable, str(script), str(raw / "a.png")], "a.png", raw)
            run = until_file([sys.executable, "-m", "tuiding", "run", str(scen), "--out", str(ours)], "*/receipts/*.png", ours)
            t0 = time.monotonic()
            subprocess.run(
                [sys.executable, "-m", "tuiding", "validate", "scenarios/"], cwd=ROOT, env=ENV, capture_output=True, check=True
            )
            validate = time.monotonic() - t0
            if r >= 0:
                times["one-shot Playwright script"].append(one_shot)
                times["tuiding run (one step)"].append(run)
                times["tuiding validate scenarios/"].append(validate)
    base = statistics.median(times["one-shot Playwright script"])
    print(f"{machine()}; {args.rounds} alternated rounds, a new process each time\n")
    print("| what | median s | vs one-shot script |")
    print("| --- | ---: | ---: |")
    for label, ts in times.items():
        m = statistics.median(ts)
        rel = f"{m - base:+.2f} s" if label.startswith("tuiding run") else ("—" if "validate" in label else "0")
        print(f"| {label} | {m:.2f} | {rel} |")


if __name__ == "__main__":
    main()
