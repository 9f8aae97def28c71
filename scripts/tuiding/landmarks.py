"""The landmarks of a cancellation: where it begins (entry), the click that sends it (submit) and where it
is done (done) — declared by a scenario (`landmark:` on a step) or detected while the journey runs.

Detection reads roles and accessible names first: a click on a button or link whose name asks to cancel
(`submit` patterns, zh/en/de, in data/ux_patterns.json) is a submit; the first step at or after the unsubscribe
entry (friction.py: a URL path or a clicked name matching the `entry` patterns) is the entry; a page after it
that hands out a receipt (a reference and a date-time) or says the cancellation is done (`done` patterns) is
done. A kind the scenario declares anywhere is not detected at all: the author's word replaces the guess.

`resolve` is how every reader (check, friction report, compare, report) finds them in a run folder: the
first entry, the first done, and the last submit at or before it. Folders written before landmarks were
recorded fall back to what the record kept then (the first page in the flow, the receipt, the last click).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .record import Landmark, StepRecord

if TYPE_CHECKING:
    from .stepstate import StepState

KINDS = ("entry", "submit", "done")
CLICKING = {"click", "download", "check"}
# Old run folders: the click that submits a cancellation, before submits were recorded as landmarks.
_LEGACY_SUBMIT = re.compile(r"确认退订|立即退订|一键退订|确认注销|残忍离开|kündigen|cancel", re.IGNORECASE)


def _compile(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


class LandmarkDetector:
    """Decides, step by step while the journey runs, whether a step is a landmark (see the module docstring)."""

    def __init__(self, patterns: dict[str, list[str]], declared: set[str]) -> None:
        self.submit = _compile(patterns.get("submit", []))
        self.declared = declared
        self.entered = self.done = False
        self.acted_since_entry = False

    def _submits(self, name: str) -> str | None:
        return next((m.group(0) for rx in self.submit if (m := rx.search(name))), None)

    def step(self, state: StepState) -> list[Landmark]:
        if state.status != "passed":
            return []  # a failed or skipped step marks nothing, declared or not
        declared = state.model.landmarks()
        found = [Landmark(kind=k, declared=True) for k in declared]
        entered_before = self.entered
        if "entry" in declared:
            self.entered = True
        clicked = state.events.clicks > 0 and state.model.ACTION in CLICKING
        page = state.page
        if "entry" not in self.declared and not self.entered and page is not None and page.in_flow:
            self.entered = True
            found.append(Landmark(kind="entry", matched=page.path or state.target))
        if "submit" not in self.declared and clicked and entered_before and not self.done:
            name = state.element.name if state.element is not None and state.element.name else state.target
            matched = self._submits(name)
            if matched is not None:
                found.append(Landmark(kind="submit", matched=name))
        if self.entered and clicked and "entry" not in [f.kind for f in found]:
            self.acted_since_entry = True
        if "done" in declared:
            self.done = True
        elif "done" not in self.declared and not self.done and self.acted_since_entry and page is not None:
            receipt = page.in_flow and page.reference and page.datetime
            if page.done or receipt:
                self.done = True
                found.append(Landmark(kind="done", matched=page.done or f"{page.reference} {page.datetime}"))
        return found


def declared_kinds(marks: Iterable[Sequence[str]]) -> set[str]:
    return {k for m in marks for k in m}


@dataclass(frozen=True)
class Landmarks:
    """A run's landmarks as readers see them (steps, 1-based indexes inside)."""

    entry: StepRecord | None
    submit: StepRecord | None
    done: StepRecord | None

    @property
    def completed(self) -> bool:
        """A cancellation was sent (a submit) or is done — what the rights check judges."""
        return self.done is not None or self.submit is not None

    @property
    def last(self) -> StepRecord | None:
        """Where cancelling ends: what comes after is checking, not cancelling."""
        return self.done or self.submit


def _marked(steps: Sequence[StepRecord], kind: str) -> list[StepRecord]:
    return [s for s in steps if any(m.kind == kind for m in s.landmarks)]


def _receipt(steps: Sequence[StepRecord]) -> StepRecord | None:
    return next((s for s in steps if s.page and s.page.in_flow and s.page.reference and s.page.datetime), None)


def resolve(steps: Sequence[StepRecord]) -> Landmarks:
    """The run's entry, submit and done (see the module docstring)."""
    recorded = any(s.landmarks for s in steps)
    entries, dones, submits = _marked(steps, "entry"), _marked(steps, "done"), _marked(steps, "submit")
    entry = entries[0] if entries else next((s for s in steps if s.page and s.page.in_flow), None)
    done = dones[0] if dones else (None if recorded else _receipt(steps))
    before = [s for s in submits if done is None or s.index <= done.index]
    submit = before[-1] if before else None
    if submit is None and not recorded:
        clicks = [s for s in steps if s.events.clicks and s.page and s.page.in_flow and (done is None or s.index <= done.index)]
        if clicks and (done is not None or _LEGACY_SUBMIT.search(clicks[-1].target or clicks[-1].name)):
            submit = clicks[-1]
    if submit is None and done is not None:
        # Detected done, no recognised submit: the last click before it sent the cancellation
        # (an e-mailed link's "Activate" button, a "Confirm" that names nothing).
        clicks = [s for s in steps if s.events.clicks and (entry is None or s.index >= entry.index) and s.index <= done.index]
        submit = clicks[-1] if clicks else None
    return Landmarks(entry, submit, done)
