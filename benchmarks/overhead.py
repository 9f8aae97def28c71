"""What tuiding costs over the same journey written by hand in Playwright.

scenarios/migu/web_unsubscribe.yaml against the same hand-written Python (same browser, a fresh
embedded portal each run, a screenshot per step like the scenario's receipts), alternated so that a
busy moment on this shared machine hits every variant alike. Prints medians and ratios to the
hand-written time as a Markdown table with the machine's description.

    .venv/bin/python benchmarks/overhead.py              # 20 alternated rounds
    .venv/bin/python benchmarks/overhead.py --rounds 3   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tuiding.browser import BrowserSession
from tuiding.options import RunOptions
from tuiding.runner import run_scenario
from tuiding.scenario import load_scenario
from tuiding_portals.server import EmbeddedPortal

ROOT = Path(__file__).parents[1]
SCENARIO = ROOT / "scenarios" / "migu" / "web_unsubscribe.yaml"


def hand_written(page: Page, out: Path) -> None:
    """The scenario's journey as a person would write it in Playwright, one screenshot per shown step."""
    n = 0

    def shot(full: bool = False) -> None:
        nonlocal n
        n += 1
        for attempt in range(5):  # Chromium's transient "Unable to capture screenshot" (tuiding retries it too)
            try:
                page.screenshot(path=out / f"{n:02d}.png", full_page=full)
                return
            except PlaywrightError:
                if attempt == 4:
                    raise
                page.wait_for_timeout(100)

    page.goto("/login")
    shot()
    page.get_by_label("账号").fill("13800000001")
    page.get_by_label("密码").fill("migu-pass-001")
    shot()
    page.get_by_role("button", name="登录").click()
    shot()
    expect(page.get_by_text("欢迎回来")).to_be_visible()
    shot()
    page.get_by_role("link", name="会员中心").first.click()
    shot()
    expect(page.get_by_text("生效中").first).to_be_visible()
    page.get_by_role("link", name="会员管理").first.click()
    shot()
    page.get_by_role("link", name="立即退订").click()
    shot()
    expect(page.get_by_text("咪咕会员退订协议").first).to_be_visible()
    shot()
    page.get_by_label("我已阅读并同意《咪咕会员退订协议》").check()
    shot()
    page.get_by_role("button", name="下一步").click()
    shot()
    expect(page.get_by_text("确认后立即生效")).to_be_visible()
    shot()
    page.get_by_role("button", name="确认退订").click()
    shot(full=True)
    expect(page.get_by_text("退订凭证").first).to_be_visible()
    shot()
    receipt = page.get_by_test_id("receipt-no").inner_text()
    page.get_by_test_id("receipt-no").screenshot(path=out / "receipt.png")
    page.get_by_role("link", name="返回会员中心").click()
    shot()
    expect(page.get_by_text("已退订").first).to_be_visible()
    shot()
    expect(page.get_by_text(receipt).first).to_be_visible()
    shot()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, Playwright {version('playwright')}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    audited = load_scenario(SCENARIO)
    # The scenario also runs axe-core on every new page (a11y: true), which the hand-written script does not:
    # measured apart, so the runner's own cost is the like-for-like row.
    plain = replace(audited, header=audited.header.model_copy(update={"a11y": False}))
    variants = {
        "tuiding, as the scenario says (axe audit per page)": (audited, "on-retry"),
        "tuiding, no audit (the default: --trace on-retry, nothing traced on a pass)": (plain, "on-retry"),
        "tuiding, no audit, --trace on-failure (every run traced; the old default)": (plain, "on-failure"),
    }
    times: dict[str, list[float]] = {"hand-written Playwright": [], **{label: [] for label in variants}}
    with tempfile.TemporaryDirectory() as tmp, BrowserSession() as session:
        out = Path(tmp)
        for r in range(args.rounds):
            t0 = time.monotonic()
            with EmbeddedPortal("migu") as portal:
                context = session.new_context(base_url=portal.url, locale="zh-CN", timezone_id="Asia/Shanghai")
                page = context.new_page()
                shots = out / f"raw{r}"
                shots.mkdir()
                hand_written(page, shots)
                context.close()
            times["hand-written Playwright"].append(time.monotonic() - t0)
            for label, (scenario, trace) in variants.items():
                opts = RunOptions(out_dir=out / "runs", trace=trace, browser=session.description, baselines="off")
                t0 = time.monotonic()
                result = run_scenario(scenario, session, opts)
                times[label].append(time.monotonic() - t0)
                assert result.passed, result.failure and result.failure.message
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{v[-1]:.2f}s" for v in times.values()), flush=True)
    raw = statistics.median(times["hand-written Playwright"])
    print(f"\n{machine()}, {session.description}; {args.rounds} alternated rounds of {SCENARIO.name}")
    print("(visual baselines off in every tuiding row; each row starts its own fresh embedded portal)\n")
    print("| variant | median s | × hand-written |\n| --- | ---: | ---: |")
    for label, values in times.items():
        print(f"| {label} | {statistics.median(values):.2f} | {statistics.median(values) / raw:.2f} |")


if __name__ == "__main__":
    main()
