"""Journeys on a Selenium Grid 4 against the same journeys on a local browser.

N Migu website pause journeys (scenarios/migu/web_pause.yaml, --no-a11y) three ways, alternated in each round:
`tuiding run -j 2` with the local Chromium; `--grid` on a standalone Grid with 2 Chromium slots (-j from its
free slots: 2); `--grid` on one with 1 slot. Both Grids run on this machine for the whole benchmark (the jar
`make bootstrap` fetches, Debian's chromium-driver). Reports median wall time, journeys per minute, the
launch overhead (wall time minus the journeys' own time, divided by the browsers started) and the peak PSS of
the tuiding process tree plus the Grid's (its JVM, chromedriver and the browsers it starts: the idle JVM is
shown apart). Prints a Markdown table.

    .venv/bin/python benchmarks/grid.py                       # 6 journeys, 3 rounds
    .venv/bin/python benchmarks/grid.py --journeys 2 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine
from suite import measure, pss_kb, tree

ROOT = Path(__file__).parents[1]
PY = sys.executable
JAR = ROOT / "build" / "tools" / "selenium" / "lib" / "selenium-server-4.20.0.jar"
SCENARIO = str(ROOT / "scenarios" / "migu" / "web_pause.yaml")
CONFIG = """[node]
detect-drivers = false
selenium-manager = false
max-sessions = {slots}
[[node.driver-configuration]]
display-name = "chromium"
stereotype = '{{"browserName": "chrome", "goog:chromeOptions": {{"binary": "{binary}"}}}}'
max-sessions = {slots}
webdriver-executable = "{driver}"
"""


def start_grid(slots: int, port: int, work: Path) -> subprocess.Popen[bytes]:
    config = work / f"grid-{slots}.toml"
    config.write_text(
        CONFIG.format(slots=slots, binary=shutil.which("chromium"), driver=shutil.which("chromedriver")), encoding="utf-8"
    )
    proc = subprocess.Popen(
        ["java", "-Djdk.httpclient.websocket.intermediateBufferSize=3000000", "-jar", str(JAR), "standalone",
         "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as answer:
                if json.loads(answer.read())["value"]["ready"]:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("a Grid did not become ready")


def run(cmd: list[str], grid: subprocess.Popen[bytes] | None, out: Path) -> tuple[float, float, float]:
    """Wall seconds, the journeys' own seconds (sum of manifests' durations), peak PSS MB (tuiding + Grid trees)."""
    wall, peak, _ = measure(cmd, grid.pid if grid is not None else None)
    own = sum(json.loads(m.read_text())["duration_ms"] / 1000 for m in out.glob("*/manifest.json"))
    return wall, own, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not (JAR.is_file() and shutil.which("java") and shutil.which("chromedriver")):
        raise SystemExit("needs build/tools/selenium (make bootstrap), java and chromedriver")
    files = [SCENARIO] * args.journeys
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        grids = {1: start_grid(1, 4451, work), 2: start_grid(2, 4452, work)}
        idle = {n: pss_kb(tree(g.pid)) / 1024 for n, g in grids.items()}
        variants = {
            "local Chromium, -j 2": ([], None, 2),
            "Grid, 2 slots (-j 2 from its free slots)": (["--grid", "http://127.0.0.1:4452"], grids[2], 2),
            "Grid, 1 slot": (["--grid", "http://127.0.0.1:4451"], grids[1], 1),
        }
        rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
        try:
            for r in range(args.rounds):
                for name, (extra, grid, _) in variants.items():
                    out = work / f"{r}-{len(rows[name])}-{abs(hash(name))}"
                    jobs = ["-j", "2"] if not extra else []
                    cmd = [PY, "-m", "tuiding", "run", *files, "--no-a11y", "--no-visual", "--out", str(out), *jobs, *extra]
                    rows[name].append(run(cmd, grid, out))
        finally:
            for g in grids.values():
                os.killpg(g.pid, 15)
    print(f"{machine()}; {args.journeys} × web_pause.yaml (--no-a11y --no-visual), {args.rounds} rounds, medians\n")
    print("| backend | wall s | journeys/min | (wall − journeys' own time) per browser, s | peak PSS MB (tuiding + Grid) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (_, _, browsers) in variants.items():
        wall = statistics.median(x[0] for x in rows[name])
        own = statistics.median(x[1] for x in rows[name])
        pss = statistics.median(x[2] for x in rows[name])
        overhead = max(0.0, wall - own / browsers) / browsers
        print(f"| {name} | {wall:.1f} | {60 * args.journeys / wall:.1f} | {overhead:.1f} | {pss:.0f} |")
    print(f"\nIdle Grid JVM: {idle[1]:.0f} MB (1 slot), {idle[2]:.0f} MB (2 slots).")


if __name__ == "__main__":
    main()
