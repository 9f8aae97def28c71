"""`run --shard i/n [--durations]` splits a suite the same way on every machine; `merge` makes one summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import run_cli

from tuiding.shard import Shard, ShardError, load_durations, parse_shard, split


@dataclass(frozen=True)
class Item:
    file: Path
    row: str | None = None


ITEMS = [Item(Path(f"s/{name}.yaml")) for name in "abcdefg"] + [Item(Path("s/m.yaml"), row) for row in ("r1", "r2")]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "2", "1/3/4", ""])
def test_a_bad_shard_is_one_line(text):
    with pytest.raises(ShardError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 9, 12])
def test_shards_cover_the_suite_once_in_order_and_evenly(total):
    parts = [split(ITEMS, Shard(i, total)) for i in range(1, total + 1)]
    assert [it for part in parts for it in part] == ITEMS  # each once, in order
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


def test_durations_balance_the_shards_and_the_split_is_the_same_every_time():
    durations = {"s/a.yaml": 60.0, "s/b.yaml": 50.0, "s/c.yaml": 10.0, "s/d.yaml": 10.0, "s/m.yaml#r1": 30.0}
    parts = [split(ITEMS, Shard(i, 2), durations) for i in (1, 2)]
    assert sorted(map(str, [it for p in parts for it in p])) == sorted(map(str, ITEMS))
    median = 30.0  # the scenarios without a duration count as a typical one
    loads = [sum(durations.get(f"{it.file.as_posix()}{'#' + it.row if it.row else ''}", median) for it in p) for p in parts]
    assert abs(loads[0] - loads[1]) <= 30.0, loads
    assert parts == [split(list(ITEMS), Shard(i, 2), dict(durations)) for i in (1, 2)]


def test_durations_are_read_from_a_summary_or_run_folders(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"runs": [{"file": "s/a.yaml", "row": None, "duration_s": 3.5}]}), encoding="utf-8")
    assert load_durations(summary) == {"s/a.yaml": 3.5}
    run = tmp_path / "runs" / "20261124-000000-a"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"scenario": {"file": "s/a.yaml", "row": "x"}, "duration_ms": 1200}), "utf-8")
    assert load_durations(tmp_path / "runs") == {"s/a.yaml#x": 1.2}
    (tmp_path / "junk.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(ShardError, match="not a summary.json"):
        load_durations(tmp_path / "junk.json")
    with pytest.raises(ShardError, match="no finished runs"):
        load_durations(tmp_path)


# ---------------------------------------------------------------- end to end


def _scenario(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nportal: migu\nsteps:\n  - goto: /login\n{body}", encoding="utf-8")
    return path


@pytest.mark.browser
def test_shards_run_their_part_and_merge_into_one_summary(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("甲", "乙"):
        _scenario(suite, name, "  - see: 登录咪咕账号\n")
    _scenario(suite, "丙", "  - see: 这句话不在页面上\n    timeout: 1s\n")
    seen = []
    for i in (1, 2):
        r = run_cli("run", suite, "--shard", f"{i}/2", "--out", tmp_path / f"shard{i}", "--json", "-j", "1")
        assert r.returncode in (0, 1), r.stderr
        assert f"分片 {i}/2:" in r.stderr  # the suite's own lines in its scenarios' language
        seen += [json.loads(line)["scenario"] for line in r.stdout.splitlines()]
    assert sorted(seen) == sorted(["甲", "乙", "丙"])

    out = tmp_path / "summary"
    r = run_cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", out, "--lang", "en")
    assert r.returncode == 1, r.stdout + r.stderr  # 丙 failed
    assert r.stdout.startswith("3 runs: 2 passed (0 flaky), 1 not passed, 0 altered")
    assert "✗ 丙" in r.stderr and "Traceback" not in r.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["runs"] == 3 and summary["totals"]["failed"] == 1
    for run in summary["runs"]:
        assert (out / run["report"]).is_file()  # links work from the summary's folder
    suite_xml = ET.parse(out / "junit.xml").getroot()
    assert suite_xml.get("tests") == "3" and suite_xml.get("failures") == "1"
    failure = suite_xml.find(".//testcase[@name='丙']/failure")
    assert failure is not None and "这句话不在页面上" in failure.get("message", "")
    assert "丙" in (out / "summary.html").read_text(encoding="utf-8")

    # The durations of that run balance the next one; an altered receipt is reported as such.
    r = run_cli(
        "run",
        suite,
        "--shard",
        "1/3",
        "--durations",
        out / "summary.json",
        "--out",
        tmp_path / "again",
        "-j",
        "1",
        "--lang",
        "en",
    )
    assert r.returncode in (0, 1) and "shard 1/3: 1 of 3 scenarios" in r.stderr, r.stderr
    receipt = next((tmp_path / "shard1").glob("*/receipts/*.png"))
    receipt.write_bytes(receipt.read_bytes() + b"x")
    r = run_cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", out, "--lang", "en")
    assert r.returncode == 1 and ", 1 altered" in r.stdout
    assert ET.parse(out / "junit.xml").getroot().get("errors") == "1"


def test_bad_shard_and_merge_input_is_one_line_exit_2(cli, tmp_path):
    for args, line in [
        (("run", "scenarios/migu/web_pause.yaml", "--shard", "3/2"), "tuiding: --shard 3/2: the part must be between 1"),
        (
            ("run", "scenarios/migu/web_pause.yaml", "--durations", "x.json"),
            "tuiding: --durations balances shards: add --shard I/N",
        ),
        (
            ("run", "scenarios/migu/web_pause.yaml", "--shard", "1/2", "--durations", tmp_path),
            f"tuiding: {tmp_path}: no finished runs",
        ),
        (("merge", tmp_path), f"tuiding: {tmp_path}: no run folders in it"),
        (("merge", tmp_path / "nope"), f"tuiding: {tmp_path / 'nope'}: not a folder"),
    ]:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip().splitlines() == [line] or r.stderr.startswith(line), (args, r.stderr)
    r = cli("run", "scenarios/migu/web_pause.yaml", "--shard", "1/2", "--out", tmp_path / "runs")
    assert r.returncode == 0 and "这一分片没有要运行的场景" in r.stderr  # in the scenario's language
