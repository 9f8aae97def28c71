"""The standard results QA teams plug into: CTRF (validated against the published schema of the npm package `ctrf`)
and Allure (read back by Allure's own report generator, `allure-commandline`), from `run --results` and `merge`.
`make bootstrap` fetches both tools into build/tools/ (tuiding.bootstrap.fetch_result_tools)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, run_cli
from support.runs import make_run

CTRF_SCHEMA = ROOT / "build" / "tools" / "ctrf" / "dist" / "ctrf-schema-0.0.json"
ALLURE = ROOT / "build" / "tools" / "allure" / "dist" / "bin" / "allure"

PASSING = "name: Passing journey\nportal: migu\ntags: [smoke]\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n"
FAILING = "name: Failing journey\nportal: migu\nsteps:\n  - goto: /login\n  - see: 不存在的文字\n    timeout: 0.5\n"


def _validate_ctrf(doc: dict) -> None:
    if not CTRF_SCHEMA.is_file():
        pytest.skip("the CTRF schema is fetched by `make bootstrap` (npm pack ctrf@0.3.0)")
    import jsonschema

    schema = json.loads(CTRF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(doc)


def _allure_report(results: Path, out: Path) -> dict:
    if not ALLURE.is_file() or shutil.which("java") is None:
        pytest.skip("Allure's generator is fetched by `make bootstrap` (npm pack allure-commandline) and needs Java")
    done = subprocess.run(
        [ALLURE, "generate", results, "-o", out, "--clean"], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "widgets" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    base = tmp_path_factory.mktemp("formats")
    (base / "passing.yaml").write_text(PASSING, encoding="utf-8")
    (base / "failing.yaml").write_text(FAILING, encoding="utf-8")
    r = run_cli(
        "run", base / "passing.yaml", base / "failing.yaml", "--out", base / "runs", "--retries", "1", "-j", "1",
        "--results", base / "results",
    )  # fmt: skip
    return base, base / "results", r


@pytest.mark.browser
def test_run_writes_a_ctrf_report_that_the_published_schema_accepts(suite) -> None:
    _, results, r = suite
    assert r.returncode == 1, r.stderr  # one journey failed (twice)
    doc = json.loads((results / "ctrf.json").read_text(encoding="utf-8"))
    _validate_ctrf(doc)
    summary = doc["results"]["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"]) == (2, 1, 1)
    tests = {t["name"]: t for t in doc["results"]["tests"]}
    passing, failing = tests["Passing journey"], tests["Failing journey"]
    assert [s["status"] for s in passing["steps"]] == ["passed", "passed"] and passing["tags"] == ["smoke"]
    assert all((results / a["path"]).is_file() for a in passing["attachments"])  # receipts and report, found from there
    assert failing["retries"] == 1 and failing["retryAttempts"][0]["status"] == "failed" and not failing["flaky"]
    assert "不存在的文字" in failing["message"]


@pytest.mark.browser
def test_run_writes_allure_results_that_allure_itself_reports(suite, tmp_path: Path) -> None:
    _, results, _ = suite
    summary = _allure_report(results / "allure-results", tmp_path / "allure-report")
    assert summary["statistic"]["passed"] == 1 and summary["statistic"]["failed"] == 1
    assert summary["statistic"]["total"] == 2  # the failed journey's first attempt is a retry, not a third test
    cases = [
        json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "allure-report" / "data" / "test-cases").glob("*.json")
    ]
    passing = next(c for c in cases if c["name"] == "Passing journey")
    steps = passing["testStage"]["steps"]
    assert len(steps) == 2 and steps[0]["name"].startswith("01 ") and steps[1]["name"].startswith("02 ")
    assert all(s["attachments"] and s["attachments"][0]["type"] == "image/png" for s in steps)
    assert {"name": "tag", "value": "smoke"} in passing["labels"]
    failing = [c for c in cases if c["name"] == "Failing journey"]
    assert sorted(c["hidden"] for c in failing) == [False, True]  # the first attempt: a retry, shown under the last
    assert next(c for c in failing if not c["hidden"])["retriesCount"] == 1


def test_merge_writes_both_for_folders_from_anywhere(tmp_path: Path) -> None:
    for n in range(2):
        make_run(tmp_path / "runs", 2, name=f"demo{n}", images=True, report=True)
    r = run_cli("merge", tmp_path / "runs", "--out", tmp_path / "merged")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "merged" / "ctrf.json").read_text(encoding="utf-8"))
    _validate_ctrf(doc)  # a record's unreadable times (these say "t") become 0, not an invalid report
    assert doc["results"]["summary"]["tests"] == 2
    assert len(list((tmp_path / "merged" / "allure-results").glob("*-result.json"))) == 2
    assert len(list((tmp_path / "merged" / "allure-results").glob("*-attachment.png"))) == 4


@pytest.mark.browser
def test_the_pytest_plugin_puts_each_journey_s_steps_and_receipts_in_its_allure_result(suite, tmp_path: Path) -> None:
    base, _, _ = suite
    command = [
        sys.executable, "-m", "pytest", str(base / "passing.yaml"), str(base / "failing.yaml"), "-p", "no:cacheprovider",
        "--rootdir", str(base), f"--tuiding-scenarios={base}", f"--tuiding-out={tmp_path / 'runs'}",
        f"--alluredir={tmp_path / 'allure'}",
    ]  # fmt: skip
    r = subprocess.run(command, capture_output=True, text=True, cwd=base, timeout=300)
    assert r.returncode == 1 and "1 failed, 1 passed" in r.stdout, r.stdout[-2000:]
    results = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "allure").glob("*-result.json")]
    by_name = {res["name"]: res for res in results}
    assert len(by_name) == 2, sorted(by_name)
    passing = next(res for name, res in by_name.items() if "passing" in name.lower())
    failing = next(res for name, res in by_name.items() if "failing" in name.lower())
    assert [s["status"] for s in passing["steps"]] == ["passed", "passed"]
    assert all(s["attachments"][0]["type"] == "image/png" for s in passing["steps"])
    assert any(a["name"] == "report.html" for a in passing["attachments"])
    assert failing["status"] == "failed" and failing["steps"][-1]["status"] == "failed"
    assert "不存在的文字" in failing["steps"][-1]["statusDetails"]["message"]
