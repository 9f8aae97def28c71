"""The typed record of a run: the step record, the manifest and the `--json` line (format 1).

Every writer (receipts.RunFolder, the CLI's --json) and every reader (report, verify,
walkthrough, compare, check, merge) goes through these models; `tuiding schema run|step|result`
publishes their JSON Schema so other tools can read run folders too (docs/runs/run-folder.md).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

FORMAT = 1
GENESIS = "0" * 64
# A run folder can come from anyone (a CI artefact, an attachment): what its readers accept is bounded.
MAX_RECORD_BYTES = 64 * 1024 * 1024  # manifest.json, steps.jsonl: a long journey's records are a few MB
MAX_JSON_DEPTH = 64  # the records nest five levels; a deeper document is not one of ours


def _run_path(value: str) -> str:
    """A path a record names: relative, inside the run folder, in the forward-slash form the runner writes."""
    parts = PurePosixPath(value).parts
    if not value or value.startswith("/") or "\\" in value or "\x00" in value or ":" in (parts[0] if parts else ""):
        raise ValueError(f"'{value[:80]}' is not a path inside the run folder")
    if any(p in ("..", ".") for p in parts):
        raise ValueError(f"'{value[:80]}' leaves the run folder")
    return value


RunPath = Annotated[str, AfterValidator(_run_path)]

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


class Found(Box):
    """Personal data found on the page (redaction.py), in page CSS pixels."""

    kind: Literal["phone", "email", "id_card", "card"]


class PersonalPolicy(Record):
    """A run's `personal_data:` as the scenario set it (model.PersonalData)."""

    hide: bool = True
    kinds: list[Literal["phone", "email", "id_card", "card"]] = ["phone", "email", "id_card", "card"]
    keep: list[str] = []


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
    inputs: int = Field(0, description="text fields filled, options chosen, files set")
    keystrokes: int = Field(0, description="characters typed plus keys pressed")
    navigations: int = Field(0, description="main-frame navigations during the step")
    dialogs: int = 0
    requests: int = 0
    downloads: list[RunPath] = []
    emails: int = Field(0, description="e-mails opened (`email` steps)")


class PageFacts(Record):
    """What the page showed after the step (read in one evaluate, before the screenshot)."""

    path: str = ""
    verification: Literal["sms", "face", "question", "password"] | None = Field(
        None, description="a verification challenge on this page (detected, or the step's `kind:`)"
    )
    new_verification: bool = Field(False, description="this step met a verification challenge not met the step before")
    new_page: bool = Field(False, description="the first visit of this URL path in the run")
    retention: list[str] = Field(
        [], description="retention patterns the page matched (counted once per page, after the unsubscribe entry)"
    )
    retention_page: bool = Field(False, description="this step is the first visit of a retention page")
    preticked: list[str] = Field(
        [], description="labels of checkboxes the site ticked before the user touched them (first seen here)"
    )
    reference: str | None = Field(None, description="a reference number shown on the page")
    datetime: str | None = Field(None, description="a date-time shown on the page")
    in_flow: bool = Field(False, description="at or after the unsubscribe entry")
    text: str = Field(
        "", description="the page's visible text, whitespace collapsed, first 4000 characters; kept at and after the entry"
    )
    way_out: float | None = Field(
        None,
        description="on a retention page: the area of the control that keeps cancelling over the page's largest control's (0: none)",
    )
    done: str | None = Field(
        None, description="the page's words saying the cancellation is done (`done` patterns), at or after the entry"
    )


class ElementInfo(Record):
    """The element a step acted on, as the page names it."""

    role: str = Field("", description="its ARIA role, given or implied by the tag (button, link, checkbox …)")
    name: str = Field("", description="its name: aria-label, label, text, value or title (first 120 characters)")


class MailInfo(Record):
    """An e-mail an `email` step read (secrets masked), kept in the run folder."""

    sender: str = ""
    to: list[str] = []
    subject: str = ""
    date: str = ""
    file: RunPath | Literal[""] = Field("", description="the message as received (secrets masked), relative to the run folder")


class Landmark(Record):
    """A step's place in the cancellation (landmarks.py)."""

    kind: Literal["entry", "submit", "done"]
    declared: bool = Field(False, description="written in the scenario (`landmark:`), not detected")
    matched: str = Field("", description="what detection recognised: the clicked name, the URL path or the page's words")


class A11yViolation(Record):
    rule: str
    impact: Literal["minor", "moderate", "serious", "critical"] | None = None
    help: str = ""
    help_url: str = ""
    targets: list[str] = []


class VisualCheck(Record):
    """The receipt compared with its approved baseline (masked regions painted on both first)."""

    status: Literal["same", "changed", "new", "updated"]
    baseline: str = Field(description="the baseline image, relative to the scenario file's folder")
    diff: RunPath | None = Field(None, description="diff image (changed pixels in red), relative to the run folder")
    approved: RunPath | None = Field(
        None,
        description="a copy of the baseline inside the run folder, so the report shows it beside the diff without "
        "reading outside the folder (changed steps only)",
    )
    diff_pixels: int = 0
    diff_ratio: float = 0.0
    diff_box: Box | None = Field(None, description="where the changed pixels lie, in image pixels")
    threshold: float = 0.2
    max_diff_pixels: int = 0
    enforced: bool = Field(
        True, description="false when the baselines were approved with another browser version: shown, not failed"
    )


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
    error_detail: str | None = Field(None, description="Playwright's own words for a timed-out step (the headline is `error`)")
    warnings: list[str] = Field([], description="what passed but looks wrong, e.g. a dialog answer armed and never used")
    attempts: int = 1
    url: str = ""
    title: str = ""
    screenshot: RunPath | None = Field(None, description="path relative to the run folder")
    sha256: str | None = Field(None, description="of the screenshot file")
    shot: Shot | None = None
    bbox: Box | None = Field(None, description="the element the step acted on or asserted, in page CSS pixels")
    masks: list[Box] = Field([], description="regions excluded from visual comparison (page CSS pixels)")
    redact: list[Box] = Field([], description="regions blacked out in walkthrough images (page CSS pixels)")
    personal: list[Found] = Field(
        [], description="personal data found on the page when the screenshot was taken (hidden in guides by default)"
    )
    section: str | None = Field(None, description="a walkthrough heading that starts at this step")
    walkthrough: bool = Field(True, description="false: left out of walkthroughs (still in the report)")
    zoom: bool = Field(False, description="walkthroughs add an enlarged crop around the target")
    active_ms: int = Field(0, description="time spent acting (everything but waiting)")
    wait_ms: int = Field(0, description="time spent in `wait` steps and polling")
    page: PageFacts | None = None
    a11y: list[A11yViolation] | None = Field(None, description="axe-core violations after the step (when audited)")
    visual: VisualCheck | None = None
    console: list[str] = Field(
        [], description="the page's console errors and warnings and uncaught exceptions during the step (at most 20)"
    )
    events: StepEvents = StepEvents()
    element: ElementInfo | None = Field(
        None, description="the element the step acted on or looked for (clicks, fills, ticks, sees)"
    )
    landmarks: list[Landmark] = Field([], description="entry, submit and done: where the cancellation begins, is sent, is done")
    mail: MailInfo | None = Field(None, description="the e-mail an `email` step read")
    saved: dict[str, str] = Field(
        {}, description="values the step saved (`save:`, an e-mail's code), by name; secret ones masked"
    )
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
    screenshot: RunPath | None = None


class ReceiptFound(Record):
    """Whether the journey handed out a receipt: a page (after the unsubscribe entry) with a reference and a date-time."""

    found: bool = False
    step: int | None = None
    reference: str | None = None
    datetime: str | None = None


class Metrics(Record):
    """Friction measured in the browser (docs/qa/metrics.md)."""

    steps: int = 0
    clicks: int = 0
    inputs: int = 0
    keystrokes: int = 0
    pages: int = Field(0, description="distinct URL paths")
    navigations: int = 0
    dialogs: int = 0
    downloads: int = 0
    emails: int = Field(0, description="e-mails the user had to open")
    requests: int = 0
    verifications: int = 0
    verification_kinds: list[str] = []
    retention_pages: int = 0
    preticked: int = 0
    active_s: float = 0.0
    waiting_s: float = 0.0
    a11y: int = Field(0, description="serious and critical accessibility violations")
    a11y_all: int = 0
    visual_changed: int = Field(0, description="steps whose receipt differs from its baseline")
    receipt: ReceiptFound = ReceiptFound()


class BudgetItem(Record):
    item: str
    value: float | str
    limit: float | str
    step: int | None = Field(None, description="where the budget was first exceeded")
    steps: list[int] = Field([], description="the steps that added to it")

    def line(self) -> str:
        if self.item == "receipt":
            return "budget: receipt required, none found (no page with a reference number and a date-time)"
        named = ", ".join(map(str, self.steps[:12])) + (", …" if len(self.steps) > 12 else "")
        return f"budget: {self.item} {self.value:g} > {self.limit:g}" + (f" (steps {named})" if named else "")


class FileEntry(Record):
    path: RunPath
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
    metrics: Metrics = Metrics()
    budget: dict[str, Any] | None = Field(None, description="the scenario's budget")
    budget_exceeded: list[BudgetItem] = []
    before: list[str] = Field([], description="the scenario's `before:` list (准备工作)")
    after: list[str] = Field([], description="the scenario's `after:` list (退订后的注意事项)")
    redact_text: list[str] = Field([], description="the scenario's `redact:` texts, left out of walkthrough text")
    personal_data: PersonalPolicy | None = Field(
        None, description="the scenario's `personal_data:`: what guides, videos and reports hide"
    )
    settings: dict[str, str] = Field({}, description="portal settings the run started with (variant, clock, …)")
    failure: Failure | None = None
    trace: RunPath | None = None
    attempt: int = Field(1, description="1, or which retry this run is (--retries)")
    retry_of: str | None = Field(None, description="run_id of the failed attempt this run retries")
    clock: Literal["wall", "portal", "browser"] = Field(
        "wall", description="what ${now…} read: the wall clock, the embedded portal's clock, or the browser's installed clock"
    )
    service: dict[str, Any] | None = Field(
        None, description="the scenario's `service:` (what the service is, for the rights check)"
    )
    lang: str | None = Field(
        None, description="the language tuiding wrote the run in (zh, en, de): --lang, else the scenario's locale"
    )
    mailbox: str | None = Field(
        None, description="where `email` steps read: smtp://127.0.0.1:PORT, a folder, imap://user@host/folder"
    )
    steps: list[StepRecord] = []
    chain_head: str = GENESIS
    files: list[FileEntry] | None = Field(None, description="every file of the run folder with its SHA-256 (set when sealed)")
    seal: str | None = Field(None, description="SHA-256 over this manifest without seal and signature")
    signature: str | None = Field(None, description="Ed25519 signature of the seal (hex), when signed")
    public_key: str | None = Field(None, description="the signer's Ed25519 public key (hex), when signed")

    @property
    def hide_personal(self) -> bool:
        """Whether published copies (guides, videos, compare and friction pictures) hide the personal data found."""
        return self.personal_data is None or self.personal_data.hide


class ResultLine(Record):
    """One line of `tuiding run --json` (JSON Lines), one per scenario."""

    format: int = FORMAT
    scenario: str
    file: str
    row: str | None = None
    status: RunStatus
    run_dir: str
    duration_s: float
    metrics: Metrics = Metrics()
    failure: Failure | None = None
    attempt: int = Field(1, description="which attempt this line reports (--retries); passed after 1 = flaky")


class SummaryRun(Record):
    """One run folder in summary.json (`tuiding merge`)."""

    scenario: str
    file: str
    row: str | None = None
    status: RunStatus
    duration_s: float
    started_at: str
    host: str = Field("", description="the machine (shard) that ran it")
    run_dir: str = Field(description="the run folder, relative to summary.json")
    report: str | None = Field(None, description="its report.html, relative to summary.json")
    steps: int = 0
    metrics: Metrics = Metrics()
    failure: Failure | None = None
    run_id: str = ""
    attempt: int = 1
    retry_of: str | None = None
    retried: bool = Field(False, description="a later attempt retried this one: it does not count in the totals")
    verified: bool = Field(description="tuiding verify found the folder intact")
    problems: list[str] = Field([], description="what verify found wrong")
    copies: int = Field(0, description="other folders holding the same run (same run_id): not counted again")


class Summary(Record):
    """summary.json: run folders of one suite (e.g. its shards) merged."""

    format: int = FORMAT
    tool: str
    created_at: str
    totals: dict[str, int] = Field(
        description="'runs' (final attempts), their count per status, 'flaky' (passed on a retry), 'retried' and 'unverified'"
    )
    runs: list[SummaryRun]
    lang: str | None = Field(None, description="the language of summary.html: the runs' own when they share one, else en")


class RunFolderError(Exception):
    """A run folder cannot be read; the message is one line naming the file."""


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# Fields added within format 1, and their empty values: they count in a hash only when they hold something,
# so folders written before they existed still verify (a step record's hash and the manifest's seal alike).
STEP_ADDED: dict[str, Any] = {
    "console": [],
    "error_detail": None,
    "warnings": [],
    "element": None,
    "landmarks": [],
    "mail": None,
    "personal": [],
}
PAGE_ADDED: dict[str, Any] = {"text": "", "way_out": None, "done": None}
EVENTS_ADDED: dict[str, Any] = {"emails": 0}
VISUAL_ADDED: dict[str, Any] = {"approved": None}
METRICS_ADDED: dict[str, Any] = {"emails": 0}
MANIFEST_ADDED: dict[str, Any] = {
    "attempt": 1, "retry_of": None, "clock": "wall", "service": None, "lang": None, "mailbox": None,
    "personal_data": None,
}  # fmt: skip


def _prune(data: dict[str, Any], added: dict[str, Any]) -> None:
    for name, empty in added.items():
        if name in data and data[name] == empty:
            del data[name]


def prune_step(step: dict[str, Any]) -> dict[str, Any]:
    """A dumped step record without its empty added fields (see STEP_ADDED)."""
    _prune(step, STEP_ADDED)
    if isinstance(step.get("page"), dict):
        _prune(step["page"], PAGE_ADDED)
    if isinstance(step.get("events"), dict):
        _prune(step["events"], EVENTS_ADDED)
    if isinstance(step.get("visual"), dict):
        _prune(step["visual"], VISUAL_ADDED)
    return step


def prune_manifest(body: dict[str, Any]) -> dict[str, Any]:
    """A dumped manifest without its empty added fields, its steps' included."""
    _prune(body, MANIFEST_ADDED)
    if isinstance(body.get("metrics"), dict):
        _prune(body["metrics"], METRICS_ADDED)
    for step in body.get("steps") or []:
        prune_step(step)
    return body


def record_hash(record: StepRecord) -> str:
    import hashlib

    body = prune_step(record.model_dump(mode="json", exclude={"hash"}))
    return hashlib.sha256(canonical(body)).hexdigest()


def read_bounded(path: Path, limit: int = MAX_RECORD_BYTES) -> bytes:
    """A record file's bytes: a regular file (not a link, a FIFO or a device: a FIFO would block every reader
    forever) of at most `limit` bytes. RunFolderError, one line, otherwise."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing (not a tuiding run folder?)") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise RunFolderError(f"{path}: not a regular file (a link, a pipe or a device is not read)")
    if st.st_size > limit:
        raise RunFolderError(f"{path}: larger than {limit // (1024 * 1024)} MiB; not read")
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise RunFolderError(f"{path}: larger than {limit // (1024 * 1024)} MiB; not read")
    return data


def parse_json(text: str, where: str) -> Any:
    """JSON as a run folder's reader takes it: valid, and nested at most MAX_JSON_DEPTH deep."""
    too_deep = f"{where}: nested deeper than {MAX_JSON_DEPTH} levels; not a tuiding record"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:  # Python's own parser gives up far deeper than ours
        raise RunFolderError(too_deep) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise RunFolderError(too_deep)
    return data


def _depth(data: Any) -> int:
    deepest, todo = 0, [(data, 1)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        todo.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _read_json(path: Path) -> Any:
    try:
        text = read_bounded(path).decode("utf-8")
    except UnicodeDecodeError:
        raise RunFolderError(f"{path}: not UTF-8 text") from None
    return parse_json(text, str(path))


def _validated(model: type[Record], data: Any, where: str) -> Any:
    if isinstance(data, dict) and data.get("format", FORMAT) != FORMAT:
        raise RunFolderError(f"{where}: run-folder format {data.get('format')!r}; this tuiding reads format {FORMAT}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top)"
        why = err["msg"].removeprefix("Value error, ") if err["type"] == "value_error" else err["type"]
        raise RunFolderError(f"{where}: not a tuiding {model.__name__} ({loc}: {why})") from None


def receipt(run_dir: Path, rel: str | None) -> Path | None:
    """A receipt a reader may show: the file the record names when `inside` allows it, else None (the
    reader shows no picture rather than one from outside the folder)."""
    if not rel:
        return None
    try:
        return inside(run_dir, rel)
    except RunFolderError:
        return None


def image_or_none(path: Path | None, load: Any) -> Any:
    """`load(path)` for a receipt that is really an image; None for none, or for a file that is not one."""
    if path is None:
        return None
    from PIL import UnidentifiedImageError

    try:
        return load(path)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def inside(run_dir: Path, rel: str) -> Path:
    """The file a record names, only if it is a regular file inside the run folder (no link out of it, no pipe):
    what a reader may read or put into a document. RunFolderError, one line, otherwise."""
    _run_path(rel) if rel else None
    path = run_dir / rel
    try:
        st = os.lstat(path)
        root = run_dir.resolve()
        real = path.resolve()
    except (OSError, RuntimeError):
        raise RunFolderError(f"{rel}: missing") from None
    if stat.S_ISLNK(st.st_mode) or not real.is_relative_to(root):
        raise RunFolderError(f"{rel}: a link, or a path out of the run folder; not read")
    if not stat.S_ISREG(st.st_mode):
        raise RunFolderError(f"{rel}: not a regular file; not read")
    return path


def load_manifest(run_dir: Path) -> Manifest:
    path = run_dir / "manifest.json"
    manifest: Manifest = _validated(Manifest, _read_json(path), str(path))
    return manifest


def load_steps(run_dir: Path) -> list[StepRecord]:
    """steps.jsonl, one record per line; a torn last line (a killed run) is an error naming the line."""
    path = run_dir / "steps.jsonl"
    data = read_bounded(path)
    out: list[StepRecord] = []
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RunFolderError(f"{path}:{n}: not a JSON record (truncated or altered)") from None
        try:
            item = parse_json(text, f"{path}:{n}")
        except RunFolderError as exc:
            raise RunFolderError(
                f"{path}:{n}: not a JSON record (truncated or altered)" if "not valid JSON" in str(exc) else str(exc)
            ) from None
        out.append(_validated(StepRecord, item, f"{path}:{n}"))
    return out


def schemas() -> dict[str, dict[str, Any]]:
    """The published JSON Schemas of the run record, by name."""
    return {
        "run": Manifest.model_json_schema(),
        "step": StepRecord.model_json_schema(),
        "result": ResultLine.model_json_schema(),
        "summary": Summary.model_json_schema(),
    }
