"""Hostile or unlucky input: one `file:line:col` line each, exit 2, well under a second, nothing started.

The YAML-content cases live in tests/data/invalid/ (each with its exact line); these are the ones a
repository cannot hold as files: pipes, loops, devices, huge and deeply nested files, alias bombs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import ROOT

from tuiding.source import MAX_BYTES, MAX_DEPTH, MAX_NODES

LOL = (
    "name: x\n"
    + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n" for i in range(9))
    + "steps:\n  - goto: /\n"
)


def validate(*paths, cwd: Path):
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "tuiding", "validate", *map(str, paths)], capture_output=True, text=True, cwd=cwd, timeout=30
    )
    return r, time.monotonic() - t0


def make(tmp_path: Path, case: str) -> Path:
    f = tmp_path / "x.yaml"
    if case == "symlink loop":
        (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
        (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
        return tmp_path / "a.yaml"
    if case == "fifo":
        os.mkfifo(f)
    elif case == "folder named x.yaml":
        f.mkdir()
    elif case == "broken symlink":
        f.symlink_to(tmp_path / "gone.yaml")
    elif case == "huge":
        f.write_text("name: x\nsteps:\n  - goto: /\n" + "#" * MAX_BYTES)
    elif case == "600-deep mapping":
        f.write_text("name: x\nsteps:\n  - goto: /\nv: " + "{a: " * 600 + "1" + "}" * 600 + "\n")
    elif case == "5000-deep list":
        f.write_text("name: x\nsteps:\n  - goto: /\nv: " + "[" * 5000 + "]" * 5000 + "\n")
    elif case == "alias bomb":
        f.write_text(LOL)
    elif case == "recursive alias":
        f.write_text("name: x\nv: &a [*a]\nsteps:\n  - goto: /\n")
    return f


CASES = {
    "symlink loop": "a.yaml:1:1: cannot read: symbolic link loop",
    "fifo": "x.yaml:1:1: not a regular file (a pipe, socket or device): refusing to read it",
    "folder named x.yaml": "x.yaml:1:1: is a folder, not a scenario file",
    "broken symlink": "x.yaml:1:1: broken symbolic link",
    "huge": f"x.yaml:1:1: file too large ({MAX_BYTES + 27:,} bytes; a scenario may have at most {MAX_BYTES:,})",
    # the file's own mapping is the first level, so the 40th nested one is too deep
    "600-deep mapping": f"x.yaml:4:{4 + 4 * (MAX_DEPTH - 1)}: nested more than {MAX_DEPTH} levels deep",
    "5000-deep list": f"x.yaml:4:{4 + (MAX_DEPTH - 1)}: nested more than {MAX_DEPTH} levels deep",
    "alias bomb": f"x.yaml:2:5: more than {MAX_NODES:,} values (aliases expanding into each other?)",
    "recursive alias": "x.yaml:2:4: an alias refers to a value that contains it (a recursive alias)",
}


@pytest.mark.parametrize("case", [c for c in CASES if c != "folder named x.yaml"])
def test_each_is_one_line_exit_2_and_fast(tmp_path, case):
    target = make(tmp_path, case)
    r, took = validate(target.name, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.splitlines() == [CASES[case], "1 problem(s) in 1 file(s)"]
    assert took < 5  # process start included; the check itself is milliseconds


@pytest.mark.parametrize("case", ["fifo", "folder named x.yaml", "broken symlink"])
def test_inside_a_folder_nothing_is_skipped_silently(tmp_path, case):
    make(tmp_path, case)
    (tmp_path / "good.yaml").write_text("name: 好\nportal: migu\nsteps:\n  - goto: /\n", encoding="utf-8")
    r, _ = validate(".", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.splitlines()[0] == CASES[case]


def test_dev_zero_is_refused_not_read(tmp_path):
    r, took = validate("/dev/zero", cwd=tmp_path)
    assert (
        r.returncode == 2
        and r.stderr.splitlines()[0] == "/dev/zero:1:1: not a regular file (a pipe, socket or device): refusing to read it"
    )
    assert took < 5


def test_run_refuses_hostile_input_before_starting_a_browser(tmp_path):
    make(tmp_path, "alias bomb")
    r = subprocess.run(
        [sys.executable, "-m", "tuiding", "run", "x.yaml", "--out", "runs"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TUIDING_BROWSER": "/nonexistent"},
        timeout=30,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and not (tmp_path / "runs").exists()


def test_the_repo_scenarios_validate_fast():
    _, took = validate("scenarios", cwd=ROOT)
    assert took < 5
