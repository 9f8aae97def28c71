"""friction.html: each journey as a strip of thumbnails with retention, verification, pre-ticked and
receipt screens flagged, its metrics beside the budget and the sign-up journey, and the rights
checklist with links to the evidence. Several journeys get a ranking first. A reader: no browser."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from ..check import Journey, Judgement, RuleSet, judge
from ..record import StepRecord

_env = Environment(loader=PackageLoader("tuiding", "report"), autoescape=select_autoescape(["html"]))
THUMB_WIDTH = 320
COMPARED = ("clicks", "pages", "verifications", "inputs")


def thumbnail(path: Path) -> str | None:
    """A small JPEG of a receipt, inlined (a report of six journeys stays a few MB, not fifty)."""
    if not path.is_file():
        return None
    with Image.open(path) as source:
        small = source.convert("RGB")
    small.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def flags(step: StepRecord, receipt_step: int | None) -> list[tuple[str, str]]:
    """(css class, label) badges for what this screen is."""
    out: list[tuple[str, str]] = []
    page = step.page
    if page and page.retention_page:
        out.append(("retention", "挽留页"))
    if page and page.new_verification and page.verification:
        out.append(("verification", f"身份验证 · {page.verification}"))
    if page and page.preticked:
        out.append(("preticked", "预勾选 · " + "、".join(page.preticked)))
    if receipt_step == step.index:
        out.append(("receipt", "退订凭证"))
    if step.status not in ("passed", "skipped"):
        out.append(("failed", step.status))
    return out


@dataclass
class JourneyView:
    journey: Journey
    results: list[Judgement]
    metrics: dict[str, int]
    signup: dict[str, int] | None
    budget: dict[str, Any]
    shots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def not_met(self) -> int:
        return sum(j.verdict == "not met" for j in self.results)


def build(run_dirs: list[Journey], rulesets: list[RuleSet], signup: Journey | None) -> list[JourneyView]:
    views = []
    for run in run_dirs:
        receipt = run.receipt.index if run.receipt else None
        shots = [
            {
                "index": s.index,
                "name": s.name,
                "image": thumbnail(run.dir / s.screenshot) if s.screenshot else None,
                "flags": flags(s, receipt),
                "after_receipt": receipt is not None and s.index > receipt,
            }
            for s in run.steps
            if s.screenshot
        ]
        views.append(
            JourneyView(
                journey=run,
                results=judge(run, rulesets, signup),
                metrics={m: run.count(m) for m in COMPARED},
                signup={m: signup.count(m) for m in COMPARED} if signup else None,
                budget=run.manifest.budget or {},
                shots=shots,
            )
        )
    return views


def render(views: list[JourneyView], signup: Journey | None, rulesets: list[RuleSet]) -> str:
    ranked = sorted(views, key=lambda v: (v.not_met, v.metrics["clicks"], v.metrics["pages"]))
    return _env.get_template("friction.html").render(
        views=views, ranked=ranked, signup=signup, rulesets=rulesets, compared=COMPARED
    )
