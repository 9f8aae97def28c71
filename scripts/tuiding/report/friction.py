"""friction.html: each journey as a strip of thumbnails with retention, verification, pre-ticked screens and
the cancellation's landmarks flagged, its metrics beside the budget and the sign-up journey, and the rights
checklist with links to the evidence. Several journeys get a ranking first. A reader: no browser."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..check import Journey, Judgement, RunVerdict
from ..i18n import gettext_for
from ..record import StepRecord, image_or_none, receipt
from ..redaction import black_out
from ..rules import RulePack, text_in
from .env import environment

THUMB_WIDTH = 800  # shown small in the strip, opened at this size (a lightbox): legible, still ~50 KB each
COMPARED = ("clicks", "pages", "verifications", "inputs")


def thumbnail(path: Path | None, step: StepRecord | None = None, hide_personal: bool = True) -> str | None:
    """A small JPEG of a receipt, inlined (a report of six journeys stays a few MB, not fifty), with what the run
    hides in published pictures blacked out (redaction.py): the report is forwarded too."""
    small = image_or_none(path, _opened)
    if small is None:
        return None
    if step is not None:
        black_out(small, step, hide_personal)
    small.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=72)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _opened(path: Path) -> Image.Image:
    with Image.open(path) as source:
        return source.convert("RGB")


def flags(step: StepRecord, run: Journey, lang: str) -> list[tuple[str, str]]:
    """(css class, label) badges for what this screen is."""
    _ = gettext_for(lang)
    out: list[tuple[str, str]] = []
    page = step.page
    marks = run.marks
    if marks.entry is not None and marks.entry.index == step.index:
        out.append(("entry", _("entry")))
    if page and page.retention_page:
        out.append(("retention", _("retention page")))
    if page and page.new_verification and page.verification:
        out.append(("verification", _("verification") + f" · {page.verification}"))
    if page and page.preticked:
        out.append(("preticked", _("pre-ticked") + " · " + ", ".join(page.preticked)))
    if marks.submit is not None and marks.submit.index == step.index:
        out.append(("submit", _("sent")))
    if marks.done is not None and marks.done.index == step.index:
        out.append(("receipt", _("receipt") if run.receipt is not None and run.receipt.index == step.index else _("done")))
    if step.status not in ("passed", "skipped"):
        out.append(("failed", _(step.status)))
    return out


@dataclass
class JourneyView:
    journey: Journey
    verdict: RunVerdict
    metrics: dict[str, int]
    signup: dict[str, int] | None
    budget: dict[str, Any]
    shots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def results(self) -> list[Judgement]:
        return self.verdict.results

    @property
    def not_met(self) -> int:
        return sum(j.verdict == "not met" and not j.upcoming for j in self.results)


def build(verdicts: list[RunVerdict], lang: str | None = None) -> list[JourneyView]:
    views = []
    for v in verdicts:
        run = v.journey
        end = run.marks.last
        shots = [
            {
                "index": s.index,
                "name": s.name,
                "image": thumbnail(receipt(run.dir, s.screenshot), s, run.hide_personal),
                "flags": flags(s, run, lang or run.lang),
                "after_end": end is not None and s.index > end.index,
            }
            for s in run.steps
            if s.screenshot
        ]
        views.append(
            JourneyView(
                journey=run,
                verdict=v,
                metrics={m: run.count(m) for m in COMPARED},
                signup={m: v.signup.count(m) for m in COMPARED} if v.signup else None,
                budget=run.manifest.budget or {},
                shots=shots,
            )
        )
    return views


def render(
    views: list[JourneyView], packs: list[tuple[str, RulePack]], lang: str | None = None, unverified: Sequence[str] = ()
) -> str:
    """The friction page; `unverified` (lines naming folders that fail verify) becomes a banner on top."""
    lang = lang or (views[0].journey.lang if views else "en")
    ranked = sorted(views, key=lambda v: (v.not_met, v.metrics["clicks"], v.metrics["pages"]))
    names = [text_in(p.name, lang) for _, p in packs]
    references = [ref for _, p in packs for ref in p.references]
    return (
        environment(lang)
        .get_template("friction.html")
        .render(views=views, ranked=ranked, packs=names, references=references, compared=COMPARED, unverified=list(unverified))
    )
