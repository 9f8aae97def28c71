"""Commands that need no browser, run in-process with click's CliRunner (fast, and what users type)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ROOT
from support.runs import make_run

from tuiding.cli import main


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="tuiding", catch_exceptions=False)


def test_list_names_every_scenario_with_steps_portal_and_tags():
    r = invoke("list", ROOT / "scenarios")
    assert r.exit_code == 0
    rows = [line.split("\t") for line in r.output.splitlines()]
    web = next(row for row in rows if row[0].endswith("web_unsubscribe.yaml"))
    assert web[1] == "咪咕会员 · 官网立即退订" and web[2] == "20 steps" and web[3] == "migu" and "smoke" in web[4]
    assert sum(1 for row in rows if "annual_penalty" in row[0]) == 4  # one line per matrix row


@pytest.mark.current_deps  # pydantic's schema layout differs between versions
@pytest.mark.parametrize("name", ["scenario", "flow", "run", "step", "result"])
def test_schema_prints_each_published_schema(name):
    r = invoke("schema", name)
    assert r.exit_code == 0
    assert json.loads(r.output) == json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_keygen_sign_and_verify_with_the_key(tmp_path):
    key = tmp_path / "release.key"
    r = invoke("keygen", key)
    assert r.exit_code == 0 and key.exists() and (tmp_path / "release.key.pub").exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert invoke("keygen", key).exit_code == 2  # never overwrites a key

    from tuiding.receipts import seal
    from tuiding.record import load_manifest
    from tuiding.signing import load_private

    run = make_run(tmp_path / "runs", sealed=False)
    seal(run, load_manifest(run), key=load_private(key))
    ok = invoke("verify", run, "--key", tmp_path / "release.key.pub")
    assert ok.exit_code == 0 and "and its signature are intact" in ok.output

    # Re-sealed by someone without the key: consistent, but not signed by us.
    seal(run, load_manifest(run))
    assert invoke("verify", run).exit_code == 0
    bad = invoke("verify", run, "--key", tmp_path / "release.key.pub")
    assert bad.exit_code == 1 and "not signed, but a key was given" in bad.output


def test_verify_names_each_problem_and_exits_1(tmp_path):
    run = make_run(tmp_path)
    (run / "receipts" / "01-第1步.png").write_bytes(b"changed")
    r = invoke("verify", run)
    assert r.exit_code == 1
    assert f"{run}: receipts/01-第1步.png: receipt altered (SHA-256 differs from the record)" in r.output


def test_verify_of_a_folder_that_is_no_run_is_one_line(tmp_path):
    r = invoke("verify", tmp_path)
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "manifest.json: missing" in r.output


def test_run_refuses_an_out_that_is_a_file_before_starting_anything(tmp_path):
    out = tmp_path / "runs"
    out.write_text("not a folder")
    r = invoke("run", ROOT / "scenarios" / "migu" / "web_pause.yaml", "--out", out)
    assert r.exit_code == 2 and "exists and is not a folder" in r.output


@pytest.mark.parametrize("timeout", ["0", "-1", "inf", "nan", "601"])
def test_run_refuses_absurd_timeouts(timeout):
    r = invoke("run", ROOT / "scenarios" / "migu" / "web_pause.yaml", "--timeout", timeout)
    assert r.exit_code == 2 and "--timeout" in r.output


def test_serve_refuses_a_port_out_of_range():
    r = invoke("serve", "migu", "--port", "99999")
    assert r.exit_code == 2 and "--port" in r.output


def test_signing_key_that_is_not_a_key_is_one_line(tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("hello")
    r = invoke("run", ROOT / "scenarios" / "migu" / "web_pause.yaml", "--sign", bad)
    assert r.exit_code == 2 and r.output.strip().startswith("tuiding: ") and "not an unencrypted PEM private key" in r.output


def test_help_is_the_generated_docs():
    r = invoke("--help")
    assert r.exit_code == 0 and r.output.splitlines()[0] in Path(ROOT / "docs" / "reference" / "cli.md").read_text(
        encoding="utf-8"
    )


def test_ctrl_c_while_click_reads_the_command_line_is_exit_130_not_aborted(monkeypatch, capsys):
    """Outside a command click would print "Aborted!" and exit 1 (seen once in 120 random Ctrl-Cs under load)."""
    import os
    import signal
    import time

    original = type(main).make_context

    def parse_slowly(self: object, *args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # the handler runs here
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(main), "make_context", parse_slowly)
    # Started from a background shell (`make test &`), SIGINT is ignored: install Python's own handler,
    # as a terminal would have it, and put back what was there.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(SystemExit) as ended:
            main.main(["validate", "scenarios/"], prog_name="tuiding")
        assert ended.value.code == 130
        assert capsys.readouterr().err.strip() == "interrupted"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, inherited)
