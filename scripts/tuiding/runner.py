"""Run one scenario: the site, a fresh browser context, the step loop (waits, retries, one receipt per step),
failure artefacts and the manifest. Reports are written by the caller (CLI, pytest plugin) afterwards.
"""

from __future__ import annotations

import getpass
import platform
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from playwright.sync_api import Error as PlaywrightError

from . import __version__
from .browser import DESKTOP, UnknownDevice, context_options
from .capture import SECRET_MARK
from .failures import BROWSER_GONE, short_error
from .friction import CAMERA_INIT, metrics, over_budget
from .guard import LeftTheMachine, LiveSiteRefused, check_site, fence, fence_route
from .i18n import language
from .mail import MailboxUnavailable, Messages, open_mailbox
from .options import RunOptions
from .parallel import offload
from .portals import PortalUnavailable, get_provider
from .receipts import RunFolder, disk_refused
from .record import Failure, Manifest, ScenarioInfo, Site
from .redaction import video_config
from .results import RunInterrupted, RunResult
from .scenario import Scenario
from .secrets import SecretValues
from .signals import HeldInterrupts
from .siteclock import browser_clock, has_portal_clock, portal_clock
from .steploop import StepLoop
from .variables import Context, UnresolvedVariable
from .video import VideoRecorder, VideoUnavailable
from .visual import Baselines, baseline_dir


class ContextFactory(Protocol):
    """What the runner needs from a browser: BrowserSession, or pytest-playwright's fixtures."""

    @property
    def devices(self) -> dict[str, dict[str, Any]]: ...

    def new_context(self, **kwargs: Any) -> Any: ...


# ("start", Scenario) / ("begin", (index, caption)) / ("step", StepRecord) / ("working", str) / ("end", RunResult)
Progress = Callable[[str, Any], None]


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
        self.lang = language(opts.lang or scenario.locale)
        self.secrets = SecretValues()
        self.scale = 1.0
        self.clock: Callable[[], datetime] | None = None  # the site's clock for ${now…} (siteclock.py); None: the wall clock
        self.mailbox: Messages | None = None  # where `email` steps read (mail.py)
        self.recorder: VideoRecorder | None = None
        self.fence: LeftTheMachine | None = None  # where the journey left this machine (or opened a file it may not), if it did
        self.context_kwargs: dict[str, Any] = {}
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
                personal_data=scenario.header.personal_data.model_dump(),
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
                service=scenario.header.service.model_dump(exclude_none=True) if scenario.header.service else None,
                lang=self.lang,
            )
        )

    # -- seams -------------------------------------------------------------------------------

    def variables(self, *scopes: dict[str, Any]) -> Context:
        """What `${…}` resolves against: the given scopes (later ones win), the built-ins and the site's clock."""
        merged: dict[str, Any] = {}
        for scope in scopes:
            merged.update(scope)
        return Context(vars=merged, builtins=self.builtins, tz=self.scenario.timezone, now=self.clock)

    def resolve_vars(self) -> dict[str, Any]:
        ctx = self.variables()
        values = {k: ctx.substitute(v) for k, v in self.scenario.vars.items()}
        for name in self.scenario.secrets:
            if name in values:  # a name a step saves is masked once it is saved
                self.secrets.add(values[name])
        return values

    def open_site(self, stack: ExitStack, values: dict[str, Any]) -> str:
        sc, opts = self.scenario, self.opts
        ctx = self.variables(values)  # a matrix row may name the site
        base_url = opts.base_url or (ctx.substitute(sc.base_url) if sc.base_url else None)
        if base_url is None and sc.portal:
            settings: dict[str, Any] = dict(sc.header.settings)
            if sc.header.variant:
                settings["variant"] = sc.header.variant
            if opts.variant:
                settings["variant"] = opts.variant
            if "mailbox.smtp" in self.builtins:
                settings.setdefault("mail_smtp", self.builtins["mailbox.smtp"])
            try:
                provider = get_provider(sc.portal, opts.portals)(**settings)
                # Seeding hashes passwords (~0.8 s of CPU): in a thread, so concurrent journeys go on meanwhile.
                base_url = offload(lambda: stack.enter_context(provider))
            except ValueError as exc:  # the portal refused a setting: one line, the run is an error
                raise PortalUnavailable(str(exc)) from None
            self.manifest.site = Site(base_url=base_url, portal=sc.portal)
            self.manifest.settings = {k: str(v) for k, v in settings.items()}
            if has_portal_clock(base_url):
                self.clock, self.manifest.clock = portal_clock(base_url), "portal"
        if base_url is None:
            raise PortalUnavailable(f"{sc.file}: no site to run against (add 'portal:' or 'base_url:', or pass --base-url)")
        try:
            check_site(base_url, self.live, str(sc.file))
        except LiveSiteRefused as exc:
            raise PortalUnavailable(str(exc)) from None
        self.manifest.site.base_url = base_url
        return base_url

    def context_options(self, base_url: str) -> dict[str, Any]:
        sc = self.scenario
        try:
            kwargs = context_options(
                self.browser.devices, locale=sc.locale, timezone=sc.timezone, device=sc.device, base_url=base_url,
                permissions=tuple(sc.permissions),
            )  # fmt: skip
        except UnknownDevice as exc:
            raise PortalUnavailable(str(exc)) from None
        if not self.live and not self.remote:
            kwargs["proxy"] = fence(sc.header.allow_hosts)  # nothing but this machine is reachable from here (guard.py)
        self.scale = float(kwargs.get("device_scale_factor") or 1.0)
        return kwargs

    @property
    def remote(self) -> bool:
        """The browser runs elsewhere (`--connect`): this machine's loopback reaches it through expose_network."""
        return bool(getattr(self.browser, "remote", False))

    @property
    def allowed_files(self) -> list[Path]:
        """The scenario's allow_files folders: the only files on this machine a journey may open."""
        return [self.scenario.file.parent / folder for folder in self.scenario.header.allow_files]

    @property
    def live(self) -> bool:
        """The user allowed sites off this machine (--live, or the scenario's live: true)."""
        return self.opts.live or self.scenario.header.live

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
                context = self.open_context(stack, self.resolve_vars())  # the site may be named by a variable
                page = self.open_page(stack, context)
                run_vars = self.resolve_vars()  # again, on the site's clock now that it is known: ${now} in vars
                self.loop = StepLoop(self, page)
                failure = self.verdict(self.loop.run_steps(self.scenario.steps, run_vars, None))
                result.failure = failure
                result.status = "passed" if failure is None else "failed"
                if failure is not None and failure.message.startswith(BROWSER_GONE):
                    result.status = "error"  # the browser died under the journey: not the journey's own failure
                self.stop_trace(context, failure)
        except KeyboardInterrupt:
            result.status, interrupted = "interrupted", True
        except (PortalUnavailable, UnresolvedVariable, VideoUnavailable, MailboxUnavailable) as exc:
            result.status, result.failure = "error", Failure(step=None, message=str(exc))
        except PlaywrightError as exc:  # the browser or its connection died outside a step
            result.status = "error"
            result.failure = Failure(step=None, message=f"browser: {short_error(exc)}")
        except OSError as exc:
            if not disk_refused(exc):
                raise
            result.status = "error"  # never "passed": a receipt or record is missing
            result.failure = Failure(step=None, message=f"the run folder cannot be written: {exc.strerror}")
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
        if self.opts.after_run is not None:
            self.opts.after_run(result)
        self.progress("end", result)
        return result

    @property
    def tracing(self) -> bool:
        # on-retry: only a retry is traced, so a passing suite pays nothing for traces.
        return self.opts.trace in ("on", "on-failure") or (self.opts.trace == "on-retry" and self.opts.attempt > 1)

    def open_context(self, stack: ExitStack, run_vars: dict[str, Any]) -> Any:
        """The site (an embedded portal is started), its mailbox, and a fresh browser context for it."""
        # The mailbox first: an embedded portal is told where to send its mail.
        self.mailbox = open_mailbox(self.scenario.header.mailbox, stack, self.variables(run_vars), self.scenario.file.parent)
        if self.mailbox is not None:
            self.builtins.update(self.mailbox.variables())
            self.manifest.mailbox = self.mailbox.describe()
        base_url = self.open_site(stack, run_vars)
        self.context_kwargs = self.context_options(base_url)
        context = self.browser.new_context(**self.context_kwargs)
        describe = getattr(self.browser, "describe", None)  # a farm names the endpoint this run used
        if describe is not None:
            self.manifest.browser = describe(context)
        stack.callback(_close_quietly, context)
        self.fence = LeftTheMachine(context, live=self.live, files=self.allowed_files)
        if not self.live and self.remote:
            context.route("**/*", fence_route(self.scenario.header.allow_hosts))  # a browser elsewhere (guard.py)
        context.add_init_script(CAMERA_INIT)
        if self.tracing:
            # No screenshots/sources in the trace: DOM snapshots are text we can scrub of secrets.
            context.tracing.start(snapshots=True, screenshots=False, sources=False, title=self.scenario.name)
        return context

    def open_page(self, stack: ExitStack, context: Any) -> Any:
        page = context.new_page()
        installed = self.scenario.header.clock
        if installed is not None:
            page.clock.install(time=installed)
            self.clock, self.manifest.clock = browser_clock(page), "browser"
        if "video" in self.opts.walkthrough:
            size = dict(self.context_kwargs.get("viewport") or DESKTOP)
            header = self.scenario.header
            redact = video_config(header.redact, header.personal_data, SECRET_MARK)
            recorder = VideoRecorder(
                page, self.folder.path / "video", narrate=self.opts.narrate, size=size, lang=self.lang, redact=redact
            )
            stack.callback(recorder.finish, lambda text: self.progress("working", text))  # before the context closes
            recorder.chapter(self.scenario.name, 0, self.scenario.description)  # the title card
            self.recorder = recorder
        return page

    def verdict(self, failure: Failure | None) -> Failure | None:
        """The run's failure: the failed step's, else an exceeded budget's, else the first changed screen's."""
        assert self.loop is not None
        records = self.folder.records
        exceeded = over_budget(self.scenario.budget, records, metrics(records, self.loop.friction))
        self.manifest.budget_exceeded = exceeded
        if failure is None and exceeded:
            first = min(exceeded, key=lambda b: b.step or 0)
            record = records[(first.step or 1) - 1] if records else None
            failure = Failure(
                step=first.step,
                source=record.source if record else None,
                message="\n".join(b.line() for b in exceeded),
                screenshot=record.screenshot if record else None,
            )
        changed = self.loop.visual_failures
        if failure is None and changed:
            failure = changed[0].model_copy(
                update={"message": f"{len(changed)} step(s) differ from their baselines; first: {changed[0].message}"}
            )
        if self.opts.baselines == "update" and (failure is None or changed):
            self.baselines.prune({Path(r.screenshot).name for r in records if r.screenshot})
        return failure

    def stop_trace(self, context: Any, failure: Failure | None) -> None:
        if not self.tracing:
            return
        retry = self.opts.trace == "on-retry" and self.opts.attempt > 1
        keep = self.opts.trace == "on" or failure is not None or retry
        if self.fence is not None and self.fence.left_for_a_file:
            keep = False  # its snapshots hold the file the journey must not have opened
        trace_path = self.folder.path / "trace.zip" if keep else None
        context.tracing.stop(path=trace_path)
        if trace_path:
            self.secrets.scrub_zip(trace_path)
            self.manifest.trace = "trace.zip"

    def finish(self, result: RunResult) -> None:
        result.duration_s = time.monotonic() - self.t0
        result.metrics = metrics(self.folder.records, self.loop.friction if self.loop else None)
        m = self.manifest
        m.status = result.status  # type: ignore[assignment]
        m.ended_at = datetime.now(self.tz).isoformat(timespec="milliseconds")
        m.duration_ms = int(result.duration_s * 1000)
        m.metrics = result.metrics
        m.failure = result.failure
        self.folder.drop_unrecorded()  # also frees what a write the disk refused left behind
        try:
            result.manifest = self.folder.write_manifest(m)
        except OSError as exc:
            if not disk_refused(exc):
                raise
            # The folder keeps its first manifest (status running): verify calls it an incomplete run.
            result.status = m.status = "error"
            result.failure = m.failure = Failure(step=None, message=f"the run folder cannot be written: {exc.strerror}")
            result.manifest = m
        finally:
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
