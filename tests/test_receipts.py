"""The run folder's typed records, hash chain, seal and atomic writes, without a browser."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from support.runs import make_run

from tuiding.receipts import RunFolder, safe_name
from tuiding.record import RunFolderError, StepRecord, load_manifest, load_steps
from tuiding.verify import verify


def edit_manifest(run: Path, change) -> None:
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    change(m)
    (run / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def test_intact_run_verifies_and_reads_back_typed(tmp_path):
    run = make_run(tmp_path)
    assert verify(run).problems == []
    assert [r.index for r in load_steps(run)] == [1, 2, 3]
    m = load_manifest(run)
    assert m.format == 1 and m.seal and [f.path for f in m.files][-1] == "steps.jsonl"
    assert not list(run.glob(".*.tmp"))  # no half-written manifest left behind


def test_altered_record_is_named(tmp_path):
    run = make_run(tmp_path)
    edit_manifest(run, lambda m: m["steps"][1].update(status="failed"))
    assert any("step 2 (第2步): record altered" in p for p in verify(run).problems)


def test_altered_jsonl_record_with_its_hash_kept_is_caught(tmp_path):
    run = make_run(tmp_path)
    lines = (run / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    rec["name"] = "别的步骤"
    lines[0] = json.dumps(rec, ensure_ascii=False)
    (run / "steps.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = verify(run).problems
    assert any("record altered" in p for p in problems) and any("disagree" in p for p in problems)


def test_status_flip_is_caught_by_the_seal(tmp_path):
    run = make_run(tmp_path, status="failed")
    edit_manifest(run, lambda m: m.update(status="passed"))
    assert any("run metadata altered" in p for p in verify(run).problems)


def test_removed_record_breaks_the_chain(tmp_path):
    run = make_run(tmp_path)
    edit_manifest(run, lambda m: m["steps"].pop(1))
    assert any("chain broken" in p for p in verify(run).problems)


def test_missing_receipt_and_extra_receipt_are_named(tmp_path):
    run = make_run(tmp_path)
    (run / "receipts" / "02-第2步.png").unlink()
    (run / "receipts" / "99-extra.png").write_bytes(b"x")
    problems = verify(run).problems
    assert "receipts/02-第2步.png: receipt missing" in problems
    assert "receipts/99-extra.png: not part of the sealed run (added afterwards)" in problems


def test_deleted_steps_jsonl_is_caught(tmp_path):
    run = make_run(tmp_path)
    (run / "steps.jsonl").unlink()
    assert any("steps.jsonl: missing" in p for p in verify(run).problems)


def test_unsealed_finished_run_is_refused_but_a_killed_run_verifies_what_it_kept(tmp_path):
    run = make_run(tmp_path / "a", sealed=False)
    assert any("not sealed" in p for p in verify(run).problems)
    killed = make_run(tmp_path / "b", status="running", sealed=False)
    v = verify(killed)
    assert v.ok and v.steps == 3 and "incomplete run" in v.notes[0]


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"{not json", "manifest.json:1:2: not valid JSON"),
        (b"[1, 2]", "not a tuiding Manifest"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b'{"format": 9}', "run-folder format 9"),
    ],
)
def test_broken_manifest_is_one_line_not_a_traceback(tmp_path, content, expected):
    run = make_run(tmp_path)
    (run / "manifest.json").write_bytes(content)
    problems = verify(run).problems
    assert len(problems) == 1 and expected in problems[0]


def test_truncated_jsonl_names_the_line(tmp_path):
    run = make_run(tmp_path)
    data = (run / "steps.jsonl").read_bytes()
    (run / "steps.jsonl").write_bytes(data[:-20])
    with pytest.raises(RunFolderError, match=r"steps.jsonl:3: not a JSON record"):
        load_steps(run)


def test_same_second_runs_get_distinct_folders(tmp_path):
    a = RunFolder(tmp_path, "demo", datetime(2026, 11, 22, 10, 0, 0))
    b = RunFolder(tmp_path, "demo", datetime(2026, 11, 22, 10, 0, 0))
    assert a.path != b.path and b.path.name.endswith("-2")


def test_safe_names_keep_chinese_and_drop_path_characters():
    assert safe_name("点击「确认退订」") == "点击-确认退订"
    assert "/" not in safe_name("../../etc/passwd") and safe_name("") == "step"


def test_not_a_run_folder(tmp_path):
    assert "missing" in verify(tmp_path).problems[0]


def test_page_text_counts_in_a_records_hash_only_when_kept():
    """PageFacts.text and .way_out were added within format 1: a record written before them still verifies,
    and a kept text is covered by the hash like every other field."""
    from tuiding.record import PageFacts, record_hash

    base = {
        "index": 1,
        "action": "see",
        "name": "看",
        "status": "passed",
        "started_at": "t",
        "source": "s.yaml:1",
        "duration_ms": 1,
    }
    without = StepRecord.model_validate({**base, "page": {"path": "/member"}})
    old = StepRecord.model_validate({**base, "page": {"path": "/member", "text": ""}})
    assert record_hash(without) == record_hash(old)
    kept = without.model_copy(update={"page": PageFacts(path="/member", text="确认退订信息")})
    changed = without.model_copy(update={"page": PageFacts(path="/member", text="确认退订信息!")})
    assert len({record_hash(without), record_hash(kept), record_hash(changed)}) == 3
    # the hash of a record without text is the hash of its JSON as written before the field existed
    import hashlib

    from tuiding.record import STEP_ADDED, canonical

    data = without.model_dump(mode="json", exclude={"hash", *STEP_ADDED})
    del data["page"]["text"], data["page"]["way_out"], data["page"]["done"]  # all added within format 1
    del data["events"]["emails"]  # likewise
    assert record_hash(without) == hashlib.sha256(canonical(data)).hexdigest()
