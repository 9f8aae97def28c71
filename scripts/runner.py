"""Run one scenario: the site, a fresh browser context, the step loop (waits, retries, one receipt per step),
failure artefacts and the manifest. Reports are written by the caller (CLI, pytest plugin) afterwards.
"""

from __future__ import annotations

import getpass
import platform
import re
import struct
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pydantic import ValidationError

from . import __version__
from . import model as M
from .a11y import audit
from .friction import CAMERA_INIT, PROBE_JS, FrictionTracker, metrics, over_budget, patterns
from .guard import LiveSiteRefused, check_request, check_site
from .loadstate import wait_for_load
from .locators import locate
from .parallel import offload
from .portals import PortalProvider, PortalUnavailable, get_provider
from .receipts import RunFolder
from .record import Box, Failure, Manifest, Metrics, PageFacts, ScenarioInfo, Shot, Site, StepEvents, StepRecord, VisualCheck
from .scenario import Flow, Scenario, Step
from .secrets import SecretValues
from .signals import HeldInterrupts
from .steps import RUNNERS, Events, StepContext, StepFailed, condition_holds
from .variables import Context, UnresolvedVariable
from .video import VideoRecorder, VideoUnavailable
from .visual import Baselines, baseline_dir

DEFAULT_TIMEOUT_S = 10.0
SCREENSHOT_ATTEMPTS = 5
BROWSER_GONE = "the browser closed during this step (it crashed or was killed)"
MAX_CONSOLE = 20  # console lines kept per step: enough to explain a failure, bounded for a noisy page
MASK_COLOR = "#3d4450"  # secrets are painted over in receipts
DESKTOP = {"width": 1280, "height": 720}


def mask_style(selectors: list[str]) -> str:
    """CSS that paints these fields over during a screenshot, like Playwright's `mask` does, for about
    nothing: Playwright injects the style in every frame and shadow root in the preparation it makes for
    every screenshot anyway, where each `mask` locator costs extra round trips and a repaint (~7 ms per
    screenshot on a page just loaded). One rule per selector, so no selector can void another."""
    paint = (
        f"background: {MASK_COLOR} !important; border-color: {MASK_COLOR} !important; border-radius: 0 !important; "
        "color: transparent !important; -webkit-text-fill-color: transparent !important; text-shadow: none !important; "
        "box-shadow: none !important; outline: none !important;"
    )
    return "\n".join(f"{sel} {{ {paint} }} {sel}::placeholder {{ color: transparent !important; }}" for sel in selectors)


# Password fields, and the fields a secret was typed into, as the page names them (see StepLoop._mask).
PASSWORD_FIELDS = "input[type=password]"
_FIELD_SELECTORS_JS = """(e, discs) => {
  if (discs) e.style.setProperty('-webkit-text-security', 'disc');
  const tag = CSS.escape(e.localName), found = [];
  if (e.id) found.push(`${tag}#${CSS.escape(e.id)}`);
  if (e.name) found.push(`${tag}[name="${CSS.escape(e.name)}"]`);
  return found;
}"""


class ContextFactory(Protocol):
    """What the runner needs from a browser: BrowserSession, or pytest-playwright's fixtures."""

    @property
    def devices(self) -> dict[str, dict[str, Any]]: ...

    def new_context(self, **kwargs: Any) -> Any: ...


@dataclass
class RunOptions:
    out_dir: Path = Path("runs")
    base_url: str | None = None  # --base-url: overrides the scenario's base_url and portal
    trace: str = "on-failure"  # on | on-failure | on-retry | off (pytest-playwright's --tracing may own it)
    attempt: int = 1  # 2 and up: a retry of a failed run (--retries), on a fresh portal
    retry_of: str | None = None  # the failed attempt's run_id
    timeout: float = DEFAULT_TIMEOUT_S
    browser: str = ""
    portals: Mapping[str, PortalProvider] | None = None  # extra portals by name (besides the installed ones)
    baselines: str = "compare"  # compare (when a baseline exists) | update (approve this run's receipts) | off
    variant: str | None = None  # --variant: the embedded portals' UX variant for every scenario
    walkthrough: tuple[str, ...] = ()  # formats to build after the run; "video" also records while running
    narrate: bool = False  # spoken captions in the video (espeak-ng)
    live: bool = False  # --live: a base_url off this machine is allowed (guard.py)
    a11y: bool = True  # --no-a11y: no axe-core audits, whatever the scenarios ask


@dataclass
class RunResult:
    scenario: Scenario
    run_dir: Path
    status: str  # passed | failed | interrupted | error
    manifest: Manifest
    failure: Failure | None = None
    duration_s: float = 0.0
    metrics: Metrics = field(default_factory=Metrics)
    secrets: SecretValues = field(default_factory=SecretValues)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def records(self) -> list[StepRecord]:
        return self.manifest.steps


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run; the run folder is complete (status interrupted) and named here."""

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result


# ("start", Scenario) / ("begin", (index, caption)) / ("step", StepRecord) / ("end", RunResult)
Progress = Callable[[str, Any], None]


def short_error(exc: BaseException) -> str:
    """Playwright errors carry a long call log; keep the first two meaningful lines."""
    lines = [l.strip() for l in str(exc).splitlines() if l.strip() and not set(l.strip()) <= {"=", " "}]
    lines = [l for l in lines if not l.startswith(("Call log:", "logs"))]
    text = " — ".join(lines[:2]) or type(exc).__name__
    for prefix in ("Locator.", "Page.", "LocatorAssertions.", "PageAssertions.", "BrowserContext.", "Tracing."):
        if text.startswith(prefix):
            text = text.split(": ", 1)[-1]
    return text[:400]


def _png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)


_SCROLL_JS = "() => [scrollX, scrollY]"
_ELEMENT_JS = "e => { const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY]; }"


def capture(
    page: Page,
    path: Path,
    how: Any,
    masks: list[Locator],
    timeout_ms: float,
    scale: float,
    scroll: tuple[float, float] | None = None,
    masked_fields: list[str] | None = None,
) -> Shot:
    """Wait for the page to settle, then screenshot; retry Chromium's transient capture failure.
    Password fields and `masked_fields` (CSS selectors) are painted over by a style, `masks` (locators of
    fields the page gave no id or name) by Playwright's slower `mask`.
    `scroll`: the viewport's position when already known (saves a round trip)."""
    style = mask_style([PASSWORD_FIELDS, *(masked_fields or [])])
    paint: dict[str, Any] = {"style": style, "animations": "disabled", "timeout": timeout_ms}
    if masks:
        paint.update(mask=masks, mask_color=MASK_COLOR)
    for attempt in range(SCREENSHOT_ATTEMPTS):
        try:
            wait_for_load(page, "load", timeout_ms)
        except PlaywrightError:
            pass
        try:
            if isinstance(how, M.Target):
                element = locate(page, how)
                element.screenshot(path=path, **paint)
                kind, (x, y) = "element", element.evaluate(_ELEMENT_JS)
            elif how == "full":
                page.screenshot(path=path, full_page=True, **paint)
                kind, (x, y) = "full", (0.0, 0.0)
            else:
                page.screenshot(path=path, **paint)
                kind, (x, y) = "viewport", scroll if scroll is not None else page.evaluate(_SCROLL_JS)
            w, h = _png_size(path)
            return Shot(kind=kind, width=w, height=h, scale=scale, x=x, y=y)
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == SCREENSHOT_ATTEMPTS - 1:
                raise
            page.wait_for_timeout(150 * (attempt + 1))
    raise AssertionError("unreachable")


_READY_TO = {
    "click": "click",
    "fill": "fill in",
    "select": "choose from",
    "check": "tick",
    "uncheck": "untick",
    "press": "press keys in",
    "upload": "upload files to",
    "download": "click for the download",
    "save": "read",
    "wait": "wait for",
}


def _target_words(arg: Any) -> str:
    """The element a step looks for, as its failures name it: '文字' or {role=button name=确认}."""
    target = getattr(arg, "for_", None) or getattr(arg, "click", None) or getattr(arg, "from_", None) or arg
    if isinstance(target, str):
        return f"'{target}'"
    return f"{{{target.describe()}}}" if isinstance(target, M.Target) else _describe(target)


def timeout_message(model: M.StepBase, timeout_ms: float) -> str:
    """A timed-out step in the words click's and see's failures use, not Playwright's locator dump."""
    after = f"{round(timeout_ms / 1000, 1):g}s"
    arg = model.arg
    if model.ACTION == "goto":
        return f"the page {arg} did not finish loading within {after}"
    if model.ACTION == "request":
        return f"{arg.method} {arg.url} did not answer within {after}"
    return f"no element {_target_words(arg)} ready to {_READY_TO.get(model.ACTION, model.ACTION)} on the page after {after}"


def ambiguous_message(model: M.StepBase, raw: str) -> str:
    """Playwright refuses to act on a target that matches several elements; say so, and what to add."""
    found = re.search(r"resolved to (\d+) elements", raw)
    n = found.group(1) if found else "several"
    return (
        f"{_target_words(model.arg)} matches {n} elements on the page; "
        "add `exact: true` or `nth: 0` (the first), or scope the step with `within:`"
    )


def _describe(arg: Any) -> str:
    if isinstance(arg, str):
        return arg
    if isinstance(arg, dict):
        return ", ".join(f"{k}={v}" for k, v in arg.items())
    if isinstance(arg, M.Target):
        return arg.describe()
    if hasattr(arg, "model_dump"):
        return ", ".join(f"{k}={v}" for k, v in arg.model_dump(by_alias=True, exclude_none=True).items())
    return str(arg)


def _jsonable(arg: Any) -> Any:
    return (
        arg.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
        if hasattr(arg, "model_dump")
        else arg
    )


def _safe(fn: Callable[[], str]) -> str:
    try:
        return fn()
    except PlaywrightError:
        return ""


_BOXES_JS = """els => els.filter(e => e.offsetWidth || e.offsetHeight || e.getClientRects().length).map(e => {
  const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, r.height]; })"""

# Boxes of several CSS targets in one round trip, each target's apart (a union would merge two targets that
# match one element). Open shadow roots are searched like Playwright's css engine does; a selector the
# browser cannot parse (Playwright's own extensions) answers null and goes the per-target way.
_CSS_BOXES_JS = """(targets) => {
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
  const shown = (e) => e.offsetWidth || e.offsetHeight || e.getClientRects().length;
  return targets.map(([testid, css, nth]) => {
    const sel = testid !== null ? `[data-testid="${CSS.escape(testid)}"]` : css;
    let found;
    try { found = roots.flatMap(r => [...r.querySelectorAll(sel)]); } catch (e) { return null; }
    if (nth !== null) { const one = found.at(nth); found = one ? [one] : []; }
    return found.filter(shown).map(e => { const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, r.height]; });
  });
}"""


# The friction probe, the title and the scroll position in one round trip (three before); the last two
# are used only when the page had finished loading, so nothing can move before the screenshot.
# The mask and redaction boxes of CSS targets come along too (see _boxes): one round trip fewer per screenshot.
_PROBE_PLUS_JS = (
    "([p, asked]) => ({facts: (" + PROBE_JS + ")(p), title: document.title, scroll: [scrollX, scrollY], "
    "ready: document.readyState, boxes: asked.length ? (" + _CSS_BOXES_JS + ")(asked) : []})"
)


def _plain_css(t: Any) -> bool:
    """A target the browser can find by itself: a test id or plain CSS (not role, label, text …)."""
    return isinstance(t, M.Target) and (t.testid is not None or (t.css is not None and ">>" not in t.css))


def _css_asked(targets: list[Any]) -> tuple[list[int], list[list[Any]]]:
    """Which targets _CSS_BOXES_JS can measure, and what to ask it."""
    batch = [i for i, t in enumerate(targets) if _plain_css(t)]
    return batch, [[targets[i].testid, targets[i].css, targets[i].nth] for i in batch]


def _boxes(page: Page, *groups: list[Any], measured: list[Any] | None = None) -> list[list[Box]]:
    """Page boxes of every visible element each target matches (masks, redactions), one list per group.
    CSS targets are measured together in one round trip — none when the probe already `measured` them on
    the settled page; the others (role, label, text) one each."""
    flat = [t for group in groups for t in group]
    found: list[list[Any] | None] = [None] * len(flat)
    batch, asked = _css_asked(flat)
    if batch:
        try:
            answers = measured if measured is not None else page.evaluate(_CSS_BOXES_JS, asked)
            for i, boxes in zip(batch, answers, strict=True):
                found[i] = boxes
        except (PlaywrightError, ValueError):
            pass  # measured one by one below
    for i, t in enumerate(flat):
        if found[i] is None:
            loc = page.get_by_text(t) if isinstance(t, str) else locate(page, t)
            try:
                found[i] = loc.evaluate_all(_BOXES_JS)
            except PlaywrightError:
                found[i] = []
    out, at = [], 0
    for group in groups:
        out.append(
            [Box(x=x, y=y, width=w, height=h) for boxes in found[at : at + len(group)] for x, y, w, h in boxes or [] if w and h]
        )
        at += len(group)
    return out


class StepLoop:
    """The steps of one run on one page: substitute, check `if`, act (with retries), read the page,
    screenshot, compare with the baseline, audit, record."""

    def __init__(self, run: ScenarioRun, page: Page) -> None:
        self.run, self.page = run, page
        self.sc, self.folder, self.secrets = run.scenario, run.folder, run.secrets
        self.saved: dict[str, Any] = {}  # values stored by `save` / `request`, visible to every later step
        self.masks: list[Locator] = []  # secret fields without an id or name (Playwright's mask)
        self.masked_fields: list[str] = []  # CSS selectors of the fields secrets were typed into
        self.index = 0
        self.events = Events()  # the running step's events (dialogs and navigations arrive through the page)
        self.dialog_answers: list[str] = []
        self.friction = FrictionTracker(patterns(self.sc.header.ux))
        self.settled: tuple[str, tuple[float, float]] | None = None
        self.settled_boxes: list[Any] | None = None  # the probe's CSS mask/redaction boxes on a settled page
        self.audited_url = ""
        self.visual_failures: list[Failure] = []
        self.recorder: VideoRecorder | None = None
        # A `run:` step's section and walkthrough flag belong to the steps of its flow.
        self.pending_section: str | None = None
        self.hidden_depth = 0
        self.console: list[str] = []  # the page's errors during the running step
        self.step_warnings: list[str] = []
        page.on("framenavigated", self._navigated)
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and len(self.console) < MAX_CONSOLE:
            self.console.append(f"{message.type}: {message.text}"[:300])

    def _page_error(self, error: Any) -> None:
        if len(self.console) < MAX_CONSOLE:
            self.console.append(f"uncaught: {getattr(error, 'message', error)}"[:300])

    def _request_refused(self, url: str) -> str | None:
        return check_request(url, self.run.manifest.site.base_url or "", self.sc.header.allow_hosts)

    def _browser_gone(self) -> bool:
        try:
            browser = self.page.context.browser
            return self.page.is_closed() or (browser is not None and not browser.is_connected())
        except PlaywrightError:
            return True

    def _dialog(self, dialog: Any) -> None:
        """Answer as a `dialog` step armed; dismiss unexpected ones (Playwright's own default)."""
        self.events.dialogs += 1
        how = self.dialog_answers.pop(0) if self.dialog_answers else "dismiss"
        dialog.accept() if how == "accept" else dialog.dismiss()

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.events.navigations += 1

    def _mask(self, loc: Locator) -> None:
        """A field about to receive a secret: painted over in receipts; in a recorded video its text is discs.

        Named by its id and name, the field stays painted over when the page draws it anew (a form shown
        again after a refused login, with the value filled in by the server). A field with neither is
        masked by its locator."""
        try:
            selectors: list[str] = loc.evaluate(_FIELD_SELECTORS_JS, self.recorder is not None, timeout=2000)
        except PlaywrightError:
            selectors = []
        if selectors:
            self.masked_fields.extend(s for s in selectors if s not in self.masked_fields)
        else:
            self.masks.append(loc)

    def _save_download(self, download: Any, name: str) -> Path:
        target = self.folder.download_path(name)
        download.save_as(target)
        return target

    def context(self, scope: dict[str, Any]) -> Context:
        return Context(vars={**scope, **self.saved}, builtins=self.run.builtins, tz=self.sc.timezone)

    def run_steps(self, steps: tuple[Step, ...], scope: dict[str, Any], flow: Flow | None) -> Failure | None:
        for step in steps:
            ctx = self.context(scope)
            fail = self.run_flow(step, ctx) if step.flow is not None else self.run_step(step, ctx, flow)
            if fail is not None:
                return fail
        return None

    def run_flow(self, step: Step, ctx: Context) -> Failure | None:
        flow = step.flow
        assert flow is not None
        if step.model.if_ is not None and not condition_holds(self.page, _resolve(ctx, step.model.if_)):
            return None
        call_vars = step.model.vars if isinstance(step.model, M.Run) else None
        values = {
            **{k: ctx.substitute(v) for k, v in flow.vars.items() if v is not None},
            **{k: ctx.substitute(v) for k, v in (call_vars or {}).items()},
        }
        for name in flow.secrets:
            if name in values:
                self.secrets.add(values[name])
        if step.model.section:
            self.pending_section = ctx.substitute(step.model.section)
        hidden = not step.model.walkthrough
        self.hidden_depth += hidden
        try:
            return self.run_steps(flow.steps, values, flow)
        finally:
            self.hidden_depth -= hidden

    def _prepare(self, step: Step, ctx: Context) -> M.StepBase:
        """The step with its variables substituted, validated again (a substituted value may be wrong)."""
        try:
            return M.step_adapter(step.action).validate_python(ctx.substitute(step.raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise StepFailed(f"after substituting variables: {err['msg']}") from None

    def _act(self, model: M.StepBase, timeout_ms: float) -> tuple[Events, int]:
        fn = RUNNERS[model.ACTION]
        for attempt in range(1, model.retry + 2):
            events = self.events = Events()
            ctx = StepContext(
                page=self.page,
                budget_ms=timeout_ms,
                vars=self.saved,
                events=events,
                base_dir=self.run.scenario.file.parent,
                save_download=self._save_download,
                has_secret=self.secrets.within,
                request_refused=self._request_refused,
                within=locate(self.page, model.within, timeout_ms).first if model.within is not None else None,
                add_secret=self.secrets.add,
                warn=self.step_warnings.append,
                mask=self._mask,
                arm_dialog=self.dialog_answers.append,
            )
            try:
                fn(ctx, model.arg)
                return events, attempt
            except (PlaywrightError, StepFailed, AssertionError):
                if attempt > model.retry:
                    raise
                # Back off as a person would before trying again: 0.5 s, 1 s, 2 s, then 4 s at most.
                self.page.wait_for_timeout(min(500 * 2 ** (attempt - 1), 4000))
        raise AssertionError("unreachable")

    def _box_groups(self, model: M.StepBase) -> tuple[list[Any], list[Any]]:
        """What a screenshot's boxes are recorded for: (masks, redactions)."""
        return [*self.sc.header.mask, *model.mask], list(self.sc.header.redact)

    def _box_targets(self, model: M.StepBase) -> list[Any]:
        masks, redact = self._box_groups(model)
        return [*masks, *redact]

    def _probe(self, index: int, model: M.StepBase) -> PageFacts | None:
        """What the page shows now (one evaluate); None when the page cannot answer (closed).

        A click that navigates can still be unloading the old page when the step ends; the evaluate then
        fails with "execution context was destroyed". Waiting for the new document and asking again keeps
        a receipt page from going unnoticed (it did, about one run in a few hundred).
        """
        probe = None  # self.settled and self.settled_boxes were reset by run_step
        asked = _css_asked(self._box_targets(model))[1]
        for _ in range(3):
            try:
                # Free when the document is already parsed (see loadstate.py);
                # a half-parsed page would hide the receipt number further down.
                wait_for_load(self.page, "domcontentloaded", 2000)
            except PlaywrightError:
                pass  # a page that never finishes parsing is still asked what it shows so far
            try:
                both = self.page.evaluate(_PROBE_PLUS_JS, [self.friction.patterns, asked])
                if both["ready"] != "complete" and both["facts"].get("retention"):
                    # A retention page's controls are measured for size: before its stylesheets apply, a grey
                    # text link and the big offer button look alike. Wait for them (only on such pages).
                    try:
                        wait_for_load(self.page, "load", 2000)
                    except PlaywrightError:
                        pass  # measured as it stands
                    both = self.page.evaluate(_PROBE_PLUS_JS, [self.friction.patterns, asked])
                probe = both["facts"]
                if both["ready"] == "complete":
                    self.settled = (both["title"], (float(both["scroll"][0]), float(both["scroll"][1])))
                    self.settled_boxes = both["boxes"]
                break
            except PlaywrightError:
                if self.page.is_closed():
                    return None
        if probe is None:
            return None
        words = M.words(model.arg) if isinstance(model.arg, (str, M.Target)) else ""
        return self.friction.facts(index, probe, model.kind, words, mask=lambda t: self.secrets.mask(t) or "")

    def _visual(self, path: Path, shot: Shot, masks: list[Box], failed: bool) -> VisualCheck | None:
        mode = self.run.opts.baselines
        if mode == "off" or failed:
            return None
        baselines = self.run.baselines
        opts = self.sc.header.visual
        if mode == "update":
            # Approve only what changed: a screen that matches its baseline (masked regions aside) keeps it,
            # so updating does not churn images in git for receipt numbers that differ on every run.
            kept = baselines.compare(
                path,
                [shot.to_image(b) for b in masks],
                None,
                threshold=opts.threshold,
                max_diff_pixels=0,
                rel_to=self.sc.file.parent,
            )
            if kept.status == "same" and kept.enforced:
                return kept
            image = baselines.approve(path)
            return VisualCheck(status="updated", baseline=_rel(image, self.sc.file.parent))
        return baselines.compare(
            path,
            [shot.to_image(b) for b in masks],
            self.folder.path / "diffs" / path.name,
            threshold=opts.threshold,
            max_diff_pixels=opts.max_diff_pixels,
            rel_to=self.sc.file.parent,
        )

    def _wants_audit(self, model: M.StepBase, status: str) -> bool:
        if not self.run.opts.a11y:
            return False
        if _safe(lambda: self.page.url) in ("", "about:blank"):
            return False  # nothing of the site's to audit yet
        if model.a11y is not None:
            return model.a11y and status != "skipped"
        return (
            self.sc.header.a11y and status in ("passed", "optional-failed") and _safe(lambda: self.page.url) != self.audited_url
        )

    def run_step(self, step: Step, ctx: Context, flow: Flow | None) -> Failure | None:
        self.index += 1
        started, t0 = datetime.now(ZoneInfo(self.sc.timezone)), time.monotonic()
        model = step.model
        timeout_ms = (model.timeout or self.run.opts.timeout) * 1000
        caption, named, target, arg = model.name or model.ACTION, model.name is not None, "", None
        status, error, attempts, events = "passed", None, 1, Events()
        detail: str | None = None
        self.events = events
        self.console = []
        self.step_warnings = []
        try:
            model = self._prepare(step, ctx)
            caption = model.name if model.name is not None else model.caption("zh")
            target, arg = _describe(model.arg), _jsonable(model.arg)
            if model.if_ is not None and not condition_holds(self.page, _resolve(ctx, model.if_)):
                status = "skipped"
            else:
                self.run.progress("begin", (self.index, self.secrets.mask(caption)))
                section = ctx.substitute(model.section) if model.section else self.pending_section
                if self.recorder is not None and section and not self.hidden_depth:
                    t0 += self.recorder.chapter(self.secrets.mask(section) or section, self.index)  # not the journey's time
                events, attempts = self._act(model, timeout_ms)
        except UnresolvedVariable as exc:
            status, error = "failed", str(exc)
        except (PlaywrightError, StepFailed, AssertionError, ValueError) as exc:
            status, error = "failed", short_error(exc)
            if isinstance(exc, PlaywrightTimeout):  # the headline in words; Playwright's own text stays in the record
                error, detail = timeout_message(model, timeout_ms), error
            elif "strict mode violation" in error:
                error, detail = ambiguous_message(model, error), error
            if self._browser_gone():  # not "not visible after 10s": the page died under the step
                error = BROWSER_GONE
            events = self.events
        if status == "failed" and model.optional:
            status = "optional-failed"
        acted_ms = int((time.monotonic() - t0) * 1000)
        warnings = list(dict.fromkeys(self.step_warnings))
        if model.ACTION != "dialog" and self.dialog_answers:
            # A `dialog:` answer is for the step right after it; one still unused means no dialog came.
            how = " / ".join(self.dialog_answers)
            warnings.append(f"dialog: {how} was armed for this step, but no dialog appeared")
            self.dialog_answers.clear()
        self.settled, self.settled_boxes = None, None
        facts = self._probe(self.index, model) if status != "skipped" else None
        settled = self.settled  # (title, scroll) read by the probe from a loaded page, else None
        if self.recorder is not None and status != "skipped":
            self.recorder.hide_actions()  # the pointer and highlight are for the video, never for a receipt
        caption = self.secrets.mask(caption) or caption
        screenshot, shot, masks, redact, visual = None, None, [], [], None
        want = model.screenshot if status != "failed" else True  # a failure always gets its screenshot
        if status != "skipped" and want is not False:
            path = self.folder.screenshot_path(self.index, caption)
            try:
                scroll = settled[1] if settled else None
                shot = capture(self.page, path, want, self.masks, timeout_ms, self.run.scale, scroll, self.masked_fields)
                screenshot = path.relative_to(self.folder.path).as_posix()
                masks, redact = _boxes(self.page, *self._box_groups(model), measured=self.settled_boxes)
                visual = self._visual(path, shot, masks, status == "failed")
            except PlaywrightError as exc:
                if status == "passed":
                    status, error = "failed", BROWSER_GONE if self._browser_gone() else f"screenshot failed: {short_error(exc)}"
        violations = None
        if self._wants_audit(model, status):
            try:
                violations = audit(self.page)
                self.audited_url = _safe(lambda: self.page.url)
            except PlaywrightError as exc:
                error = error or f"a11y audit failed: {short_error(exc)}"
        waiting = model.ACTION == "wait"
        record = StepRecord(
            index=self.index,
            name=caption,
            named=named,
            action=step.action,
            arg=self.secrets.mask_data(arg),
            target=self.secrets.mask(target) or "",
            source=step.where,
            flow=flow.file.name if flow else None,
            note=self.secrets.mask(ctx.substitute(model.note)) if model.note else None,
            section=self.secrets.mask(ctx.substitute(model.section) if model.section else self.pending_section),
            walkthrough=model.walkthrough and not self.hidden_depth,
            zoom=model.zoom,
            started_at=started.isoformat(timespec="milliseconds"),
            ended_at=datetime.now(ZoneInfo(self.sc.timezone)).isoformat(timespec="milliseconds"),
            duration_ms=int((time.monotonic() - t0) * 1000),
            active_ms=0 if waiting else acted_ms,
            wait_ms=acted_ms if waiting else 0,
            status=status,
            error=self.secrets.mask(error),
            error_detail=self.secrets.mask(detail),
            warnings=warnings,
            attempts=attempts,
            url=self.secrets.mask(_safe(lambda: self.page.url)) or "",
            title=self.secrets.mask(settled[0] if settled else _safe(self.page.title)) or "",
            screenshot=screenshot,
            shot=shot,
            bbox=events.bbox,
            masks=masks,
            redact=redact,
            page=facts,
            a11y=violations,
            visual=visual,
            console=[self.secrets.mask(line) or "" for line in self.console],
            events=StepEvents(
                clicks=events.clicks,
                inputs=events.inputs,
                keystrokes=events.keystrokes,
                navigations=events.navigations,
                dialogs=events.dialogs,
                requests=events.requests,
                downloads=[Path(d).relative_to(self.folder.path).as_posix() for d in events.downloads],
            ),
        )
        if visual is not None and visual.status == "changed" and visual.enforced and record.status == "passed":
            # Soft: the step fails and the run will, but the journey goes on so every changed screen is shown.
            record.status = "failed"
            record.error = (
                f"visual: {visual.diff_pixels} pixels differ from the baseline {visual.baseline} "
                f"(allowed {visual.max_diff_pixels}); diff: {visual.diff}"
            )
            self.visual_failures.append(Failure(step=self.index, source=step.where, message=record.error, screenshot=screenshot))
        if status != "skipped":
            self.pending_section = None
        self.folder.append(record)
        self.run.progress("step", record)
        if self.recorder is not None and record.status != "skipped" and record.walkthrough:
            self.recorder.caption(record.index, record.name)
            self.recorder.show_actions()
        soft = bool(self.visual_failures) and self.visual_failures[-1].step == record.index
        if record.status == "failed" and not soft:
            return Failure(
                step=record.index, source=record.source, message=record.error or "failed", screenshot=record.screenshot
            )
        return None


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _resolve(ctx: Context, cond: M.Condition) -> M.Condition:
    return M.Condition.model_validate(ctx.substitute(cond.model_dump(by_alias=True, exclude_none=True)))


def _close_quietly(closable: Any) -> None:
    """Closing must not replace the run's real outcome (after Ctrl-C or a crash the browser may be gone)."""
    try:
        closable.close()
    except PlaywrightError:
        pass


class ScenarioRun:
    """One scenario run = one run folder, one embedded portal (when named), one browser context."""

    def __init__(self, scenario: Scenario, browser: ContextFactory, opts: RunOptions, progress: Progress) -> None:
        self.scenario, self.browser, self.opts, self.progress = scenario, browser, opts, progress
        self.tz = ZoneInfo(scenario.timezone)
        self.t0 = time.monotonic()
        self.folder = RunFolder(opts.out_dir, scenario.slug, datetime.now())  # folder name in the machine's local time
        self.builtins = {"run.id": self.folder.path.name, "run.dir": str(self.folder.path)}
        self.secrets = SecretValues()
        self.scale = 1.0
        self.loop: StepLoop | None = None
        self.baselines = Baselines(baseline_dir(scenario.file, scenario.slug, scenario.device), browser=opts.browser)
        self.manifest = self.folder.write_manifest(
            Manifest(
                tool=f"tuiding {__version__}",
                run_id=self.folder.path.name,
                uuid=str(uuid.uuid4()),
                scenario=ScenarioInfo(
                    name=scenario.name,
                    file=str(scenario.file),
                    description=scenario.description,
                    tags=list(scenario.tags),
                    row=scenario.row,
                ),
                browser=opts.browser,
                budget=scenario.budget.model_dump(exclude_none=True) if scenario.budget else None,
                before=list(scenario.header.before),
                redact_text=[t for t in scenario.header.redact if isinstance(t, str)],
                after=list(scenario.header.after),
                device=scenario.device or "Desktop 1280x720",
                locale=scenario.locale,
                timezone=scenario.timezone,
                permissions=list(scenario.permissions),
                host=platform.node(),
                user=getpass.getuser(),
                started_at=datetime.now(self.tz).isoformat(timespec="milliseconds"),
                attempt=opts.attempt,
                retry_of=opts.retry_of,
            )
        )

    # -- seams -------------------------------------------------------------------------------

    def resolve_vars(self) -> dict[str, Any]:
        ctx = Context(vars={}, builtins=self.builtins, tz=self.scenario.timezone)
        values = {k: ctx.substitute(v) for k, v in self.scenario.vars.items()}
        for name in self.scenario.secrets:
            self.secrets.add(values[name])
        return values

    def open_site(self, stack: ExitStack, values: dict[str, Any]) -> str:
        sc, opts = self.scenario, self.opts
        ctx = Context(vars=values, builtins=self.builtins, tz=sc.timezone)  # a matrix row may name the site
        base_url = opts.base_url or (ctx.substitute(sc.base_url) if sc.base_url else None)
        if base_url is None and sc.portal:
            settings: dict[str, Any] = dict(sc.header.settings)
            if sc.header.variant:
                settings["variant"] = sc.header.variant
            if opts.variant:
                settings["variant"] = opts.variant
            try:
                provider = get_provider(sc.portal, opts.portals)(**settings)
                # Seeding hashes passwords (~0.8 s of CPU): in a thread, so concurrent journeys go on meanwhile.
                base_url = offload(lambda: stack.enter_context(provider))
            except ValueError as exc:  # the portal refused a setting: one line, the run is an error
                raise PortalUnavailable(str(exc)) from None
            self.manifest.site = Site(base_url=base_url, portal=sc.portal)
            self.manifest.settings = {k: str(v) for k, v in settings.items()}
        if base_url is None:
            raise PortalUnavailable(f"{sc.file}: no site to run against (add 'portal:' or 'base_url:', or pass --base-url)")
        try:
            check_site(base_url, opts.live or sc.header.live, str(sc.file))
        except LiveSiteRefused as exc:
            raise PortalUnavailable(str(exc)) from None
        self.manifest.site.base_url = base_url
        return base_url

    def context_options(self, base_url: str) -> dict[str, Any]:
        sc = self.scenario
        kwargs: dict[str, Any] = {
            "locale": sc.locale,
            "timezone_id": sc.timezone,
            "accept_downloads": True,
            "base_url": base_url,
            "viewport": dict(DESKTOP),
            "permissions": list(sc.permissions),
        }
        if sc.device:
            if sc.device not in self.browser.devices:
                raise PortalUnavailable(f"this Playwright has no device named '{sc.device}'")
            kwargs.update(self.browser.devices[sc.device])
            kwargs.pop("default_browser_type", None)
        self.scale = float(kwargs.get("device_scale_factor") or 1.0)
        return kwargs

    def execute(self, held: HeldInterrupts | None = None) -> RunResult:
        result = RunResult(self.scenario, self.folder.path, "failed", self.manifest, secrets=self.secrets)
        interrupted = False
        try:
            try:
                self.progress("start", self.scenario)
            finally:
                if held is not None:
                    held.release()  # a Ctrl-C that came while the folder was set up is raised here
            with ExitStack() as stack:
                run_vars = self.resolve_vars()
                context_kwargs = self.context_options(self.open_site(stack, run_vars))
                context = self.browser.new_context(**context_kwargs)
                describe = getattr(self.browser, "describe", None)  # a farm names the endpoint this run used
                if describe is not None:
                    self.manifest.browser = describe(context)
                stack.callback(_close_quietly, context)
                context.add_init_script(CAMERA_INIT)
                # on-retry: only a retry is traced, so a passing suite pays nothing for traces.
                retry_traced = self.opts.trace == "on-retry" and self.opts.attempt > 1
                tracing = self.opts.trace in ("on", "on-failure") or retry_traced
                if tracing:
                    # No screenshots/sources in the trace: DOM snapshots are text we can scrub of secrets.
                    context.tracing.start(snapshots=True, screenshots=False, sources=False, title=self.scenario.name)
                page = context.new_page()
                self.loop = StepLoop(self, page)
                if "video" in self.opts.walkthrough:
                    size = dict(context_kwargs.get("viewport") or DESKTOP)
                    self.loop.recorder = VideoRecorder(page, self.folder.path / "video", narrate=self.opts.narrate, size=size)
                    stack.callback(self.loop.recorder.finish)  # before the context closes (callbacks run last-in first)
                    self.loop.recorder.chapter(self.scenario.name, 0, self.scenario.description)  # the title card
                failure = self.loop.run_steps(self.scenario.steps, run_vars, None)
                measured = metrics(self.folder.records, self.loop.friction)
                exceeded = over_budget(self.scenario.budget, self.folder.records, measured)
                self.manifest.budget_exceeded = exceeded
                if failure is None and exceeded:
                    first = min(exceeded, key=lambda b: b.step or 0)
                    record = self.folder.records[(first.step or 1) - 1] if self.folder.records else None
                    failure = Failure(
                        step=first.step,
                        source=record.source if record else None,
                        message="\n".join(b.line() for b in exceeded),
                        screenshot=record.screenshot if record else None,
                    )
                if failure is None and self.loop.visual_failures:
                    first_visual = self.loop.visual_failures[0]
                    failure = first_visual.model_copy(
                        update={
                            "message": f"{len(self.loop.visual_failures)} step(s) differ from their baselines; first: {first_visual.message}"
                        }
                    )
                if self.opts.baselines == "update" and (failure is None or self.loop.visual_failures):
                    self.baselines.prune({Path(r.screenshot).name for r in self.folder.records if r.screenshot})
                result.failure = failure
                result.status = "passed" if failure is None else "failed"
                if failure is not None and failure.message.startswith(BROWSER_GONE):
                    result.status = "error"  # the browser died under the journey: not the journey's own failure
                if tracing:
                    keep = self.opts.trace == "on" or failure is not None or retry_traced
                    trace_path = self.folder.path / "trace.zip" if keep else None
                    context.tracing.stop(path=trace_path)
                    if trace_path:
                        self.secrets.scrub_zip(trace_path)
                        self.manifest.trace = "trace.zip"
        except KeyboardInterrupt:
            result.status, interrupted = "interrupted", True
        except (PortalUnavailable, UnresolvedVariable, VideoUnavailable) as exc:
            result.status, result.failure = "error", Failure(step=None, message=str(exc))
        except PlaywrightError as exc:  # the browser or its connection died outside a step
            result.status = "error"
            result.failure = Failure(step=None, message=f"browser: {short_error(exc)}")
        finally:
            # A Ctrl-C while the final manifest is written would leave the folder unsealed (the caller seals
            # only on RunInterrupted): hold it until the manifest is whole, then stop the run as usual.
            late = HeldInterrupts()
            try:
                self.finish(result)
            finally:
                try:
                    late.release()
                except KeyboardInterrupt:
                    interrupted = True
        if interrupted:
            raise RunInterrupted(result)
        self.progress("end", result)
        return result

    def finish(self, result: RunResult) -> None:
        result.duration_s = time.monotonic() - self.t0
        result.metrics = metrics(self.folder.records, self.loop.friction if self.loop else None)
        m = self.manifest
        m.status = result.status  # type: ignore[assignment]
        m.ended_at = datetime.now(self.tz).isoformat(timespec="milliseconds")
        m.duration_ms = int(result.duration_s * 1000)
        m.metrics = result.metrics
        m.failure = result.failure
        self.folder.drop_unrecorded()
        result.manifest = self.folder.write_manifest(m)
        self.folder.close()


def run_scenario(
    scenario: Scenario, browser: ContextFactory, opts: RunOptions, progress: Progress = lambda *_: None
) -> RunResult:
    """Run one scenario in a fresh context (and a fresh embedded portal when it names one).

    The run folder holds the steps and a complete manifest when this returns (or raises
    RunInterrupted); `outputs.finish` then writes the report and seals the folder."""
    held = HeldInterrupts()  # delivered inside execute's protection: the folder is sealed either way
    try:
        run = ScenarioRun(scenario, browser, opts, progress)
    except BaseException:
        held.release()
        raise
    return run.execute(held)
