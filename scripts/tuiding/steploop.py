"""The steps of one run on one page: prepare → act → observe → record.

- prepare: substitute the step's variables, validate it again, check its `if:`;
- act: run the action (steps.py), with its retries, and word its failure;
- observe: the observers (observers.py) read the page — all of them in one evaluate — and add their facts;
- record: one function builds the step record from the step's state, masks every secret in it once, and
  appends it to the run folder.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pydantic import ValidationError

from . import model as M
from .failures import BROWSER_GONE, ambiguous_message, describe, jsonable, short_error, timeout_message
from .friction import FrictionTracker, patterns
from .guard import check_request, refused_navigation
from .landmarks import LandmarkDetector, declared_kinds
from .loadstate import wait_for_load
from .locators import locate
from .mail import Message, render_mail
from .observers import (
    AuditObserver,
    CaptureObserver,
    ConsoleObserver,
    FrictionObserver,
    LandmarkObserver,
    Observer,
    VideoObserver,
    VisualObserver,
)
from .pagekit import PageKit
from .receipts import atomic_write
from .record import (
    ElementInfo,
    Failure,
    MailInfo,
    StepEvents,
    StepRecord,
)
from .scenario import Flow, Step, iter_leaf_steps
from .steps import RUNNERS, Events, StepContext, StepFailed, condition_holds
from .stepstate import PageRead, RunView, StepState
from .variables import Context, UnresolvedVariable

if TYPE_CHECKING:
    from .video import VideoRecorder

# Kept as written in a record when masking secrets: structural fields no secret can be part of.
UNMASKED = frozenset({"format", "index", "action", "status", "screenshot", "sha256", "shot", "bbox", "masks", "redact", "personal",
                      "started_at", "ended_at", "duration_ms", "active_ms", "wait_ms", "attempts", "prev_hash", "hash"})  # fmt: skip


class StepLoop:
    """The steps of one run on one page (see the module docstring)."""

    def __init__(self, run: RunView, page: Page) -> None:
        self.run, self.page = run, page
        self.sc, self.folder, self.secrets = run.scenario, run.folder, run.secrets
        self.secret_names: set[str] = set(self.sc.secrets)  # and the secrets of the flows run so far
        self.lang = run.lang
        self.saved: dict[str, Any] = {}  # values stored by `save` / `request`, visible to every later step
        self.index = 0
        self.events = Events()  # the running step's events (dialogs and navigations arrive through the page)
        self.dialog_answers: list[str] = []
        self.recorder: VideoRecorder | None = run.recorder
        # A `run:` step's section and walkthrough flag belong to the steps of its flow.
        self.pending_section: str | None = None
        self.hidden_depth = 0
        self.step_warnings: list[str] = []
        declared = declared_kinds(s.model.landmarks() for s in iter_leaf_steps(self.sc.steps))
        self.friction = FrictionTracker(patterns(self.sc.header.ux))
        self.capture = CaptureObserver(self)
        self.visual = VisualObserver(self)
        self.observers: list[Observer] = [
            ConsoleObserver(page),
            VideoObserver(self),
            FrictionObserver(self.friction, self.secrets, "entry" in declared),
            LandmarkObserver(LandmarkDetector(self.friction.patterns, declared)),
            self.capture,
            self.visual,
            AuditObserver(self),
        ]
        self.kit = PageKit([p for p in (o.part() for o in self.observers) if p is not None])
        self.kit.install(page.context)
        page.on("framenavigated", self._navigated)
        page.on("dialog", self._dialog)

    @property
    def visual_failures(self) -> list[Failure]:
        return self.visual.failures

    # -- the page ------------------------------------------------------------------------------

    def url(self) -> str:
        try:
            return self.page.url
        except PlaywrightError:
            return ""

    def browser_gone(self) -> bool:
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

    def _request_refused(self, url: str) -> str | None:
        return check_request(url, self.run.manifest.site.base_url or "", self.sc.header.allow_hosts)

    def _navigation_refused(self, url: str) -> str | None:
        return refused_navigation(url, self.run.manifest.site.base_url or "", self.run.live, self.run.allowed_files)

    def _save_download(self, download: Any, name: str) -> Path:
        target = self.folder.download_path(name)
        download.save_as(target)
        return target

    # -- steps and flows -------------------------------------------------------------------------

    def context(self, scope: dict[str, Any]) -> Context:
        return self.run.variables(scope, self.saved)

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
        self.secret_names |= set(flow.secrets)
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

    def run_step(self, step: Step, ctx: Context, flow: Flow | None) -> Failure | None:
        self.index += 1
        state = self.current = self.prepare(step, ctx, flow)
        if state.status == "passed":
            self.act(state)
        fence = self.run.fence
        if fence is not None and fence.left is not None and state.status != "skipped":
            # Whatever the step saw (the fence makes the browser fail the navigation), this is what happened,
            # and it is not optional: the journey must not go on there.
            state.status, state.error, state.detail = "failed", fence.message(), state.error
            if fence.left_for_a_file:
                self.page.goto("about:blank")  # no fence stops a file in the browser: its picture must not be taken
        self.finish_act(state)
        if state.status != "skipped":
            self.observe(state)
        if state.display is not None:
            _close_quietly(state.display)
        record = self.record(state)
        if state.status != "skipped":
            self.pending_section = None
        self.folder.append(record)
        self.run.progress("step", record)
        if record.status != "skipped":
            for o in self.observers:
                o.written(state, record)
        if record.status == "failed" and not state.soft_failure:
            return Failure(
                step=record.index, source=record.source, message=record.error or "failed", screenshot=record.screenshot
            )
        return None

    # -- prepare → act → observe → record ---------------------------------------------------------

    def prepare(self, step: Step, ctx: Context, flow: Flow | None) -> StepState:
        """The step with its variables substituted and validated again (a substituted value may be wrong),
        its caption, and whether its `if:` holds."""
        tz = ZoneInfo(self.sc.timezone)
        model = step.model
        state = StepState(
            index=self.index, step=step, model=model, ctx=ctx, flow=flow, started=datetime.now(tz), t0=time.monotonic(),
            timeout_ms=(model.timeout or model.DEFAULT_TIMEOUT or self.run.opts.timeout) * 1000, caption=model.name or model.ACTION,
            named=model.name is not None,
        )  # fmt: skip
        self.events, self.step_warnings = state.events, state.warnings
        try:
            try:
                state.model = model = M.step_adapter(step.action).validate_python(ctx.substitute(step.raw))
            except ValidationError as exc:
                raise StepFailed(f"after substituting variables: {exc.errors()[0]['msg']}") from None
            state.caption = model.name if model.name is not None else model.caption(self.lang)
            state.target, state.arg = describe(model.arg), jsonable(model.arg)
            state.section = ctx.substitute(model.section) if model.section else self.pending_section
            if model.if_ is not None and not condition_holds(self.page, _resolve(ctx, model.if_)):
                state.status = "skipped"
        except UnresolvedVariable as exc:
            state.status, state.error = "failed", str(exc)
        except (PlaywrightError, StepFailed, AssertionError, ValueError) as exc:
            self._failed(state, exc)
        state.caption = self.secrets.mask(state.caption) or state.caption
        if state.section:
            state.section = self.secrets.mask(state.section) or state.section
        return state

    def act(self, state: StepState) -> None:
        """The action, tried again `retry` times, backing off as a person would: 0.5 s, 1 s, 2 s, then 4 s."""
        model = state.model
        self.run.progress("begin", (state.index, state.caption))
        fn = RUNNERS[model.ACTION]
        state.saved_before = dict(self.saved)
        try:
            for o in self.observers:
                o.begin(state)
            for attempt in range(1, model.retry + 2):
                events = self.events = state.events = Events()
                try:
                    fn(self._step_context(model, events, state.timeout_ms), model.arg)
                    state.attempts = attempt
                    return
                except (PlaywrightError, StepFailed, AssertionError):
                    if attempt > model.retry:
                        raise
                    self.page.wait_for_timeout(min(500 * 2 ** (attempt - 1), 4000))
        except UnresolvedVariable as exc:
            state.status, state.error = "failed", str(exc)
        except (PlaywrightError, StepFailed, AssertionError, ValueError) as exc:
            self._failed(state, exc)
        finally:
            state.events = self.events

    def _step_context(self, model: M.StepBase, events: Events, timeout_ms: float) -> StepContext:
        return StepContext(
            page=self.page,
            budget_ms=timeout_ms,
            vars=self.saved,
            events=events,
            base_dir=self.sc.file.parent,
            save_download=self._save_download,
            has_secret=self.secrets.within,
            request_refused=self._request_refused,
            navigation_refused=self._navigation_refused,
            within=locate(self.page, model.within, timeout_ms).first if model.within is not None else None,
            add_secret=self.secrets.add,
            typed=self.secrets.seen_by_site,
            warn=self.step_warnings.append,
            mask=self.capture.mask,
            arm_dialog=self.dialog_answers.append,
            mailbox=self.run.mailbox,
            show_mail=self._show_mail,
            secret_names=frozenset(self.secret_names),
        )

    def _show_mail(self, message: Message) -> None:
        """A received message, secrets masked: kept in the run folder, and shown (never run: no scripts, no
        requests) on a page of its own that the step's receipt photographs."""
        state = self.current
        masked = message.masked(lambda text: self.secrets.mask(text) or "")
        path = self.folder.mail_path(state.index)
        atomic_write(path, masked.raw)
        state.mail = MailInfo(
            sender=masked.sender, to=masked.to, subject=masked.subject, date=masked.date,
            file=path.relative_to(self.folder.path).as_posix(),
        )  # fmt: skip
        page = self.page.context.new_page()
        page.route("**/*", lambda route: route.abort())  # a message's remote images and trackers stay unloaded
        page.set_content(render_mail(masked, self.lang))
        state.display = page

    def _failed(self, state: StepState, exc: BaseException) -> None:
        state.status, state.error = "failed", short_error(exc)
        if isinstance(exc, PlaywrightTimeout):  # the headline in words; Playwright's own text stays in the record
            state.error, state.detail = timeout_message(state.model, state.timeout_ms), state.error
        elif "strict mode violation" in state.error:
            state.error, state.detail = ambiguous_message(state.model, state.error), state.error
        if self.browser_gone():  # not "not visible after 10s": the page died under the step
            state.error = BROWSER_GONE

    def finish_act(self, state: StepState) -> None:
        """What the action leaves behind: optional failures, unused dialog answers, the element acted on."""
        if state.status == "failed" and state.model.optional:
            state.status = "optional-failed"
        state.acted_ms = int((time.monotonic() - state.t0) * 1000)
        if state.model.ACTION != "dialog" and self.dialog_answers:
            # A `dialog:` answer is for the step right after it; one still unused means no dialog came.
            state.warnings.append(f"dialog: {' / '.join(self.dialog_answers)} was armed for this step, but no dialog appeared")
            self.dialog_answers.clear()
        if state.events.element is not None and state.status != "skipped":
            role, name = state.events.element
            state.element = ElementInfo(role=role, name=name)

    def observe(self, state: StepState) -> None:
        read = self.read_page(state)
        if read is not None and read.loaded:
            state.title = read.title
        for o in self.observers:
            o.observe(state, read)

    def read_page(self, state: StepState) -> PageRead | None:
        """Every observer's in-page fact in one evaluate; None when the page cannot answer (closed).

        A click that navigates can still be unloading the old page when the step ends; the evaluate then
        fails with "execution context was destroyed". Waiting for the new document and asking again keeps
        a receipt page from going unnoticed (it did, about one run in a few hundred)."""
        asks = [(o, o.ask(state)) for o in self.observers]
        asked = [(o, q) for o, q in asks if q is not None]
        if not asked:
            return PageRead()
        names, args = [o.name for o, _ in asked], [q.arg for _, q in asked]
        for _ in range(3):
            try:
                # Free when the document is already parsed (see loadstate.py); a half-parsed page would hide
                # the receipt number further down.
                wait_for_load(self.page, "domcontentloaded", 2000)
            except PlaywrightError:
                pass  # a page that never finishes parsing is still asked what it shows so far
            try:
                answer = self.kit.read(self.page, names, args)
                if not answer["loaded"] and any(o.wants_loaded(answer["facts"].get(o.name)) for o, _ in asked):
                    try:
                        wait_for_load(self.page, "load", 2000)
                    except PlaywrightError:
                        pass  # measured as it stands
                    answer = self.kit.read(self.page, names, args)
                loaded = bool(answer["loaded"])
                scroll = (float(answer["scroll"][0]), float(answer["scroll"][1])) if loaded else None
                return PageRead(answer["facts"], loaded, answer["title"] if loaded else None, scroll)
            except PlaywrightError:
                if self.page.is_closed():
                    return None
        return None

    def _saved_by(self, state: StepState) -> dict[str, str]:
        """The values this step saved (text only; a secret one is masked with the record): `compare` reads a
        later step's `see ${receipt_no}` as the same step in two runs, although the numbers differ."""
        before = state.saved_before
        if before is None:
            return {}
        return {k: str(v) for k, v in self.saved.items() if isinstance(v, (str, int, float)) and before.get(k) != v}

    def record(self, state: StepState) -> StepRecord:
        """The step record, built in one place; every secret in it masked once."""
        waiting = state.model.ACTION == "wait"
        ctx = state.ctx
        data: dict[str, Any] = {
            "index": state.index, "name": state.caption, "named": state.named, "action": state.step.action,
            "arg": state.arg, "target": state.target, "source": state.step.where,
            "flow": state.flow.file.name if state.flow else None,
            "note": ctx.substitute(state.model.note) if state.model.note else None,
            "section": state.section, "walkthrough": state.model.walkthrough and not self.hidden_depth,
            "zoom": state.model.zoom, "started_at": state.started.isoformat(timespec="milliseconds"),
            "ended_at": datetime.now(ZoneInfo(self.sc.timezone)).isoformat(timespec="milliseconds"),
            "duration_ms": int((time.monotonic() - state.t0) * 1000),
            "active_ms": 0 if waiting else state.acted_ms, "wait_ms": state.acted_ms if waiting else 0,
            "status": state.status, "error": state.error, "error_detail": state.detail,
            "warnings": list(dict.fromkeys(state.warnings)), "attempts": state.attempts, "url": self.url(),
            "title": state.title if state.title is not None else _title(self.page),
            "screenshot": state.screenshot, "shot": state.shot, "bbox": state.events.bbox, "masks": state.masks,
            "redact": state.redact, "personal": state.personal, "page": state.page, "a11y": state.a11y, "visual": state.visual,
            "console": state.console, "element": state.element, "landmarks": state.landmarks, "mail": state.mail,
            "saved": self._saved_by(state),
            "events": StepEvents(
                clicks=state.events.clicks, inputs=state.events.inputs, keystrokes=state.events.keystrokes,
                navigations=state.events.navigations, dialogs=state.events.dialogs, requests=state.events.requests,
                emails=state.events.emails,
                downloads=[Path(d).relative_to(self.folder.path).as_posix() for d in state.events.downloads],
            ),
        }  # fmt: skip
        record = StepRecord(**data)
        if self.secrets:
            record = StepRecord.model_validate(self.secrets.mask_data(record.model_dump(), skip=UNMASKED))
        for o in self.observers:
            o.amend(state, record)
        return record


def _close_quietly(page: Page) -> None:
    try:
        page.close()
    except PlaywrightError:
        pass


def _title(page: Page) -> str:
    try:
        return page.title()
    except PlaywrightError:
        return ""


def _resolve(ctx: Context, cond: M.Condition) -> M.Condition:
    return M.Condition.model_validate(ctx.substitute(cond.model_dump(by_alias=True, exclude_none=True)))
