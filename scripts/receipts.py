"""The run folder on disk: step records (hash-chained, appended as they finish), screenshots, downloads, manifest.

Only this module writes into a run folder (reports read it afterwards).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


@dataclass
class StepRecord:
    index: int
    name: str
    action: str
    target: str
    source: str                       # file:line of the step
    flow: str | None
    started_at: str
    duration_ms: int
    status: str                       # passed | failed | skipped | optional-failed
    url: str = ""
    title: str = ""
    error: str | None = None
    note: str | None = None
    attempts: int = 1
    screenshot: str | None = None     # relative to the run folder
    sha256: str | None = None         # of the screenshot file
    bbox: dict[str, float] | None = None
    events: dict[str, Any] = field(default_factory=dict)
    ended_at: str = ""
    prev_hash: str = GENESIS
    hash: str = ""

    def seal(self, prev_hash: str) -> None:
        self.prev_hash = prev_hash
        self.hash = record_hash(asdict(self))


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name-safe version of a caption (keeps CJK; drops path, shell and URL-special characters)."""
    s = re.sub(r'[\\/:*?"<>|#%&\s「」]+', "-", text).strip("-.")
    return s[:limit] or "step"


def atomic_write(path: Path, data: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunFolder:
    """runs/<YYYYmmdd-HHMMSS>-<slug>/ with receipts/, downloads/, steps.jsonl, manifest.json."""

    def __init__(self, out_dir: Path, slug: str, started: datetime) -> None:
        base = f"{started:%Y%m%d-%H%M%S}-{slug}"
        out_dir.mkdir(parents=True, exist_ok=True)
        path, n = out_dir / base, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:  # same second, same scenario (parallel runs): next free name
                n += 1
                path = out_dir / f"{base}-{n}"
        self.path = path
        self.receipts = path / "receipts"
        self.receipts.mkdir()
        self.records: list[StepRecord] = []
        self._jsonl = (path / "steps.jsonl").open("a", encoding="utf-8")

    def screenshot_path(self, index: int, caption: str) -> Path:
        return self.receipts / f"{index:02d}-{safe_name(caption)}.png"

    def download_path(self, name: str) -> Path:
        d = self.path / "downloads"
        d.mkdir(exist_ok=True)
        target = d / safe_name(Path(name).name, 80)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = d / f"{stem}-{n}{suffix}"
        return target

    def append(self, record: StepRecord) -> StepRecord:
        if record.screenshot:
            record.sha256 = file_sha256(self.path / record.screenshot)
        record.seal(self.records[-1].hash if self.records else GENESIS)
        self.records.append(record)
        self._jsonl.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        self._jsonl.flush()
        os.fsync(self._jsonl.fileno())
        return record

    def write_manifest(self, manifest: dict[str, Any]) -> Path:
        manifest = {**manifest, "steps": [asdict(r) for r in self.records],
                    "chain_head": self.records[-1].hash if self.records else GENESIS}
        path = self.path / "manifest.json"
        atomic_write(path, json.dumps(manifest, ensure_ascii=False, indent=2))
        return path

    def close(self) -> None:
        self._jsonl.close()


def verify(run_dir: Path) -> list[str]:
    """Every problem found in a run folder's receipts; empty means intact."""
    problems: list[str] = []
    manifest_path, jsonl = run_dir / "manifest.json", run_dir / "steps.jsonl"
    if not manifest_path.is_file():
        return [f"{manifest_path}: missing (not a tuiding run folder?)"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    records = manifest.get("steps", [])
    prev = GENESIS
    for r in records:
        label = f"step {r.get('index')} ({r.get('name')})"
        if r.get("prev_hash") != prev:
            problems.append(f"{label}: chain broken (prev_hash does not match the previous record)")
        if record_hash(r) != r.get("hash"):
            problems.append(f"{label}: record altered (its hash does not match its content)")
        shot = r.get("screenshot")
        if shot:
            p = run_dir / shot
            if not p.is_file():
                problems.append(f"{shot}: receipt missing")
            elif file_sha256(p) != r.get("sha256"):
                problems.append(f"{shot}: receipt altered (SHA-256 differs from the record)")
        prev = r.get("hash", "")
    if manifest.get("chain_head", GENESIS) != prev:
        problems.append("manifest: chain head does not match the last record")
    if jsonl.is_file():
        lines = [json.loads(l) for l in jsonl.read_text(encoding="utf-8").splitlines() if l.strip()]
        if [l.get("hash") for l in lines] != [r.get("hash") for r in records]:
            problems.append("steps.jsonl and manifest.json disagree")
    return problems
