"""Suite throughput and memory: the same journeys by `tuiding run -j 1/2/4` and as pytest tests (the
tuiding pytest plugin on pytest-playwright's fixtures) with and without `pytest -n 2`.

Every variant is a new process (what a user starts), measured from start to exit, with the peak PSS of
its whole process tree (Python, Playwright's driver, Chromium and its renderers; PSS, not RSS, because
renderers share memory), sampled every 0.2 s. Variants alternate within each round. Prints a Markdown
table with the machine's description.

    .venv/bin/python benchmarks/suite.py                 # 12 journeys, 2 rounds
    .venv/bin/python benchmarks/suite.py --journeys 24 --rounds 3
    .venv/bin/python benchmarks/suite.py --journeys 4 --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine

ROOT = Path(__file__).parents[1]
PY = sys.executable


def suite(n: int) -> list[str]:
    """The repo's journeys that pass on a fresh portal, repeated to n (each run starts its own portal)."""
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").rglob("*.yaml") if "flows" not in p.parts)
    return [files[i % len(files)] for i in range(n)]


def tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [pid], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def pss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def measure(cmd: list[str], also: int | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak PSS in MB of the process tree (and of the tree of process `also`), exit code."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, pss_kb(tree(proc.pid) + (tree(also) if also is not None else [])))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.monotonic() - t0
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])}…: exit {proc.returncode}\n{err[-2000:]}")
    return wall, peak / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    files = suite(args.journeys)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        variants = {
            "tuiding run -j 1": [PY, "-m", "tuiding", "run", *files, "-j", "1", "--out", str(out / "a")],
            "tuiding run -j 2": [PY, "-m", "tuiding", "run", *files, "-j", "2", "--out", str(out / "b")],
            "tuiding run -j 4": [PY, "-m", "tuiding", "run", *files, "-j", "4", "--out", str(out / "c")],
            "pytest (plugin, one process)": [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files, "--tuiding-out", str(out / "d")],
            "pytest -n 2 (plugin, two workers)": [
                PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *files, "--tuiding-out", str(out / "e"),
            ],
        }  # fmt: skip
        walls: dict[str, list[float]] = {k: [] for k in variants}
        peaks: dict[str, list[float]] = {k: [] for k in variants}
        for r in range(args.rounds):
            for label, cmd in variants.items():
                wall, peak, code = measure(cmd)
                walls[label].append(wall)
                peaks[label].append(peak)
                print(f"round {r + 1}: {label}: {wall:.1f} s, peak PSS {peak:.0f} MB (exit {code})", file=sys.stderr, flush=True)
    base = statistics.median(walls["tuiding run -j 1"])
    best_pytest = min(statistics.median(walls[k]) for k in variants if k.startswith("pytest"))
    print(
        f"{machine()}; {args.journeys} journeys (the repo's scenarios, each on a fresh portal), {args.rounds} alternated rounds\n"
    )
    print("| variant | median s | journeys/min | × -j 1 throughput | × best pytest | peak PSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label in variants:
        m = statistics.median(walls[label])
        print(
            f"| {label} | {m:.1f} | {60 * args.journeys / m:.1f} | {base / m:.2f} | {best_pytest / m:.2f} | "
            f"{statistics.median(peaks[label]):.0f} |"
        )
    one, two = statistics.median(peaks["tuiding run -j 1"]), statistics.median(peaks["tuiding run -j 2"])
    four = statistics.median(peaks["tuiding run -j 4"])
    print(
        f"\nMemory per extra concurrent journey (peak PSS): -j 2 vs -j 1 {two - one:+.0f} MB; -j 4 vs -j 2 {(four - two) / 2:+.0f} MB each"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
