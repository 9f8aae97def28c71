"""Run one scenario: step loop, waits/retries, one receipt per step, failure artefacts, manifest."""
from __future__ import annotations

import getpass
import platform
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol
from zoneinfo import ZoneInfo

from playwright.sync_api import Error as PlaywrightError, Locator, Page

from . import __version__
from .args import Target
from .locators import locate
from .receipts import RunFolder, StepRecord
from .scenario import Flow, Scenario, Step
from .secrets import SecretValues
from .steps import ACTIONS, Events, StepContext, StepFailed, condition_holds
from .variables import Context, UnresolvedVariable

DEFAULT_TIMEOUT_S = 10.0
SCREENSHOT_ATTEMPTS = 5
MASK_COLOR = "#3d4450"  # secrets are painted over in receipts


class ContextFactory(Protocol):
    """What the runner needs from a browser: BrowserSession, or pytest-playwright's fixtures."""
    devices: dict[str, dict[str, Any]]

    def new_context(self, **kwargs: Any) -> Any: ...


@dataclass
class RunOptions:
    out_dir: Path = Path("runs")
    base_url: str | None = None        # --base-url: overrides the scenario's base_url and portal
    trace: str = "on-failure"          # on | on-failure | off (pytest-playwright's --tracing may own it)
    timeout: float = DEFAULT_TIMEOUT_S
    browser: str = ""


@dataclass
class Failure:
    step: StepRecord
    message: str


@dataclass
class RunResult:
    scenario: Scenario
    run_dir: Path
    status: str                        # passed | failed | interrupted
    records: list[StepRecord]
    failure: Failure | None = None
    duration_s: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)
    secrets: SecretValues = field(default_factory=SecretValues)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# ("start", Scenario) / ("begin", (index, caption)) / ("step", StepRecord) / ("end", RunResult)
Progress = Callable[[str, Any], None]


def short_error(exc: BaseException) -> str:
    """Playwright errors carry a long call log; keep the first two meaningful lines."""
    lines = [l.strip() for l in str(exc).splitlines() if l.strip() and not set(l.strip()) <= {"=", " "}]
    lines = [l for l in lines if not l.startswith(("Call log:", "logs"))]
    text = " — ".join(lines[:2]) or type(exc).__name__
    for prefix in ("Locator.", "Page.", "LocatorAssertions.", "PageAssertions."):
        if text.startswith(prefix):
            text = text.split(": ", 1)[-1]
    return text[:400]


def capture(page: Page, path: Path, how: Any, masks: list[Locator], timeout_ms: float) -> None:
    """Wait for the page to settle, then screenshot; retry Chromium's transient capture failure."""
    for attempt in range(SCREENSHOT_ATTEMPTS):
        try:
            page.wait_for_load_state("load", timeout=timeout_ms)
        except PlaywrightError:
            pass
        try:
            mask = [page.locator("input[type=password]"), *masks]
            if isinstance(how, Target):
                locate(page, how).screenshot(path=path, mask=mask, mask_color=MASK_COLOR, timeout=timeout_ms, animations="disabled")
            else:
                page.screenshot(path=path, full_page=how == "full", mask=mask, mask_color=MASK_COLOR, animations="disabled", timeout=timeout_ms)
            return
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == SCREENSHOT_ATTEMPTS - 1:
                raise
            page.wait_for_timeout(150 * (attempt + 1))


class _Run:
    def __init__(self, scenario: Scenario, page: Page, folder: RunFolder, opts: RunOptions, secrets: SecretValues,
                 builtins: dict[str, str], progress: Progress) -> None:
        self.sc, self.page, self.folder, self.opts = scenario, page, folder, opts
        self.secrets, self.builtins, self.progress = secrets, builtins, progress
        self.saved: dict[str, Any] = {}  # values stored by `save` / `request`, visible to every later step
        self.masks: list[Locator] = []
        self.index = 0
        self.totals = {"clicks": 0, "inputs": 0, "dialogs": 0, "requests": 0, "pages": 0, "downloads": 0}
        self.events = Events()  # the running step's events (dialogs arrive through the page)
        page.on("framenavigated", lambda frame: self._navigated(frame))
        self.dialog_answers: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        """Answer as a `dialog` step armed; dismiss unexpected ones (Playwright's own default)."""
        self.events.dialogs += 1
        how = self.dialog_answers.pop(0) if self.dialog_answers else "dismiss"
        dialog.accept() if how == "accept" else dialog.dismiss()

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.totals["pages"] += 1

    def run_steps(self, steps: tuple[Step, ...], scope: dict[str, Any], flow: Flow | None) -> Failure | None:
        for step in steps:
            ctx = Context(vars={**scope, **self.saved}, builtins=self.builtins, tz=self.sc.timezone)
            if step.flow is not None:
                fail = self.run_flow(step, ctx)
            else:
                fail = self.run_step(step, ctx, flow)
            if fail is not None:
                return fail
        return None

    def run_flow(self, step: Step, ctx: Context) -> Failure | None:
        flow = step.flow
        assert flow is not None
        if step.options.if_ is not None and not condition_holds(self.page, _resolve_condition(ctx, step.options.if_)):
            return None
        values = {**{k: ctx.substitute(v) for k, v in flow.vars.items() if v is not None},
                  **{k: ctx.substitute(v) for k, v in (step.options.vars or {}).items()}}
        for name in flow.secrets:
            if name in values:
                self.secrets.add(values[name])
        return self.run_steps(flow.steps, values, flow)

    def run_step(self, step: Step, ctx: Context, flow: Flow | None) -> Failure | None:
        self.index += 1
        started, t0 = datetime.now(ZoneInfo(self.sc.timezone)), time.monotonic()
        action = ACTIONS[step.action]
        events = Events()
        timeout_ms = (step.options.timeout or self.opts.timeout) * 1000
        caption, target = step.options.name or action.name, ""
        status, error, attempts = "passed", None, 0
        try:
            arg = action.adapter.validate_python(ctx.substitute(step.raw))
            caption = ctx.substitute(step.options.name) if step.options.name else action.caption(arg)
            target = _describe(arg)
            if step.options.if_ is not None and not condition_holds(self.page, _resolve_condition(ctx, step.options.if_)):
                status = "skipped"
            else:
                self.progress("begin", (self.index, self.secrets.mask(caption)))
                for attempts in range(1, step.options.retry + 2):
                    events = self.events = Events()
                    sc_ctx = StepContext(self.page, timeout_ms, self.saved, events, step.file.parent,
                                         self._save_download, lambda t: t in self.secrets, self.masks.append,
                                         self.dialog_answers.append)
                    try:
                        assert action.run is not None
                        action.run(sc_ctx, arg)
                        break
                    except (PlaywrightError, StepFailed, AssertionError):
                        if attempts > step.options.retry:
                            raise
                        self.page.wait_for_timeout(500)
        except UnresolvedVariable as exc:
            status, error = "failed", str(exc)
        except (PlaywrightError, StepFailed, AssertionError, ValueError) as exc:
            status, error = "failed", short_error(exc)
        if status == "failed" and step.options.optional:
            status = "optional-failed"
        caption = self.secrets.mask(caption) or caption
        shot = None
        want = step.options.screenshot if status != "failed" else True  # a failure always gets its screenshot
        if status != "skipped" and want is not False:
            path = self.folder.screenshot_path(self.index, caption)
            try:
                capture(self.page, path, want, self.masks, timeout_ms)
                shot = str(path.relative_to(self.folder.path))
            except PlaywrightError as exc:
                if status == "passed":
                    status, error = "failed", f"screenshot failed: {short_error(exc)}"
        for k in ("clicks", "inputs", "dialogs", "requests"):
            self.totals[k] += getattr(events, k)
        self.totals["downloads"] += len(events.downloads)
        record = StepRecord(
            index=self.index, name=caption, action=step.action, target=self.secrets.mask(target) or "",
            source=step.where, flow=flow.file.name if flow else None, started_at=started.isoformat(timespec="milliseconds"),
            duration_ms=int((time.monotonic() - t0) * 1000), status=status, url=self.secrets.mask(_safe(lambda: self.page.url)) or "",
            title=_safe(lambda: self.page.title()), error=self.secrets.mask(error),
            note=self.secrets.mask(ctx.substitute(step.options.note)) if step.options.note else None, attempts=max(attempts, 1), screenshot=shot,
            bbox=events.bbox, ended_at=datetime.now(ZoneInfo(self.sc.timezone)).isoformat(timespec="milliseconds"),
            events={"clicks": events.clicks, "inputs": events.inputs, "dialogs": events.dialogs,
                    "requests": events.requests, "downloads": [str(Path(d).relative_to(self.folder.path)) for d in events.downloads]},
        )
        self.folder.append(record)
        self.progress("step", record)
        if status == "failed":
            return Failure(record, record.error or "failed")
        return None

    def _save_download(self, download: Any, name: str) -> Path:
        target = self.folder.download_path(name)
        download.save_as(target)
        return target


def _close_quietly(context: Any) -> None:
    """Closing must not replace the run's real outcome (after Ctrl-C the browser may already be gone)."""
    try:
        context.close()
    except PlaywrightError:
        pass


def _safe(fn: Callable[[], str]) -> str:
    try:
        return fn()
    except PlaywrightError:
        return ""


def _describe(arg: Any) -> str:
    if isinstance(arg, str):
        return arg
    if isinstance(arg, dict):
        return ", ".join(f"{k}={v}" for k, v in arg.items())
    if hasattr(arg, "describe"):
        return arg.describe()
    if hasattr(arg, "model_dump"):
        return ", ".join(f"{k}={v}" for k, v in arg.model_dump(by_alias=True, exclude_none=True).items())
    return str(arg)


def _resolve_condition(ctx: Context, cond: Any) -> Any:
    return type(cond).model_validate(ctx.substitute(cond.model_dump(by_alias=True, exclude_none=True)))


def _budget_problems(scenario: Scenario, totals: dict[str, int]) -> list[str]:
    if scenario.budget is None:
        return []
    return [f"{k} {totals[k]} > {limit}" for k, limit in scenario.budget.model_dump().items()
            if limit is not None and totals[k] > limit]


def run_scenario(scenario: Scenario, browser: ContextFactory, opts: RunOptions, progress: Progress = lambda *_: None) -> RunResult:
    """Run one scenario in a fresh context (and a fresh embedded portal when it names one)."""
    from mock_portals.server import EmbeddedPortal

    tz = ZoneInfo(scenario.timezone)
    started = datetime.now(tz)
    t0 = time.monotonic()
    folder = RunFolder(opts.out_dir, scenario.slug, datetime.now())  # folder name in the machine's local time
    run_id = folder.path.name
    builtins = {"run.id": run_id, "run.dir": str(folder.path)}
    secrets = SecretValues()
    result = RunResult(scenario, folder.path, "failed", folder.records, secrets=secrets)
    manifest: dict[str, Any] = {
        "tool": f"tuiding {__version__}", "run_id": run_id, "scenario": {"name": scenario.name, "file": str(scenario.file),
        "description": scenario.description, "tags": list(scenario.tags)}, "browser": opts.browser,
        "device": scenario.device or "Desktop 1280x720", "permissions": list(scenario.permissions), "locale": scenario.locale, "timezone": scenario.timezone,
        "host": platform.node(), "user": getpass.getuser(), "started_at": started.isoformat(timespec="milliseconds"),
        "status": "running", "uuid": str(uuid.uuid4()),
    }
    progress("start", scenario)
    with ExitStack() as stack:
        try:
            ctx0 = Context(vars={}, builtins=builtins, tz=scenario.timezone)
            run_vars = {k: ctx0.substitute(v) for k, v in scenario.vars.items()}
            for name in scenario.secrets:
                secrets.add(run_vars[name])
            base_url = opts.base_url or (ctx0.substitute(scenario.base_url) if scenario.base_url else None)
            if base_url is None and scenario.portal:
                base_url = stack.enter_context(EmbeddedPortal(scenario.portal)).url
                manifest["portal"] = {"name": scenario.portal, "url": base_url, "embedded": True}
            if base_url is None:
                raise ValueError(f"{scenario.file}: no site to run against (add 'portal:' or 'base_url:', or pass --base-url)")
            manifest["base_url"] = base_url
            kwargs: dict[str, Any] = {"locale": scenario.locale, "timezone_id": scenario.timezone, "accept_downloads": True,
                                      "base_url": base_url, "viewport": {"width": 1280, "height": 720},
                                      "permissions": list(scenario.permissions)}
            if scenario.device:
                kwargs.update(browser.devices[scenario.device])
                kwargs.pop("default_browser_type", None)
            context = browser.new_context(**kwargs)
            stack.callback(_close_quietly, context)
            tracing = opts.trace != "off"
            if tracing:
                # No screenshots/sources in the trace: DOM snapshots are text we can scrub of secrets.
                context.tracing.start(snapshots=True, screenshots=False, sources=False, title=scenario.name)
            page = context.new_page()
            run = _Run(scenario, page, folder, opts, secrets, builtins, progress)
            failure = run.run_steps(scenario.steps, run_vars, None)
            budget = _budget_problems(scenario, run.totals)
            if failure is None and budget:
                msg = "UX budget exceeded: " + ", ".join(budget)
                failure = Failure(folder.records[-1], msg) if folder.records else None
            result.failure = failure
            result.status = "passed" if failure is None else "failed"
            manifest["budget_exceeded"] = budget
            result.metrics = {**run.totals, "steps": len(folder.records)}
            if tracing:
                keep = opts.trace == "on" or failure is not None
                trace_path = folder.path / "trace.zip" if keep else None
                context.tracing.stop(path=trace_path)
                if trace_path:
                    secrets.scrub_zip(trace_path)
                    manifest["trace"] = "trace.zip"
        except KeyboardInterrupt:
            result.status = "interrupted"
            raise
        finally:
            result.duration_s = time.monotonic() - t0
            ended = datetime.now(tz)
            manifest.update(status=result.status, ended_at=ended.isoformat(timespec="milliseconds"),
                            duration_ms=int(result.duration_s * 1000), metrics=result.metrics,
                            failure={"step": result.failure.step.index, "source": result.failure.step.source,
                                     "message": result.failure.message, "screenshot": result.failure.step.screenshot}
                            if result.failure else None)
            folder.write_manifest(manifest)
            folder.close()
            from .report.html import write_report
            write_report(folder.path)
    progress("end", result)
    return result
