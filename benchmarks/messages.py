"""Where a journey's time goes between Python and the browser: every message to Playwright's driver, counted
and timed from send to reply, for the Migu website journey by tuiding and hand-written (benchmarks/overhead.py's
script), alternated on one browser. Prints a Markdown table per method: median count and median total ms per
journey, for both, and the difference.

    .venv/bin/python benchmarks/messages.py              # 8 alternated pairs
    .venv/bin/python benchmarks/messages.py --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from overhead import SCENARIO, hand_written, machine
from playwright._impl.connection import Connection

from tuiding.browser import BrowserSession
from tuiding.options import RunOptions
from tuiding.runner import run_scenario
from tuiding.scenario import load_scenario
from tuiding_portals.server import EmbeddedPortal

# (Owner type.method, sent at, replied at or None for a fire-and-forget message)
Sent = list[tuple[str, float, list[float]]]


def spy(sent: Sent) -> Callable[[], None]:
    """Wrap Playwright's one way out to the driver (private API: a benchmark, not the tool); returns the undo."""
    original = Connection.send_message_to_server

    def counting(self: Connection, owner: Any, method: str, *args: Any) -> Any:
        replied: list[float] = []
        sent.append((f"{owner._type}.{method}", time.perf_counter(), replied))
        future = original(self, owner, method, *args)
        future.add_done_callback(lambda _: replied.append(time.perf_counter()))
        return future

    Connection.send_message_to_server = counting  # type: ignore[method-assign]
    return lambda: setattr(Connection, "send_message_to_server", original)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO)
    plain = replace(scenario, header=scenario.header.model_copy(update={"a11y": False}))  # like for like
    counts: dict[str, dict[str, list[int]]] = {"hand": defaultdict(list), "tuiding": defaultdict(list)}
    millis: dict[str, dict[str, list[float]]] = {"hand": defaultdict(list), "tuiding": defaultdict(list)}
    walls: dict[str, list[float]] = {"hand": [], "tuiding": []}
    sent: Sent = []
    undo = spy(sent)
    try:
        with tempfile.TemporaryDirectory() as tmp, BrowserSession() as session:
            out = Path(tmp)
            for r in range(args.rounds):
                for who in ("hand", "tuiding"):
                    sent.clear()
                    t0 = time.perf_counter()
                    if who == "hand":
                        with EmbeddedPortal("migu") as portal:
                            context = session.new_context(base_url=portal.url, locale="zh-CN", timezone_id="Asia/Shanghai")
                            shots = out / f"raw{r}"
                            shots.mkdir()
                            hand_written(context.new_page(), shots)
                            context.close()
                    else:
                        opts = RunOptions(out_dir=out / "runs", trace="on-retry", browser=session.description, baselines="off")
                        result = run_scenario(plain, session, opts)
                        assert result.passed, result.failure and result.failure.message
                    walls[who].append(time.perf_counter() - t0)
                    n, ms = Counter[str](), Counter[str]()
                    for method, at, replied in sent:
                        n[method] += 1
                        ms[method] += (replied[0] - at) * 1000 if replied else 0.0
                    n["all"], ms["all"] = len(sent), sum(ms.values())
                    for method in set(n) | set(counts[who]):  # a method not sent this round counts 0
                        counts[who][method].append(n[method])
                        millis[who][method].append(ms[method])
                print(
                    f"round {r + 1}/{args.rounds}: hand {walls['hand'][-1]:.2f}s, tuiding {walls['tuiding'][-1]:.2f}s", flush=True
                )
    finally:
        undo()

    def med(table: dict[str, dict[str, list[Any]]], who: str, method: str) -> float:
        values = table[who].get(method, [])
        return statistics.median(values + [0] * (args.rounds - len(values))) if values else 0.0

    methods = sorted(set(counts["hand"]) | set(counts["tuiding"]), key=lambda m: (m != "all", -med(millis, "tuiding", m)))
    print(f"\n{machine()}, {session.description}; {args.rounds} alternated pairs of {SCENARIO.name} (no audit, no baselines)")
    print(
        f"median wall: hand-written {statistics.median(walls['hand']):.2f} s, tuiding {statistics.median(walls['tuiding']):.2f} s\n"
    )
    print("| message | hand-written n | ms | tuiding n | ms | Δ ms |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for m in methods:
        h, t = med(millis, "hand", m), med(millis, "tuiding", m)
        print(f"| {m} | {med(counts, 'hand', m):g} | {h:.0f} | {med(counts, 'tuiding', m):g} | {t:.0f} | {t - h:+.0f} |")


if __name__ == "__main__":
    main()
