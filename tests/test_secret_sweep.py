"""No secret in any artefact, in any encoding: a journey types a password full of characters that
browsers encode (& % + space 中文 quotes <) — in a URL, as part of a longer field value, as a form body
— and fails on purpose so every artefact is written; then every file, zip member, file name, console
line, JSON line and JUnit report of the CLI and of pytest (tracing and video on) is searched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from support import DATA
from support.leaks import forms
from support.leaks import leaks as leaks_of

from tuiding.secrets import MASK, encodings

pytestmark = pytest.mark.browser
SCENARIO = DATA / "secret_sweep.yaml"
SECRETS = ["p&ss 密码+%\"<'x!", "migu-pass-003"]
FORMS = forms(SECRETS)


def test_the_scrubber_knows_every_encoding_searched_for():
    assert set(FORMS) - {f.lower() for f in FORMS} <= encodings(SECRETS[0]) | encodings(SECRETS[1])
    assert quote_plus(SECRETS[0]) == "p%26ss+%E5%AF%86%E7%A0%81%2B%25%22%3C%27x%21"


def leaks(folder: Path, *texts: str) -> list[str]:
    return leaks_of(folder, SECRETS, *texts)


def test_cli_artefacts_hold_no_secret_in_any_encoding(cli, tmp_path):
    r = cli("run", SCENARIO, "--out", tmp_path / "runs", "--trace", "on", "--walkthrough", "md,html")
    assert r.returncode == 1, r.stderr  # the last step fails on purpose: failure screenshot and trace too
    j = cli("run", SCENARIO, "--out", tmp_path / "json", "--json")
    run_dirs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert [p.name.endswith("-secret_sweep-row1") for p in run_dirs] == [True]  # the row's id is not its password
    assert (run_dirs[0] / "trace.zip").is_file()
    assert MASK in (run_dirs[0] / "steps.jsonl").read_text(encoding="utf-8")  # the secret was there, and masked
    assert leaks(tmp_path, r.stdout, r.stderr, j.stdout, j.stderr) == []


def test_pytest_artefacts_hold_no_secret_in_any_encoding(tmp_path):
    project = tmp_path / "project"  # a project of its own: the repo's conftest keeps tests/data out of collection
    project.mkdir()
    (project / SCENARIO.name).write_text(SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            SCENARIO.name,
            "--tuiding-scenarios",
            ".",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-v",
            "--tracing",
            "on",
            "--video",
            "on",
            "--output",
            str(tmp_path / "pw"),
            f"--tuiding-out={tmp_path / 'runs'}",
            f"--junitxml={tmp_path / 'junit.xml'}",
        ],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
    )
    assert r.returncode == 1, r.stdout[-2000:]
    assert "row1" in r.stdout and any((tmp_path / "pw").rglob("trace.zip")) and any((tmp_path / "pw").rglob("*.webm"))
    assert leaks(tmp_path, r.stdout, r.stderr) == []


PAINTED = """\
name: secret fields painted over
portal: migu
vars: {account: "13800000001", password: "not-the-password"}
secrets: [account, password]
steps:
  - goto: /login
    screenshot: {label: 账号}
  - wait: 0
    screenshot: {label: 密码}
  - fill: {账号: "${account}", 密码: "${password}"}
    screenshot: {label: 账号}
  - click: {role: button, name: 登录}
  - see: 账号或密码错误
    screenshot: {label: 账号}
"""


def test_secret_fields_are_painted_over_even_when_the_page_draws_them_anew(cli, tmp_path, run_dir_in):
    """Receipts never show a secret typed into a field: password fields and fields a secret went into are
    painted MASK_COLOR — also the form the portal draws again after a refused login, the account filled
    in by the server into a new element. An empty field that holds no secret is not painted."""
    from PIL import Image

    from tuiding.capture import MASK_COLOR

    scenario = tmp_path / "painted.yaml"
    scenario.write_text(PAINTED, encoding="utf-8")
    r = cli("run", scenario, "--out", tmp_path / "runs", "--no-a11y")
    assert r.returncode == 0, r.stdout + r.stderr
    run = run_dir_in(tmp_path / "runs")
    shots = {
        rec["index"]: run / rec["screenshot"]
        for rec in map(json.loads, (run / "steps.jsonl").read_text(encoding="utf-8").splitlines())
        if rec["screenshot"]
    }
    mask = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))

    def painted(step: int) -> float:
        image = Image.open(shots[step]).convert("RGB")
        counts = {colour: n for n, colour in image.getcolors(image.width * image.height)}
        return counts.get(mask, 0) / (image.width * image.height)

    assert painted(1) < 0.01  # the empty account field, before any secret went in
    assert painted(2) > 0.95  # a password field, always
    assert painted(3) > 0.95  # the account field holding a secret
    assert painted(5) > 0.95  # the same field drawn anew by the server after the refused login
