"""The benchmarks still run (one short iteration each; times are printed, never judged): a benchmark that
rots unnoticed — a renamed API, a scenario that changed — gives no numbers when someone needs them."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.browser


def bench(script: str, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def table_rows(out: str) -> dict[str, list[str]]:
    """A Markdown table's rows by first cell (header and rule lines left out)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")]
    return {row[0]: row[1:] for row in rows[1:] if not set(row[0]) <= {"-", ":"}}


NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def test_overhead_smoke_measures_every_variant_against_the_hand_written_journey():
    rows = table_rows(bench("overhead.py", "--rounds", "1"))
    assert rows["hand-written Playwright"][1] == "1.00"
    assert len(rows) == 4 and all(NUMBER.match(cell) for cells in rows.values() for cell in cells)


def test_messages_smoke_counts_the_driver_messages_of_both_journeys():
    rows = table_rows(bench("messages.py", "--rounds", "1"))
    hand_n, _, tuiding_n, _, _ = rows["all"]
    assert 20 < int(float(hand_n)) < int(float(tuiding_n))  # the script's screenshots alone are 16 messages
    # The same 16 receipts on both sides; a retried "Unable to capture screenshot" (Chromium's) sends one more.
    assert int(rows["Page.screenshot"][0]) >= 16 and int(rows["Page.screenshot"][2]) >= 16
    assert "Frame.evaluateExpression" in rows  # the friction probe, tuiding's own


def test_startup_smoke_times_the_first_receipt_and_validate():
    rows = table_rows(bench("startup.py", "--rounds", "1"))
    assert set(rows) == {"one-shot Playwright script", "tuiding run (one step)", "tuiding validate scenarios/"}
    assert all(NUMBER.match(cells[0]) for cells in rows.values())


def test_page_read_smoke_times_a_read_sent_whole_and_installed():
    rows = table_rows(bench("page_read.py", "--reads", "2"))
    assert set(rows) == {"sent whole", "installed"}
    assert all(NUMBER.match(cell) for cells in rows.values() for cell in cells)
