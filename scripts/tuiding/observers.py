"""Per-step features as observers of the step loop (steploop.py): prepare → act → observe → record.

Each observer is one feature — the page's console, the video's captions, the friction probe, the
cancellation's landmarks, the screenshot with its masks, the visual baseline, the accessibility audit.
The loop calls, for every step that runs:

- `begin(state)` before acting;
- `ask(state)`: whether this step needs the observer's in-page fact, and the argument for its `script`
  (a JS function `(arg, fixed) => fact`; `fixed()` is its argument for the whole run). The scripts are
  installed in the page once per run (pagekit.py); the loop asks the page for every observer's fact in
  **one** evaluate per step (`read_page`), with the title, the scroll position and whether the page had
  finished loading;
- `observe(state, read)`: turn the answers into the step's facts (fields of `state`), in list order (the
  video hides its pointer before the screenshot is taken);
- `amend(state, record)`: last word on the record before it is written (a visual change fails the step);
- `written(state, record)`: after the record is on disk (the video shows the caption).

Adding a per-step feature = one observer here, one line in `StepLoop.observers` (steploop.py), and its test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from . import model as M
from .a11y import audit
from .capture import CSS_BOXES_JS, FIELD_SELECTORS_JS, SECRET_TEXT_JS, capture, css_asked, measure_boxes
from .failures import BROWSER_GONE, short_error
from .friction import PROBE_JS, FrictionTracker
from .landmarks import LandmarkDetector
from .locators import locate
from .pagekit import Part
from .record import Failure, Found, StepRecord, VisualCheck
from .redaction import FIND_JS, REDACT_MARK, find_config, marked_targets
from .stepstate import LoopView, PageRead, StepState

MARK_JS = "(els, mark) => els.forEach(e => e.setAttribute(mark, ''))"
MAX_CONSOLE = 20  # console lines kept per step: enough to explain a failure, bounded for a noisy page


@dataclass(frozen=True)
class Ask:
    """An observer's question for this step: the argument its `script` is called with."""

    arg: Any = None


class Observer:
    """A per-step feature. Every hook is optional; see the module's docstring for when each is called."""

    name = ""
    script = ""  # JS `(arg, fixed) => fact`, asked in the step's page read; "" for none

    def fixed(self) -> Any:
        """The script's argument that stays the same for the whole run (JSON), installed with it."""
        return None

    def part(self) -> Part | None:
        return Part(self.name, self.script, self.fixed()) if self.script else None

    def begin(self, state: StepState) -> None:
        pass

    def ask(self, state: StepState) -> Ask | None:
        return None

    def wants_loaded(self, answer: Any) -> bool:
        """Ask the page again once it has finished loading (a retention page's controls are measured for size)."""
        return False

    def observe(self, state: StepState, read: PageRead | None) -> None:
        pass

    def amend(self, state: StepState, record: StepRecord) -> None:
        pass

    def written(self, state: StepState, record: StepRecord) -> None:
        pass


class ConsoleObserver(Observer):
    """The page's console errors and warnings and uncaught exceptions during the step (at most 20)."""

    name = "console"

    def __init__(self, page: Page) -> None:
        self.lines: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and len(self.lines) < MAX_CONSOLE:
            self.lines.append(f"{message.type}: {message.text}"[:300])

    def _page_error(self, error: Any) -> None:
        if len(self.lines) < MAX_CONSOLE:
            self.lines.append(f"uncaught: {getattr(error, 'message', error)}"[:300])

    def begin(self, state: StepState) -> None:
        self.lines = []

    def observe(self, state: StepState, read: PageRead | None) -> None:
        state.console = list(self.lines)


class VideoObserver(Observer):
    """A recorded video's chapter cards and captions; its pointer and highlight never reach a receipt."""

    name = "video"

    def __init__(self, loop: LoopView) -> None:
        self.loop = loop

    def begin(self, state: StepState) -> None:
        recorder = self.loop.recorder
        if recorder is not None and state.section and not self.loop.hidden_depth:
            state.t0 += recorder.chapter(state.section, state.index)  # the card's time is not the journey's

    def observe(self, state: StepState, read: PageRead | None) -> None:
        # After the page read, which waits for a click's new document: hidden before that, the pointer came
        # back on the new page (web_pause's receipts differed from their baselines by it).
        if self.loop.recorder is not None:
            self.loop.recorder.hide_actions()
            self.mark()

    def mark(self) -> None:
        """`redact:` targets the video's watcher cannot find by itself (by role, label, text) are marked for it."""
        for target in marked_targets(self.loop.sc.header.redact):
            try:
                locate(self.loop.page, target).evaluate_all(MARK_JS, REDACT_MARK)
            except PlaywrightError:
                pass  # gone with the page: nothing to hide

    def written(self, state: StepState, record: StepRecord) -> None:
        recorder = self.loop.recorder
        if recorder is not None and record.walkthrough:
            recorder.caption(record.index, record.name, self.loop.lang)
            recorder.show_actions()


class FrictionObserver(Observer):
    """What the page showed after the step (friction.py): verification, retention, pre-ticked boxes,
    reference and date-time, the text the rights check reads."""

    name = "probe"
    script = PROBE_JS

    def __init__(self, tracker: FrictionTracker, secrets: Any, declares_entry: bool) -> None:
        self.tracker, self.secrets = tracker, secrets
        self.declares_entry = declares_entry  # a declared entry replaces the patterns' guess

    def fixed(self) -> Any:
        return self.tracker.patterns

    def ask(self, state: StepState) -> Ask | None:
        return Ask()

    def wants_loaded(self, answer: Any) -> bool:
        # Before its stylesheets apply, a retention page's grey text link and big offer button look alike.
        return bool(answer and answer.get("retention"))

    def observe(self, state: StepState, read: PageRead | None) -> None:
        if read is None or read.facts.get(self.name) is None:
            return
        if state.model.landmark == "entry" and state.status == "passed":
            self.tracker.in_flow = True
        words = M.words(state.model.arg) if isinstance(state.model.arg, (str, M.Target)) else ""
        if state.element is not None and state.element.name:
            words = f"{words} {state.element.name}".strip()
        state.page = self.tracker.facts(
            state.index, read.facts[self.name], state.model.kind, words, detect_entry=not self.declares_entry
        )


class LandmarkObserver(Observer):
    """Where the cancellation begins, the click that sends it and where it is done (landmarks.py)."""

    name = "landmark"

    def __init__(self, detector: LandmarkDetector) -> None:
        self.detector = detector

    def observe(self, state: StepState, read: PageRead | None) -> None:
        state.landmarks = self.detector.step(state)


class CaptureObserver(Observer):
    """The step's screenshot: secrets painted over, then the boxes of its masks and redactions."""

    name = "capture"
    script = (
        f"([asked, shown], personal) => ({{boxes: asked.length ? ({CSS_BOXES_JS})(asked) : [], "
        f"marked: ({SECRET_TEXT_JS})(shown), personal: personal ? ({FIND_JS})(personal) : []}})"
    )

    def __init__(self, loop: LoopView) -> None:
        self.loop = loop
        self.masks: list[Locator] = []  # secret fields without an id or name (Playwright's mask)
        self.masked_fields: list[str] = []  # CSS selectors of the fields secrets were typed into

    def mask(self, loc: Locator, known: list[str] | None = None) -> None:
        """A field about to receive a secret: painted over in receipts; in a recorded video its text is discs.

        Named by its id and name, the field stays painted over when the page draws it anew (a form shown
        again after a refused login, with the value filled in by the server). A field with neither is
        masked by its locator. `known`: its selectors, read when the field was found (no call then, unless
        a video needs its text shown as discs)."""
        selectors = known or []
        if known is None or self.loop.recorder is not None:
            try:
                selectors = loc.evaluate(FIELD_SELECTORS_JS, self.loop.recorder is not None, timeout=2000)
            except PlaywrightError:
                selectors = []
        if selectors:
            self.masked_fields.extend(s for s in selectors if s not in self.masked_fields)
        else:
            self.masks.append(loc)

    def _groups(self, state: StepState) -> tuple[list[Any], list[Any]]:
        """What a screenshot's boxes are recorded for: (masks, redactions)."""
        header = self.loop.sc.header
        return [*header.mask, *state.model.mask], list(header.redact)

    def _wanted(self, state: StepState) -> Any:
        if state.status == "skipped":
            return False
        return state.model.screenshot if state.status != "failed" else True  # a failure always gets its screenshot

    def personal_config(self) -> dict[str, Any] | None:
        """What FIND_JS looks for in the step's page read: personal data (unless the scenario looks for none)."""
        personal = self.loop.sc.header.personal_data
        if not personal.kinds:
            return None
        return find_config(personal.kinds, personal.keep, (), (), page=True)

    def fixed(self) -> Any:
        return self.personal_config()

    def ask(self, state: StepState) -> Ask | None:
        if self._wanted(state) is False:
            return None
        masks, redact = self._groups(state)
        asked = css_asked([*masks, *redact])[1]
        shown = self.loop.secrets.known_to_site()
        if not asked and not shown and self.personal_config() is None:
            return None
        return Ask([asked, shown])

    def personal(self, page: Page, answer: dict[str, Any], settled: bool) -> list[Found]:
        """The personal data on the screenshot: from the page read when the page had settled, else asked now."""
        config = self.personal_config()
        if config is None:
            return []
        found = answer.get("personal") if settled else None
        if found is None:
            try:
                found = page.evaluate(FIND_JS, config)
            except PlaywrightError:
                return []
        return [Found(kind=k, x=x, y=y, width=w, height=h) for k, x, y, w, h in found if k != "redact"]

    def observe(self, state: StepState, read: PageRead | None) -> None:
        how = self._wanted(state)
        if how is False:
            return
        loop = self.loop
        answer = (read.facts.get(self.name) if read else None) or {}
        path = loop.folder.screenshot_path(state.index, state.caption)
        try:
            if state.display is not None:  # a received e-mail: the whole message, secrets already masked in it
                state.shot = capture(state.display, path, "full" if how is True else how, [], state.timeout_ms, loop.run.scale)
                state.screenshot, state.shot_path = path.relative_to(loop.folder.path).as_posix(), path
                state.personal = self.personal(state.display, {}, settled=False)
                return
            if read is not None and not read.loaded and loop.secrets.known_to_site():
                loop.page.evaluate(SECRET_TEXT_JS, loop.secrets.known_to_site())  # the document may have changed since
            scroll = read.scroll if read is not None else None
            timeout_ms = state.timeout_ms
            state.shot = capture(loop.page, path, how, self.masks, timeout_ms, loop.run.scale, scroll, self.masked_fields)
            state.screenshot = path.relative_to(loop.folder.path).as_posix()
            state.shot_path = path
            measured = answer.get("boxes") if read is not None and read.loaded and "boxes" in answer else None
            state.masks, state.redact = measure_boxes(loop.page, *self._groups(state), measured=measured)
            state.personal = self.personal(loop.page, answer, settled=read is not None and read.loaded)
        except PlaywrightError as exc:
            if state.status == "passed":
                state.status = "failed"
                state.error = BROWSER_GONE if loop.browser_gone() else f"screenshot failed: {short_error(exc)}"


class VisualObserver(Observer):
    """The receipt compared with its approved baseline; a changed screen fails its step softly — the journey
    goes on, so every changed screen is shown — and the run at the end."""

    name = "visual"

    def __init__(self, loop: LoopView) -> None:
        self.loop = loop
        self.failures: list[Failure] = []

    def observe(self, state: StepState, read: PageRead | None) -> None:
        if state.shot is None or state.shot_path is None or state.status == "failed":
            return
        state.visual = self._compare(state.shot_path, state)

    def _compare(self, path: Path, state: StepState) -> VisualCheck | None:
        loop = self.loop
        mode = loop.run.opts.baselines
        if mode == "off" or state.shot is None:
            return None
        baselines, opts, here = loop.run.baselines, loop.sc.header.visual, loop.sc.file.parent
        masks = [state.shot.to_image(b) for b in state.masks]
        if mode == "update":
            # Approve only what changed: a screen that matches its baseline (masked regions aside) keeps it,
            # so updating does not churn images in git for receipt numbers that differ on every run.
            kept = baselines.compare(path, masks, None, threshold=opts.threshold, max_diff_pixels=0, rel_to=here)
            if kept.status == "same" and kept.enforced:
                return kept
            image = baselines.approve(path)
            return VisualCheck(status="updated", baseline=_rel(image, here))
        diff = loop.folder.path / "diffs" / path.name
        return baselines.compare(path, masks, diff, threshold=opts.threshold, max_diff_pixels=opts.max_diff_pixels, rel_to=here)

    def amend(self, state: StepState, record: StepRecord) -> None:
        visual = record.visual
        if visual is None or visual.status != "changed" or not visual.enforced or record.status != "passed":
            return
        record.status = "failed"
        record.error = (
            f"visual: {visual.diff_pixels} pixels differ from the baseline {visual.baseline} "
            f"(allowed {visual.max_diff_pixels}); diff: {visual.diff}"
        )
        state.soft_failure = True
        self.failures.append(Failure(step=record.index, source=record.source, message=record.error, screenshot=record.screenshot))


# What the page shows, in one number: its visible text (FNV-1a) and how many elements it has. A menu opened or a
# dialog shown on the same page changes it; typing into a field does not. Read in the step's one page read, after
# the friction probe has laid the page out already.
SHOWN_JS = """() => {
  const text = document.body ? document.body.innerText : '';
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return `${h >>> 0}:${document.getElementsByTagName('*').length}`;
}"""


class AuditObserver(Observer):
    """axe-core after the steps the scenario asks for: with `a11y: true`, every step that shows a new page or
    changes what the page shows (a menu opened, a dialog); with `a11y: every-step`, every step; or a step's
    own `a11y:`."""

    name = "a11y"
    script = SHOWN_JS

    def __init__(self, loop: LoopView) -> None:
        self.loop = loop
        self.audited_url = ""
        self.audited_shown: str | None = None

    def ask(self, state: StepState) -> Ask | None:
        return Ask() if self.loop.run.opts.a11y and self.loop.sc.header.a11y is True else None

    def _changed(self, url: str, read: PageRead | None) -> bool:
        shown = read.facts.get(self.name) if read is not None else None
        return url != self.audited_url or shown is None or shown != self.audited_shown

    def _wanted(self, state: StepState, read: PageRead | None = None) -> bool:
        loop = self.loop
        if not loop.run.opts.a11y:
            return False
        url = loop.url()
        if url in ("", "about:blank"):
            return False  # nothing of the site's to audit yet
        if state.display is not None:
            return False  # a received e-mail is not the site's page
        if state.model.a11y is not None:
            return state.model.a11y and state.status != "skipped"
        if not loop.sc.header.a11y or state.status not in ("passed", "optional-failed"):
            return False
        return loop.sc.header.a11y == "every-step" or self._changed(url, read)

    def observe(self, state: StepState, read: PageRead | None) -> None:
        if not self._wanted(state, read):
            return
        try:
            state.a11y = audit(self.loop.page)
            self.audited_url = self.loop.url()
            self.audited_shown = read.facts.get(self.name) if read is not None else None
        except PlaywrightError as exc:
            state.error = state.error or f"a11y audit failed: {short_error(exc)}"


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
