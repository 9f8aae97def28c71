"""The typed record of a run: the step record, the manifest and the `--json` line (format 1).

Every writer (receipts.RunFolder, the CLI's --json) and every reader (report, verify,
walkthrough, compare, check, merge) goes through these models; `tuiding schema run|step|result`
publishes their JSON Schema so other tools can read run folders too (README "One run on disk").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = 1
GENESIS = "0" * 64

StepStatus = Literal["passed", "failed", "skipped", "optional-failed"]
RunStatus = Literal["running", "passed", "failed", "interrupted", "error"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Box(Record):
    """An element's box in page (document) CSS pixels."""

    x: float
    y: float
    width: float
    height: float


class Shot(Record):
    """What a receipt shows: the image size, its pixel ratio and where its top-left corner lies on the page."""

    kind: Literal["viewport", "full", "element"]
    width: int = Field(description="image width in pixels")
    height: int = Field(description="image height in pixels")
    scale: float = Field(1.0, description="device pixel ratio: image pixels per CSS pixel")
    x: float = Field(0.0, description="page (document) x of the image's top-left corner, CSS pixels")
    y: float = Field(0.0, description="page (document) y of the image's top-left corner, CSS pixels")

    def to_image(self, box: Box) -> Box:
        """A page box in this image's pixels."""
        return Box(
            x=(box.x - self.x) * self.scale,
            y=(box.y - self.y) * self.scale,
            width=box.width * self.scale,
            height=box.height * self.scale,
        )


class StepEvents(Record):
    """What one step did in the browser."""

    clicks: int = 0
    inputs: int = 0
    dialogs: int = 0
    requests: int = 0
    downloads: list[str] = []


class StepRecord(Record):
    """One step as it happened: appended to steps.jsonl as it finishes, hash-chained to the one before."""

    format: int = FORMAT
    index: int = Field(description="1-based position in the run (flows inlined)")
    name: str = Field(description="the caption (secrets masked)")
    named: bool = Field(True, description="true when the scenario wrote the caption, false when it was generated")
    action: str
    arg: Any = Field(None, description="the action's argument after substitution (secrets masked)")
    target: str = Field("", description="the argument in words (secrets masked)")
    source: str = Field(description="file:line of the step")
    flow: str | None = None
    note: str | None = None
    started_at: str
    ended_at: str = ""
    duration_ms: int
    status: StepStatus
    error: str | None = None
    attempts: int = 1
    url: str = ""
    title: str = ""
    screenshot: str | None = Field(None, description="path relative to the run folder")
    sha256: str | None = Field(None, description="of the screenshot file")
    shot: Shot | None = None
    bbox: Box | None = Field(None, description="the element the step acted on or asserted, in page CSS pixels")
    events: StepEvents = StepEvents()
    prev_hash: str = GENESIS
    hash: str = ""


class ScenarioInfo(Record):
    name: str
    file: str
    description: str | None = None
    tags: list[str] = []
    row: str | None = Field(None, description="matrix row id")


class Site(Record):
    base_url: str | None = None
    portal: str | None = Field(None, description="embedded portal name, when one was started")


class Failure(Record):
    step: int | None
    source: str | None = None
    message: str
    screenshot: str | None = None


class FileEntry(Record):
    path: str
    sha256: str
    size: int


class Manifest(Record):
    """manifest.json: written at the start (status running), completed at the end, then sealed."""

    format: int = FORMAT
    tool: str
    run_id: str
    uuid: str
    scenario: ScenarioInfo
    browser: str = ""
    device: str = "Desktop 1280x720"
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    permissions: list[str] = []
    host: str = ""
    user: str = ""
    site: Site = Site()
    started_at: str
    ended_at: str | None = None
    duration_ms: int | None = None
    status: RunStatus = "running"
    metrics: dict[str, Any] = {}
    budget_exceeded: list[str] = []
    failure: Failure | None = None
    trace: str | None = None
    steps: list[StepRecord] = []
    chain_head: str = GENESIS
    files: list[FileEntry] | None = Field(None, description="every file of the run folder with its SHA-256 (set when sealed)")
    seal: str | None = Field(None, description="SHA-256 over this manifest without seal and signature")
    signature: str | None = Field(None, description="Ed25519 signature of the seal (hex), when signed")
    public_key: str | None = Field(None, description="the signer's Ed25519 public key (hex), when signed")


class ResultLine(Record):
    """One line of `tuiding run --json` (JSON Lines), one per scenario."""

    format: int = FORMAT
    scenario: str
    file: str
    row: str | None = None
    status: RunStatus
    run_dir: str
    duration_s: float
    metrics: dict[str, Any] = {}
    failure: Failure | None = None


class RunFolderError(Exception):
    """A run folder cannot be read; the message is one line naming the file."""


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def record_hash(record: StepRecord) -> str:
    import hashlib

    return hashlib.sha256(canonical(record.model_dump(mode="json", exclude={"hash"}))).hexdigest()


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing (not a tuiding run folder?)") from None
    except UnicodeDecodeError:
        raise RunFolderError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None


def _validated(model: type[Record], data: Any, where: str) -> Any:
    if isinstance(data, dict) and data.get("format", FORMAT) != FORMAT:
        raise RunFolderError(f"{where}: run-folder format {data.get('format')!r}; this tuiding reads format {FORMAT}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise RunFolderError(f"{where}: not a tuiding {model.__name__} ({loc}: {err['type']})") from None


def load_manifest(run_dir: Path) -> Manifest:
    path = run_dir / "manifest.json"
    manifest: Manifest = _validated(Manifest, _read_json(path), str(path))
    return manifest


def load_steps(run_dir: Path) -> list[StepRecord]:
    """steps.jsonl, one record per line; a torn last line (a killed run) is an error naming the line."""
    path = run_dir / "steps.jsonl"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror})") from None
    out: list[StepRecord] = []
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RunFolderError(f"{path}:{n}: not a JSON record (truncated or altered)") from None
        out.append(_validated(StepRecord, item, f"{path}:{n}"))
    return out


def schemas() -> dict[str, dict[str, Any]]:
    """The published JSON Schemas of the run record, by name."""
    return {
        "run": Manifest.model_json_schema(),
        "step": StepRecord.model_json_schema(),
        "result": ResultLine.model_json_schema(),
    }
