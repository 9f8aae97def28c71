"""Suite throughput against a hand-written *async* Playwright script with the same concurrency.

N copies of the Migu website journey (scenarios/migu/web_unsubscribe.yaml), each on a fresh embedded
portal: `tuiding run … -j C` against the same journey hand-written with Playwright's async API
(`asyncio` + one browser, C journeys at a time, a screenshot per shown step as in benchmarks/overhead.py).
tuiding runs with --no-a11y: the scenario asks for an axe-core audit of every page, which the script does
not do (benchmarks/overhead.py measures what the audits cost); the like-for-like row also passes --no-visual
(the script compares no screenshot with a baseline either; overhead.py turns baselines off too), and a
third row shows tuiding with the scenario's visual baselines compared. Both are new processes timed from start to
exit, alternated; medians. Peak PSS of each process tree as in benchmarks/suite.py, also at -j 1 once,
for the memory each extra concurrent journey costs. Prints a Markdown table.

    .venv/bin/python benchmarks/async_suite.py                        # 24 journeys, -j 4, 3 rounds
    .venv/bin/python benchmarks/async_suite.py --journeys 4 --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from overhead import machine
from suite import measure

ROOT = Path(__file__).parents[1]
SCENARIO = "scenarios/migu/web_unsubscribe.yaml"


async def journey(browser: object, out: Path) -> None:
    """benchmarks/overhead.py's hand-written journey, in Playwright's async API, on its own portal."""
    from tuiding_portals.server import EmbeddedPortal

    portal = await asyncio.to_thread(EmbeddedPortal, "migu")
    portal.__enter__()
    context = await browser.new_context(base_url=portal.url, viewport={"width": 1280, "height": 720})  # type: ignore[attr-defined]
    try:
        await unsubscribe(await context.new_page(), out)
    finally:
        await context.close()
        await asyncio.to_thread(portal.close)


async def unsubscribe(page: Any, out: Path) -> None:
    """The journey's steps, one screenshot per shown step like the scenario's receipts."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import expect

    out.mkdir(parents=True)
    n = 0

    async def shot(full: bool = False) -> None:
        nonlocal n
        n += 1
        for attempt in range(5):  # Chromium's transient "Unable to capture screenshot" (tuiding retries it too)
            try:
                await page.screenshot(path=out / f"{n:02d}.png", full_page=full)
                return
            except PlaywrightError:
                if attempt == 4:
                    raise
                await page.wait_for_timeout(100)

    await page.goto("/login")
    await shot()
    await page.get_by_label("账号").fill("13800000001")
    await page.get_by_label("密码").fill("migu-pass-001")
    await shot()
    await page.get_by_role("button", name="登录").click()
    await shot()
    await expect(page.get_by_text("欢迎回来")).to_be_visible()
    await shot()
    await page.get_by_role("link", name="会员中心").first.click()
    await shot()
    await expect(page.get_by_text("生效中").first).to_be_visible()
    await page.get_by_role("link", name="会员管理").first.click()
    await shot()
    await page.get_by_role("link", name="立即退订").click()
    await shot()
    await expect(page.get_by_text("咪咕会员退订协议").first).to_be_visible()
    await shot()
    await page.get_by_label("我已阅读并同意《咪咕会员退订协议》").check()
    await shot()
    await page.get_by_role("button", name="下一步").click()
    await shot()
    await expect(page.get_by_text("确认后立即生效")).to_be_visible()
    await shot()
    await page.get_by_role("button", name="确认退订").click()
    await shot(full=True)
    await expect(page.get_by_text("退订凭证").first).to_be_visible()
    await shot()
    receipt = await page.get_by_test_id("receipt-no").inner_text()
    await page.get_by_test_id("receipt-no").screenshot(path=out / "receipt.png")
    await page.get_by_role("link", name="返回会员中心").click()
    await shot()
    await expect(page.get_by_text("已退订").first).to_be_visible()
    await shot()
    await expect(page.get_by_text(receipt).first).to_be_visible()
    await shot()


async def hand_written_suite(n: int, jobs: int, out: Path) -> None:
    from playwright.async_api import async_playwright

    from tuiding.browser import find_browser, launch_options

    async with async_playwright() as p:
        browser = await p.chromium.launch(**launch_options(find_browser()))
        gate = asyncio.Semaphore(jobs)

        async def one(i: int) -> None:
            async with gate:
                await journey(browser, out / f"{i:03d}")

        await asyncio.gather(*(one(i) for i in range(n)))
        await browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=24)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hand-written", metavar="OUT", help=argparse.SUPPRESS)  # the async script's own process
    args = ap.parse_args()
    if args.hand_written:
        asyncio.run(hand_written_suite(args.journeys, args.jobs, Path(args.hand_written)))
        return
    py = sys.executable

    def commands(jobs: int, tag: str) -> dict[str, list[str]]:
        n = str(args.journeys)
        return {
            "hand-written async": [py, __file__, "--journeys", n, "--jobs", str(jobs), "--hand-written", f"{tmp}/h{tag}"],
            "tuiding run --no-visual": [py, "-m", "tuiding", "run", *[SCENARIO] * args.journeys, "-j", str(jobs), "--no-a11y", "--no-visual", "--out", f"{tmp}/t{tag}"],
            "tuiding run (baselines compared)": [py, "-m", "tuiding", "run", *[SCENARIO] * args.journeys, "-j", str(jobs), "--no-a11y", "--out", f"{tmp}/v{tag}"],
        }  # fmt: skip

    labels = ["hand-written async", "tuiding run --no-visual", "tuiding run (baselines compared)"]
    walls: dict[str, list[float]] = {label: [] for label in labels}
    peaks: dict[str, list[float]] = {label: [] for label in labels}
    alone: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # One journey at a time, once: the memory baseline for "per extra concurrent journey".
        for label, cmd in commands(1, "one").items():
            _, alone[label], _ = measure(cmd)
            print(f"-j 1: {label}: peak PSS {alone[label]:.0f} MB", file=sys.stderr, flush=True)
        for r in range(args.rounds):
            for label, cmd in commands(args.jobs, str(r)).items():
                wall, peak, code = measure(cmd)
                if code != 0:
                    raise SystemExit(f"{label}: exit {code}")
                walls[label].append(wall)
                peaks[label].append(peak)
                print(f"round {r + 1}: {label}: {wall:.1f} s, peak PSS {peak:.0f} MB", file=sys.stderr, flush=True)
    hand = statistics.median(walls["hand-written async"])
    print(f"\n{machine()}; {args.journeys} × web_unsubscribe, {args.jobs} at a time, {args.rounds} alternated rounds\n")
    print("| variant | median s | journeys/min | throughput × hand-written async | peak PSS MB | per extra concurrent journey |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, values in walls.items():
        m, peak = statistics.median(values), statistics.median(peaks[label])
        extra = (peak - alone[label]) / (args.jobs - 1) if args.jobs > 1 else 0
        print(
            f"| {label} -j {args.jobs} | {m:.1f} | {60 * args.journeys / m:.1f} | {hand / m:.2f} | {peak:.0f} | {extra:+.0f} MB |"
        )


if __name__ == "__main__":
    main()
