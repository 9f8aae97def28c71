"""`tuiding run -j N`: journeys at once in one browser give the same run folders as one after another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import run_cli

pytestmark = pytest.mark.browser

SCENARIOS = ["scenarios/cloudpc/one_click.yaml", "scenarios/migu/web_pause.yaml", "scenarios/cloudpc/order_again.yaml"]


def _steps(run_dir: Path) -> list[tuple[str, str, str | None]]:
    lines = (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    return [(r["name"], r["status"], r["screenshot"]) for r in map(json.loads, lines)]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same three journeys, sequential (-j 1) and all at once (-j 3)."""
    out = {}
    for jobs in ("1", "3"):
        folder = tmp_path_factory.mktemp(f"j{jobs}")
        r = run_cli("run", *SCENARIOS, "--out", folder, "--json", "-j", jobs)
        assert r.returncode == 0, r.stdout + r.stderr
        out[jobs] = [json.loads(line) for line in r.stdout.splitlines()]
    return out


def test_concurrent_journeys_give_the_run_folders_of_a_sequential_run(both):
    seq, par = both["1"], both["3"]
    assert [r["file"] for r in par] == SCENARIOS  # JSON Lines in the order given, whatever order they ended in
    for a, b in zip(seq, par, strict=True):
        assert a["status"] == b["status"] == "passed"
        assert _steps(Path(a["run_dir"])) == _steps(Path(b["run_dir"]))
        for key in ("clicks", "pages", "inputs", "verifications"):
            assert a["metrics"][key] == b["metrics"][key], key
        assert a["metrics"]["receipt"]["found"] == b["metrics"]["receipt"]["found"]  # the numbers are random
        v = run_cli("verify", b["run_dir"])
        assert v.returncode == 0, v.stderr


def test_concurrent_output_is_a_line_per_journey_and_a_table(tmp_path):
    from rich.cells import cell_len

    broken = tmp_path / "broken.yaml"
    name = "找不到 · " + "一个很长的场景名字" * 5  # wider than the table's 40-cell name column
    broken.write_text(
        f"name: {name}\nportal: migu\nsteps:\n  - goto: /login\n  - click: 不存在的按钮\n    timeout: 1s\n", encoding="utf-8"
    )
    r = run_cli("run", SCENARIOS[0], broken, "--out", tmp_path / "runs", "-j", "2", "--lang", "en")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert f"FAILED {name}: step 2" in r.stderr and "不存在的按钮" in r.stderr
    finished = [line for line in r.stdout.splitlines() if line.startswith(("✓ [", "✗ ["))]
    assert len(finished) == 2 and all(" of " not in line for line in finished)
    table = r.stdout.split("1 passed, 1 failed", 1)[1].splitlines()[1:3]
    assert table[0].lstrip().startswith("✓ 移动云电脑") and table[1].lstrip().startswith("✗ 找不到"), table
    # The cut name says so, and the columns after it line up (CJK characters are two cells wide).
    assert table[1].split(" failed ")[0].rstrip().endswith("…") and name not in table[1], table
    assert cell_len(table[0].split(" passed ")[0]) == cell_len(table[1].split(" failed ")[0]), table


def test_ctrl_c_during_offloaded_work_lets_the_thread_finish_first(playwright, browser):
    """A journey interrupted while its work runs in a thread (a portal starting, under -j) sees the
    KeyboardInterrupt only once the thread is done: what the thread set up is there to be torn down."""
    import threading

    from tuiding.parallel import offload, run_concurrently

    thread_done = threading.Event()
    seen: dict[str, bool] = {}
    page = browser.new_page()

    def slow() -> str:
        threading.Event().wait(0.6)
        thread_done.set()
        return "started"

    def offloading() -> str:
        try:
            return offload(slow)
        except KeyboardInterrupt:
            seen["thread done when interrupted"] = thread_done.is_set()
            raise

    def pressing_ctrl_c() -> None:
        page.wait_for_timeout(150)  # the other journey is in its thread by now
        raise KeyboardInterrupt

    import signal

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        run_concurrently(playwright, [offloading, pressing_ctrl_c], workers=2)
    assert seen == {"thread done when interrupted": True}
    # Ignored while the journeys sealed, then put back: an ignored SIGTERM would pass to every later child.
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    page.close()
