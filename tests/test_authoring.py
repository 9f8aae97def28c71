"""What a newcomer tripped over: validate warns where YAML or a literal password would surprise them,
and the run masks a literal password anyway."""

from __future__ import annotations

import json

import pytest
from support import DATA

SCENARIO = DATA / "authoring" / "literal_password.yaml"
WARNINGS = [
    f"{SCENARIO.relative_to(DATA.parents[1])}:5:35: warning: a password typed as a literal would be kept in clear; "
    "put it in vars and list it under secrets (it is masked anyway)",
    f"{SCENARIO.relative_to(DATA.parents[1])}:7:10: warning: '# 登录成功' is a YAML comment, so the value is '欢迎回来'; "
    "quote the whole text to include it",
]


def test_validate_warns_but_does_not_fail(cli):
    r = cli("validate", SCENARIO.relative_to(DATA.parents[1]))
    assert r.returncode == 0
    assert r.stderr.splitlines() == WARNINGS


def test_quoted_text_and_secrets_give_no_warning(cli, tmp_path):
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        "name: 好写法\nportal: migu\nvars: {pw: migu-pass-004}\nsecrets: [pw]\nsteps:\n"
        '  - goto: /login\n  - fill: {账号: "13800000004", 密码: "${pw}"}\n  - see: "以 # 号结束"\n',
        encoding="utf-8",
    )
    r = cli("validate", clean)
    assert r.returncode == 0 and r.stderr == ""


def test_repo_scenarios_have_no_warnings(cli):
    r = cli("validate", "scenarios/")
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.browser
def test_a_literal_password_is_masked_and_the_step_warns(cli, tmp_path):
    r = cli("run", SCENARIO, "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "migu-pass-004" not in r.stdout + r.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for name in ("steps.jsonl", "manifest.json", "report.html"):
        assert "migu-pass-004" not in (run_dir / name).read_text(encoding="utf-8"), name
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert steps[1]["warnings"] == [
        "a literal value typed into a password field: masked like a secret; put it in vars and list it under secrets"
    ]
