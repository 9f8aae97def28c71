"""Every broken scenario in tests/data/invalid/ gives exactly the errors its `# expect:` lines name;
the published JSON Schema agrees with the loader on every repo file."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from tuiding.cli import main
from tuiding.model import ACTIONS, device_names
from tuiding.scenario import ScenarioInvalid, load_scenario
from tuiding.schema import schema
from tuiding.variables import Context, UnresolvedVariable

ROOT = Path(__file__).parents[1]
CORPUS = Path(__file__).parent / "data" / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))


def expected_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8", errors="replace").rstrip("\n").splitlines()
    expect = [line[len("# expect: ") :] for line in lines if line.startswith("# expect: ")]
    assert expect, f"{path.name} must end with '# expect: FILE:LINE:COL: message' lines"
    return expect


def test_corpus_is_large_enough():
    assert len(CASES) >= 80


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_scenario_reports_file_line_col_and_message(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in messages are relative to the working directory
    with pytest.raises(ScenarioInvalid) as err:
        load_scenario(path.relative_to(ROOT))
    assert [str(p) for p in err.value.problems] == expected_lines(path)


def test_no_message_is_pydantics_own_english():
    """Messages are ours (model.py / scenario.py), so a pydantic upgrade cannot change them."""
    for path in CASES:
        for line in expected_lines(path):
            assert "Input should" not in line and "Value error" not in line and "invalid value (" not in line, line


def test_cli_validate_prints_one_line_per_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nportal: migu\nsteps:\n  - clik: 登录\n  - see: {txt: 已退订}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines[0] == f"{bad}:4:5: unknown action or key 'clik'; did you mean 'click'?"
    assert lines[1].startswith(f"{bad}:5:11: unknown key 'txt'") and "did you mean 'text'?" in lines[1]
    assert lines[2] == "2 problem(s) in 1 file(s)"


def test_cli_run_with_invalid_input_starts_no_browser_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nportal: migu\nsteps:\n  - goto: /\n    retyr: 2\n", encoding="utf-8")
    out = tmp_path / "runs"
    r = subprocess.run(
        [sys.executable, "-m", "tuiding", "run", str(bad), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TUIDING_BROWSER": "/nonexistent"},
    )
    assert r.returncode == 2
    assert "did you mean 'retry'?" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_validate_and_help_import_neither_playwright_nor_flask():
    code = (
        "import sys; from tuiding.cli import main\n"
        "try: main(['validate', 'scenarios'])\n"
        "except SystemExit as e: assert e.code in (0, None), e.code\n"
        "heavy = [m for m in ('playwright', 'flask', 'werkzeug', 'tuiding_portals') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr + r.stdout


def test_project_scenarios_and_flows_are_valid():
    r = CliRunner().invoke(main, ["validate", str(ROOT / "scenarios")])
    assert r.exit_code == 0, r.output


def test_a_flow_is_read_once_per_process_but_never_stale(tmp_path, monkeypatch):
    """Scenarios sharing a flow reuse its parsed, validated document — until the file changes; and a
    broken flow is reported for every scenario that runs it, not only the first."""
    import tuiding.scenario as S

    reads: list[Path] = []
    real_load = S.load_source
    monkeypatch.setattr(S, "load_source", lambda f: reads.append(Path(f)) or real_load(f))
    (tmp_path / "flows").mkdir()
    flow = tmp_path / "flows" / "open.yaml"
    flow.write_text("vars:\n  where: null\nsteps:\n  - goto: ${where}\n")
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\nsteps:\n  - run: flows/open.yaml\n    vars: {{where: /{name}}}\n")
    for name in ("a", "b"):
        assert load_scenario(tmp_path / f"{name}.yaml").steps[0].flow.steps[0].raw == {"goto": "${where}"}
    assert [p.name for p in reads].count("open.yaml") == 1

    flow.write_text("vars:\n  where: null\nsteps:\n  - goto: ${where}\n  - see: 首页\n")  # edited: read again
    assert len(load_scenario(tmp_path / "a.yaml").steps[0].flow.steps) == 2
    assert [p.name for p in reads].count("open.yaml") == 2

    flow.write_text("vars:\n  where: null\nsteps:\n  - goto: ${where}\n  - klick: 首页\n")
    for name in ("a", "b"):
        with pytest.raises(ScenarioInvalid) as exc:
            load_scenario(tmp_path / f"{name}.yaml")
        assert [(p.file.name, p.line, p.col) for p in exc.value.problems] == [("open.yaml", 5, 5)], exc.value.problems


def test_env_default_is_used_at_run_time_and_a_missing_env_is_an_error(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: x\nportal: migu\nvars:\n  pw: ${env:TUIDING_T_PW:-dflt}\n  need: ${env:TUIDING_T_NEED}\nsteps:\n  - goto: /\n"
    )
    sc = load_scenario(f)
    assert sc.vars["pw"] == "${env:TUIDING_T_PW:-dflt}"  # resolved at run time, not load time
    ctx = Context(vars={}, builtins={}, env={})
    assert ctx.substitute(sc.vars["pw"]) == "dflt"
    assert Context(vars={}, builtins={}, env={"TUIDING_T_PW": "set"}).substitute(sc.vars["pw"]) == "set"
    with pytest.raises(UnresolvedVariable, match=r"environment variable TUIDING_T_NEED is not set and has no default"):
        ctx.substitute(sc.vars["need"])


def test_schema_is_one_union_of_every_action():
    s = schema("scenario")
    step_union = s["properties"]["steps"]["items"]
    refs = [m["$ref"].rsplit("/", 1)[-1] for m in step_union["oneOf"]]
    assert [s["$defs"][r]["required"][0] for r in refs] == list(ACTIONS)
    assert s["required"] == ["name", "steps"]
    assert "button" in s["$defs"]["Target"]["properties"]["role"]["anyOf"][0]["enum"]  # closed sets complete in editors
    assert s["properties"]["portal"]["anyOf"][0]["enum"] == ["cloudpc", "migu"]


def _yaml_files():
    return sorted((ROOT / "scenarios").rglob("*.yaml"))


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_every_repo_file_is_valid_against_the_published_schema(path):
    kind = "flow" if "flows" in path.parts else "scenario"
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema(kind))


def test_schema_rejects_what_the_loader_rejects():
    s = schema("scenario")
    for bad in ({"name": "x", "steps": [{"clik": "登录"}]}, {"name": "x", "steps": [{"click": "a", "see": "b"}]}, {"steps": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, s)


@pytest.mark.current_deps  # pydantic's schema generation details differ between versions
def test_published_schema_files_match_the_code():
    for name in ("scenario", "flow", "run", "step", "result"):
        published = json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert published == schema(name), f"run: make docs (docs/schema/{name}.schema.json is stale)"


def test_device_names_are_shipped_and_plenty():
    names = device_names()
    assert len(names) > 100 and "iPhone 13" in names and "Pixel 7" in names


@pytest.mark.browser
def test_shipped_device_names_are_playwrights(session):
    """The shipped list is the installed Playwright's (regenerate: python -m tuiding.devices)."""
    shipped = json.loads((ROOT / "scripts" / "tuiding" / "data" / "devices.json").read_text(encoding="utf-8"))
    installed = sorted(session.devices)
    if re.match(r"\d+\.\d+", shipped["playwright"]) and shipped["playwright"] != __import__(
        "importlib.metadata"
    ).metadata.version("playwright"):
        assert set(shipped["devices"]) <= set(installed)
    else:
        assert shipped["devices"] == installed


def test_date_arithmetic_on_now():
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tuiding.variables import Context, RefError, parse_ref

    ctx = Context(vars={"nowhere": "a variable, not a date"}, builtins={}, tz="Asia/Shanghai")
    today = datetime.now(ZoneInfo("Asia/Shanghai"))
    week = ctx.substitute("可于 ${now+7d:%Y-%m-%d} 起重新开通")
    assert week in (
        f"可于 {(today + timedelta(days=7)):%Y-%m-%d} 起重新开通",
        f"可于 {(today + timedelta(days=8)):%Y-%m-%d} 起重新开通",
    )
    back = ctx.substitute("${now-1w-2d:%Y-%m-%d}")
    assert back in {f"{today - timedelta(days=9) + timedelta(days=d):%Y-%m-%d}" for d in (0, 1)}
    assert ctx.substitute("${nowhere}") == "a variable, not a date"
    with pytest.raises(RefError, match="units w d h m s"):
        parse_ref("now+7x")
