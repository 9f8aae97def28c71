"""Run folders anyone can hand you: an attacker without the signing key rewrites records, chain, steps.jsonl,
manifest and seal with the tool's own hashing, and plants links, pipes, absurd JSON and hostile names. Every
reader — verify, merge, walkthrough, compare, check, report friction — stays inside the folder, never hangs,
says what is wrong in one line, and puts nothing from outside the folder into a document meant for sharing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support import ROOT
from support.runs import make_run, png

from tuiding.record import (
    GENESIS,
    MAX_JSON_DEPTH,
    canonical,
    prune_manifest,
    prune_step,
)

SECRET_PIXELS = (12, 34, 56)  # the colour of the file outside the folder: found in a document = a leak


def honest_run(base: Path, name: str = "demo", steps: int = 3) -> Path:
    """A sealed run folder as the runner writes it, with real PNG receipts and its report (no browser needed)."""
    return make_run(base, steps, name=name, images=True, report=True, locale="en-US")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()  # follows links: what a forger's hashing sees


def forge(run: Path, change: Callable[[list[dict], dict], None]) -> None:
    """Rewrite the records as an attacker would, then recompute every hash, the chain and the seal — with
    the tool's own canonical hashing — so nothing but the planted thing is out of place."""
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    change(steps, m)
    prev = GENESIS
    for rec in steps:
        rec["prev_hash"] = prev
        if rec.get("screenshot") and (run / rec["screenshot"]).exists():
            rec["sha256"] = sha(run / rec["screenshot"])
        body = prune_step({k: v for k, v in rec.items() if k != "hash"})
        rec["hash"] = prev = hashlib.sha256(canonical(body)).hexdigest()
    (run / "steps.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in steps), encoding="utf-8")
    m["steps"], m["chain_head"] = steps, prev
    m["files"] = [
        {"path": p.relative_to(run).as_posix(), "sha256": sha(p), "size": p.stat().st_size}
        for p in sorted(run.rglob("*"))
        if p.name != "manifest.json" and (p.is_file() and not p.is_fifo())
    ]
    m["seal"] = m["signature"] = m["public_key"] = None
    body = prune_manifest({k: v for k, v in m.items() if k not in ("seal", "signature", "public_key")})
    m["seal"] = hashlib.sha256(canonical(body)).hexdigest()
    (run / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def tuiding(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def one_line(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr and "Error:" not in r.stderr.replace("tuiding:", ""), r.stderr


def leaked(folder: Path, outside: bytes) -> list[str]:
    """Files under `folder` that hold the outside image: its bytes, its base64, or its pixels."""
    found = []
    b64 = base64.b64encode(outside).decode()
    for p in folder.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if outside in data or b64.encode() in data:
            found.append(str(p))
        elif p.suffix in (".png", ".jpg"):
            with Image.open(p) as im:
                if any(colour == SECRET_PIXELS for _, colour in im.convert("RGB").getcolors(1 << 24) or []):
                    found.append(str(p))
    return found


READERS = {
    "walkthrough": lambda run, out: ("walkthrough", run, "--out", out, "--format", "md,html"),
    "compare": lambda run, out: ("compare", run, run, "--out", out / "compare.html"),
    "report friction": lambda run, out: ("report", "friction", run, "--out", out / "friction.html", "--rules", "zh"),
    "check": lambda run, out: ("check", run, "--rules", "zh"),
}


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, bytes]:
    secret = tmp_path / "outside" / "secret.png"
    return secret, png(secret, SECRET_PIXELS)


# ---------------------------------------------------------------- paths out of the folder


@pytest.mark.parametrize("where", ["absolute", "dotdot", "backslash", "drive"])
def test_a_record_naming_a_path_out_of_its_folder_is_refused_by_every_reader(tmp_path, outside, where):
    secret, data = outside
    run = honest_run(tmp_path / "runs")
    bad = {"absolute": str(secret), "dotdot": "../../outside/secret.png", "backslash": "receipts\\..\\..\\x.png",
           "drive": "C:/outside/secret.png"}[where]  # fmt: skip
    forge(run, lambda steps, m: steps[1].update(screenshot=bad))
    r = tuiding("verify", run)
    assert (
        r.returncode in (1, 2)
        and "not a path inside the run folder" in r.stderr + r.stdout
        or "leaves the run folder" in r.stderr + r.stdout
    )
    one_line(r)
    for name, args in READERS.items():
        out = tmp_path / name.replace(" ", "_")
        r = tuiding(*args(run, out), "--accept-unverified")
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        one_line(r)
        assert leaked(tmp_path / name.replace(" ", "_"), data) == [] if out.exists() else True
    r = tuiding("merge", run, "--out", tmp_path / "summary")
    one_line(r)
    assert r.returncode != 0


def test_a_receipt_replaced_by_a_link_out_of_the_folder_fails_verify_and_reaches_no_document(tmp_path, outside):
    secret, data = outside
    run = honest_run(tmp_path / "runs")
    shot = run / json.loads((run / "steps.jsonl").read_text(encoding="utf-8").splitlines()[1])["screenshot"]
    shot.unlink()
    shot.symlink_to(secret)
    forge(run, lambda steps, m: None)  # hashes recomputed through the link: the chain and seal "match"
    r = tuiding("verify", run)
    assert r.returncode == 1 and "a link, or a path out of the run folder" in r.stdout + r.stderr, r.stdout + r.stderr
    for name, args in READERS.items():
        out = tmp_path / name.replace(" ", "_")
        refused = tuiding(*args(run, out))
        assert refused.returncode == 2 and "fails verify" in refused.stderr, (name, refused.stderr)
        one_line(refused)
        accepted = tuiding(*args(run, out), "--accept-unverified")
        assert accepted.returncode in (0, 1, 3), (name, accepted.stderr)
        one_line(accepted)
        assert "fails verify" in accepted.stderr
        assert leaked(out, data) == [] if out.exists() else True, name
    merged = tuiding("merge", run, "--out", tmp_path / "summary")
    assert merged.returncode == 1 and "altered" in merged.stdout
    assert leaked(tmp_path / "summary", data) == []


def test_a_link_to_something_that_is_not_an_image_gives_no_traceback(tmp_path):
    run = honest_run(tmp_path / "runs")
    shot = run / json.loads((run / "steps.jsonl").read_text(encoding="utf-8").splitlines()[0])["screenshot"]
    shot.write_text("not an image at all", encoding="utf-8")
    forge(run, lambda steps, m: None)
    for name, args in READERS.items():
        r = tuiding(*args(run, tmp_path / name.replace(" ", "_")))
        assert r.returncode in (0, 1, 3), (name, r.stderr)
        one_line(r)


# ---------------------------------------------------------------- files that are not files


def test_a_pipe_in_a_run_folder_hangs_no_reader(tmp_path):
    run = honest_run(tmp_path / "runs")
    os.mkfifo(run / "receipts" / "04-pipe.png")
    os.mkfifo(run / "notes")
    r = tuiding("verify", run, timeout=30)
    assert r.returncode == 1
    assert (
        "receipts/04-pipe.png: not a regular file" in r.stdout + r.stderr and "notes: not a regular file" in r.stdout + r.stderr
    )
    m = tuiding("merge", run, "--out", tmp_path / "summary", timeout=30)
    assert m.returncode == 1 and "altered" in m.stdout
    w = tuiding("walkthrough", run, "--out", tmp_path / "w", "--accept-unverified", timeout=30)
    assert w.returncode == 0, w.stderr


@pytest.mark.parametrize("which", ["manifest.json", "steps.jsonl"])
def test_records_that_are_links_or_devices_are_refused(tmp_path, which):
    run = honest_run(tmp_path / "runs")
    (run / which).unlink()
    (run / which).symlink_to("/dev/zero")
    r = tuiding("verify", run, timeout=30)
    assert r.returncode in (1, 2) and "not a regular file" in r.stdout + r.stderr
    one_line(r)


@pytest.mark.parametrize("size", [65 * 1024 * 1024])
def test_records_larger_than_the_limit_are_not_read(tmp_path, size):
    run = honest_run(tmp_path / "runs")
    with (run / "steps.jsonl").open("r+b") as f:
        f.truncate(size)  # sparse: no disk used
    r = tuiding("verify", run)
    assert r.returncode == 1 and "larger than 64 MiB" in r.stdout + r.stderr
    one_line(r)


# ---------------------------------------------------------------- absurd JSON


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 5, 200_000])
@pytest.mark.parametrize("command", [("verify",), ("walkthrough",), ("check",), ("compare",), ("report", "friction"), ("merge",)])
def test_json_nested_absurdly_deep_is_one_line(tmp_path, depth, command):
    run = honest_run(tmp_path / "runs")
    (run / "manifest.json").write_text("[" * depth + "]" * depth, encoding="utf-8")
    args = (
        [*command, run]
        + ([run] if command == ("compare",) else [])
        + (["--out", tmp_path / "o"] if command != ("verify",) and command != ("check",) else [])
    )
    r = tuiding(*args)
    assert r.returncode in (1, 2), (command, r.stderr)
    assert "nested deeper than 64 levels" in r.stdout + r.stderr, (command, r.stderr)
    one_line(r)


def test_a_durations_file_nested_absurdly_deep_is_one_line(tmp_path):
    deep = tmp_path / "summary.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    r = tuiding("run", "scenarios/migu/web_pause.yaml", "--shard", "1/2", "--durations", deep, "--out", tmp_path / "runs")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    one_line(r)


# ---------------------------------------------------------------- merge


def test_the_same_run_in_two_shard_folders_is_counted_once(tmp_path):
    run = honest_run(tmp_path / "shard1")
    copy = tmp_path / "shard2" / run.name
    copy.parent.mkdir()
    subprocess.run(["cp", "-a", str(run), str(copy)], check=True)
    r = tuiding("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "summary")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 runs: 1 passed")
    assert "is also in" in r.stderr and "counted once" in r.stderr
    summary = json.loads((tmp_path / "summary" / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["runs"] == 1 and summary["totals"]["duplicates"] == 1
    assert (tmp_path / "summary" / "junit.xml").read_text(encoding="utf-8").count("<testcase") == 1


@pytest.mark.parametrize("name", ["javascript:alert(1);void(0)", "data:text", "a b#c?d", "%2e%2e"])
def test_summary_links_are_relative_and_never_a_scheme(tmp_path, name):
    base = tmp_path / name
    base.mkdir()
    honest_run(base)
    r = tuiding("merge", base, "--out", tmp_path / "summary")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "summary" / "summary.html").read_text(encoding="utf-8")
    links = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert links and all(link.startswith("./") and ":" not in link and " " not in link and "#" not in link for link in links), (
        links
    )


# ---------------------------------------------------------------- a document built from an unverified folder says so


DOCUMENTS = {
    "walkthrough": ["walkthrough.md", "walkthrough.html"],
    "compare": ["compare.html"],
    "report friction": ["friction.html"],
}


@pytest.mark.parametrize("reader", sorted(DOCUMENTS))
def test_a_document_built_from_a_folder_that_fails_verify_carries_a_banner_naming_it(tmp_path, reader):
    run = honest_run(tmp_path / "runs")
    png(run / "receipts" / "99-added-later.png", (1, 2, 3))  # not in the seal: verify fails
    out = tmp_path / "doc"
    r = tuiding(*READERS[reader](run, out), "--accept-unverified")
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    for name in DOCUMENTS[reader]:
        text = (out / name).read_text(encoding="utf-8")
        assert "fail tuiding verify" in text or "tuiding verify" in text, (reader, name)
        assert str(run) in text.replace("\\", "")  # the folder is named (Markdown escapes some characters)
    honest = honest_run(tmp_path / "honest", name="clean")
    clean = tuiding(*READERS[reader](honest, tmp_path / "clean"))
    assert clean.returncode in (0, 1), clean.stderr
    for name in DOCUMENTS[reader]:
        assert "tuiding verify" not in (tmp_path / "clean" / name).read_text(encoding="utf-8"), (reader, name)
