"""Every broken scenario in tests/data/invalid/ gives exactly the error its last line expects."""
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.scenario import ScenarioInvalid, load_scenario

CORPUS = Path(__file__).parent / "data" / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))


def expected_line(path: Path) -> str:
    last = path.read_text(encoding="utf-8").rstrip("\n").splitlines()[-1]
    assert last.startswith("# expect: "), f"{path.name} must end with '# expect: FILE:LINE:COL: message'"
    return last[len("# expect: "):]


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_scenario_reports_file_line_col_and_message(path, monkeypatch):
    monkeypatch.chdir(CORPUS.parents[2])  # paths in messages are relative to the working directory
    with pytest.raises(ScenarioInvalid) as err:
        load_scenario(path.relative_to(CORPUS.parents[2]))
    assert [str(p) for p in err.value.problems] == [expected_line(path)]


def test_cli_validate_prints_one_line_per_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nportal: migu\nsteps:\n  - clik: 登录\n  - see: {txt: 已退订}\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "scripts.cli", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == f"{bad}:4:5: unknown action or key 'clik'; did you mean 'click'?"
    assert lines[1].startswith(f"{bad}:5:11: unknown key 'txt'") and "did you mean 'text'?" in lines[1]
    assert lines[2] == "2 problem(s) in 1 file(s)"


def test_cli_run_with_invalid_input_starts_no_browser_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nportal: migu\nsteps:\n  - goto: /\n    retyr: 2\n", encoding="utf-8")
    out = tmp_path / "runs"
    r = subprocess.run([sys.executable, "-m", "scripts.cli", "run", str(bad), "--out", str(out)],
                       capture_output=True, text=True, env={"TUIDING_BROWSER": "/nonexistent", "PATH": ""})
    assert r.returncode == 2
    assert "did you mean 'retry'?" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_project_scenarios_and_flows_are_valid():
    root = Path(__file__).parents[1] / "scenarios"
    r = subprocess.run([sys.executable, "-m", "scripts.cli", "validate", str(root)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_env_default_and_missing_env(tmp_path, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nportal: migu\nvars:\n  pw: ${env:TUIDING_T_PW:-dflt}\nsteps:\n  - goto: /\n", encoding="utf-8")
    assert load_scenario(f).vars["pw"] == "${env:TUIDING_T_PW:-dflt}"  # resolved at run time, not load time


def test_schema_lists_every_action():
    import json
    from scripts.schema import scenario_schema
    from scripts.steps import ACTIONS

    schema = scenario_schema()
    titles = [s["title"] for s in schema["$defs"]["Step"]["oneOf"]]
    assert titles == list(ACTIONS)
    assert schema["required"] == ["name", "steps"]
    json.dumps(schema)  # serialisable
