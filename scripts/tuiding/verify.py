"""`tuiding verify`: does a run folder still hold exactly what the run wrote?

Checks, reading through record.py only: steps.jsonl's hash chain and each receipt's SHA-256;
that the manifest's step records are the same records; the seal over the whole manifest (run
metadata, metrics, failure, step count, chain head) and every file it lists; files added after
the run; and, with a public key, the Ed25519 signature of the seal.

Without a key the chain proves the folder is *consistent*: someone who rewrites records, files
and manifest together and recomputes every hash is not caught. With `--key` it proves the run
was sealed by the holder of the private key and is unchanged since.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .receipts import MANIFEST, STEPS, file_sha256, irregular_files, run_files, seal_hash
from .record import GENESIS, Manifest, RunFolderError, StepRecord, inside, load_manifest, load_steps, record_hash

# Files the run itself writes; anything else under these folders after the run is not part of it.
RUN_AREAS = ("receipts/", "downloads/", "diffs/")
RUN_FILES = (STEPS, "report.html", "trace.zip")


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: int = 0
    status: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_chain(run_dir: Path, records: list[StepRecord], v: Verdict) -> None:
    prev = GENESIS
    for n, r in enumerate(records, 1):
        label = f"step {r.index} ({r.name})"
        if r.index != n:
            v.problems.append(f"{label}: expected step {n} here (records removed or reordered)")
        if r.prev_hash != prev:
            v.problems.append(f"{label}: chain broken (prev_hash does not match the previous record)")
        if record_hash(r) != r.hash:
            v.problems.append(f"{label}: record altered (its hash does not match its content)")
        if r.screenshot:
            try:
                p = inside(run_dir, r.screenshot)
            except RunFolderError as exc:
                missing = not os.path.lexists(run_dir / r.screenshot)
                v.problems.append(f"{r.screenshot}: receipt missing" if missing else f"{label}: receipt {exc}")
                p = None
            if p is not None and file_sha256(p) != r.sha256:
                v.problems.append(f"{r.screenshot}: receipt altered (SHA-256 differs from the record)")
        prev = r.hash


def _check_seal(run_dir: Path, m: Manifest, v: Verdict) -> None:
    if not m.seal or m.files is None:
        v.problems.append(f"{MANIFEST}: not sealed (the run did not finish writing, or the seal was removed)")
        return
    if seal_hash(m) != m.seal:
        v.problems.append(f"{MANIFEST}: run metadata altered (status, times, metrics, failure or file list differ from the seal)")
    listed = {f.path: f for f in m.files}
    actual = {f.path: f for f in run_files(run_dir)}
    for path in irregular_files(run_dir):  # never opened: a pipe would block, a link may lead anywhere
        v.problems.append(f"{path}: not a regular file (a link, pipe or device; a run writes none)")
    for path, entry in listed.items():
        found = actual.get(path)
        if found is None:
            v.problems.append(f"{path}: missing (listed in the seal)")
        elif found.sha256 != entry.sha256:
            v.problems.append(f"{path}: altered (SHA-256 differs from the seal)")
    for path in sorted(set(actual) - set(listed)):
        if path.startswith(RUN_AREAS) or path in RUN_FILES:
            v.problems.append(f"{path}: not part of the sealed run (added afterwards)")
        else:
            v.notes.append(f"{path}: added after the run (not covered by the seal)")
    shots = {r.screenshot for r in m.steps if r.screenshot}
    downloads = {d for r in m.steps for d in r.events.downloads}
    diffs = {p for r in m.steps if r.visual for p in (r.visual.diff, r.visual.approved) if p}
    for path in listed:
        if path.startswith("diffs/") and path not in diffs:
            v.problems.append(f"{path}: a diff image no step record names")
        if path.startswith("receipts/") and path not in shots:
            v.problems.append(f"{path}: a receipt no step record names")
        if path.startswith("downloads/") and path not in downloads:
            v.problems.append(f"{path}: a download no step record names")


def _check_status(m: Manifest, v: Verdict) -> None:
    failed = [r.index for r in m.steps if r.status == "failed"]
    if m.status == "passed" and (failed or m.failure is not None):
        v.problems.append(f"{MANIFEST}: says passed, but step {failed[0] if failed else m.failure and m.failure.step} failed")
    if m.status == "failed" and m.failure is None:
        v.problems.append(f"{MANIFEST}: says failed, but names no failure")


def verify(run_dir: Path, *, public_key: object | None = None) -> Verdict:
    """Every problem found in a run folder; an empty `problems` list means intact."""
    v = Verdict()
    try:
        m = load_manifest(run_dir)
    except RunFolderError as exc:
        v.problems.append(str(exc))
        return v
    v.status = m.status
    try:
        records = load_steps(run_dir)
    except RunFolderError as exc:
        v.problems.append(str(exc))
        records = None
    if records is not None:
        _check_chain(run_dir, records, v)
        v.steps = len(records)
    if m.status == "running":
        # A header only: the run was killed (or the machine lost power). What was kept can still be checked.
        v.notes.append(f"incomplete run: it never finished (killed?); {v.steps} step record(s) checked in {STEPS}")
        if records is not None and [r.hash for r in m.steps] != [r.hash for r in records[: len(m.steps)]]:
            v.problems.append(f"{STEPS} and {MANIFEST} disagree")
        return v
    if records is None or [r.model_dump() for r in records] != [r.model_dump() for r in m.steps]:
        if records is not None:
            v.problems.append(f"{STEPS} and {MANIFEST} disagree (records added, removed or altered in one of them)")
        _check_chain(run_dir, m.steps, v)  # name what differs in the manifest's copy too
    if m.chain_head != (m.steps[-1].hash if m.steps else GENESIS):
        v.problems.append(f"{MANIFEST}: chain head does not match the last record")
    _check_status(m, v)
    _check_seal(run_dir, m, v)
    _check_signature(m, v, public_key)
    v.problems = list(dict.fromkeys(v.problems))
    return v


def _check_signature(m: Manifest, v: Verdict, public_key: object | None) -> None:
    from . import signing

    if public_key is None:
        if m.signature:
            v.notes.append(f"signed by key {(m.public_key or '')[:16]}…; pass --key to check it is the key you expect")
        return
    if not m.signature or not m.seal:
        v.problems.append(f"{MANIFEST}: not signed, but a key was given")
        return
    if not signing.check(public_key, m.seal, m.signature):  # type: ignore[arg-type]
        v.problems.append(f"{MANIFEST}: signature does not match the given key (re-sealed, or signed by another key)")
