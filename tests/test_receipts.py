"""The run folder's hash chain and atomic writes, without a browser."""
import json
from datetime import datetime
from pathlib import Path

from scripts.receipts import RunFolder, StepRecord, safe_name, verify


def make_run(tmp_path: Path, n: int = 3) -> Path:
    folder = RunFolder(tmp_path, "demo", datetime(2026, 11, 22, 10, 0, 0))
    for i in range(1, n + 1):
        shot = folder.screenshot_path(i, f"第{i}步")
        shot.write_bytes(b"\x89PNG fake " + bytes([i]))
        folder.append(StepRecord(index=i, name=f"第{i}步", action="click", target="x", source="s.yaml:1", flow=None,
                                 started_at="t", duration_ms=1, status="passed", screenshot=str(shot.relative_to(folder.path))))
    folder.write_manifest({"status": "passed"})
    folder.close()
    return folder.path


def test_intact_run_verifies(tmp_path):
    run = make_run(tmp_path)
    assert verify(run) == []
    assert len((run / "steps.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    assert not list(run.glob(".*.tmp"))  # no half-written manifest left behind


def test_altered_record_is_named(tmp_path):
    run = make_run(tmp_path)
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    m["steps"][1]["status"] = "failed"
    (run / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    problems = verify(run)
    assert any("step 2 (第2步): record altered" in p for p in problems)


def test_removed_record_breaks_the_chain(tmp_path):
    run = make_run(tmp_path)
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    del m["steps"][1]
    (run / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    assert any("chain broken" in p for p in verify(run))


def test_missing_receipt_is_named(tmp_path):
    run = make_run(tmp_path)
    (run / "receipts" / "02-第2步.png").unlink()
    assert "receipts/02-第2步.png: receipt missing" in verify(run)


def test_same_second_runs_get_distinct_folders(tmp_path):
    a = RunFolder(tmp_path, "demo", datetime(2026, 11, 22, 10, 0, 0))
    b = RunFolder(tmp_path, "demo", datetime(2026, 11, 22, 10, 0, 0))
    assert a.path != b.path and b.path.name.endswith("-2")


def test_safe_names_keep_chinese_and_drop_path_characters():
    assert safe_name("点击「确认退订」") == "点击-确认退订"
    assert "/" not in safe_name("../../etc/passwd") and safe_name("") == "step"


def test_not_a_run_folder(tmp_path):
    assert "missing" in verify(tmp_path)[0]
