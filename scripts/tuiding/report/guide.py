"""A guide's content, apart from how it is drawn: run folders (and guide manifests) become a `Guide` of parts,
numbered blocks with their pictures and outlines, in one language. walkthrough.py renders it as Markdown,
HTML and PDF, video_walkthrough.py as video; both only read it.

How a run becomes numbered steps: consecutive steps whose screenshots are identical (a `see` after
the click that opened the page), and steps without a screenshot, join one picture; a `section:`
starts a heading; `walkthrough: false` and skipped steps (`if` false) are left out (the skipped
ones are listed at the end). Each picture outlines, with the step number as a badge, the element
its own steps acted on or checked — and the element the *next* step clicks to leave the page,
measured on this very page, so a reader sees where to click before the page changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .. import __version__
from .. import model as M
from ..i18n import LANGUAGES, gettext_for, language
from ..record import Box, Manifest, PersonalPolicy, StepRecord, image_or_none, load_manifest, receipt
from ..redaction import scrub

FORMATS = ("md", "html", "pdf", "video")


def labels(lang: str) -> dict[str, str]:
    """The guide's own words in `lang` (the catalogs of i18n.py)."""
    _ = gettext_for(lang)
    return {
        "contents": _("Contents"),
        "before": _("Before you start"),
        "after": _("Afterwards"),
        "step": _("Step {n}"),
        "step_alt": _("Step {n}: {caption}"),
        "stopped": _("The journey stopped here"),
        "skipped": _("Steps not taken in this run (their condition did not hold)"),
        "generated": _("Generated from {runs} real run(s) · {date} · tuiding {version}"),
        "device": _("Device"),
        "faq": _("Questions and answers"),
        "video": _("Video"),
        "zoom": _("Close-up"),
        "page": _("Page {page} of {pages}").format(page="<span class=pageNumber></span>", pages="<span class=totalPages></span>"),
        "interrupted": _("The run was interrupted"),
        "running": _("The run did not finish"),
        "redacted": _("Hidden in the pictures: {what}."),
        "redacted_why": _(
            "Personal data found on the pages and the values the scenarios mark are blacked out, so the guide can be "
            "shared; the runs' own receipts are unchanged."
        ),
        "kind_phone": _("phone numbers"),
        "kind_email": _("e-mail addresses"),
        "kind_id_card": _("ID-card numbers"),
        "kind_card": _("bank-card numbers"),
        "kind_redact": _("values the scenario marks (redact)"),
        "unverified": _("Built from run folders that fail tuiding verify"),
        "unverified_why": _(
            "Their receipts or records may have changed since the run: do not rely on this document as evidence."
        ),
    }


class WalkthroughError(ValueError):
    """A walkthrough cannot be built (no runs, a format that needs what is missing); one line."""


@dataclass
class Outline:
    box: Box  # image pixels of the source receipt
    badge: int


@dataclass
class Picture:
    run_dir: Path
    record: StepRecord
    outlines: list[Outline] = field(default_factory=list)
    zoom: Box | None = None
    hide_personal: bool = True

    def place(self, page_box: Box | None) -> Box | None:
        """A page box on this picture, or None when it is not on it."""
        shot = self.record.shot
        if page_box is None or shot is None:
            return None
        b = shot.to_image(page_box)
        if b.width <= 0 or b.height <= 0 or b.x + b.width <= 0 or b.y + b.height <= 0 or b.x >= shot.width or b.y >= shot.height:
            return None
        return b


@dataclass
class Block:
    number: int
    captions: list[str]
    notes: list[str] = field(default_factory=list)
    picture: Picture | None = None
    failed: str | None = None
    image: str | None = None  # written file, relative to the guide
    zoom_image: str | None = None
    alt: str = ""


@dataclass
class Heading:
    text: str


@dataclass
class Part:
    heading: str
    level: int = 2
    text: str | None = None
    bullets: list[str] = field(default_factory=list)
    faq: list[dict[str, str]] = field(default_factory=list)
    description: str | None = None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    items: list[Block | Heading] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stopped: str | None = None
    device: str | None = None
    run_dir: Path | None = None
    videos: dict[str, str] = field(default_factory=dict)
    want_video: bool = True  # a guide shows a recorded run's video only where its manifest says video: true

    @property
    def anchor(self) -> str:
        return "part-" + re.sub(r"[^\w]+", "-", self.heading).strip("-")


@dataclass
class Guide:
    title: str
    parts: list[Part]
    lang: str = "zh"
    subtitle: str | None = None
    intro: str | None = None
    date: str = ""
    runs: int = 0
    unverified: list[str] = field(default_factory=list)  # folders that fail verify, built from on request

    @property
    def labels(self) -> dict[str, str]:
        return labels(self.lang)

    @property
    def redaction(self) -> str | None:
        """The note saying what the pictures hide and why; None when they hide nothing."""
        kinds: dict[str, int] = {}
        for part in self.parts:
            for item in part.items:
                pic = item.picture if isinstance(item, Block) else None
                if pic is None:
                    continue
                found = [f.kind for f in pic.record.personal] if pic.hide_personal else []
                for kind in [*found, *(["redact"] if pic.record.redact else [])]:
                    kinds[kind] = kinds.get(kind, 0) + 1
        if not kinds:
            return None
        L = self.labels
        order = ["phone", "email", "id_card", "card", "redact"]
        what = ", ".join(L[f"kind_{k}"] for k in order if k in kinds)
        return f"{L['redacted'].format(what=what)} {L['redacted_why']}"

    @property
    def footer(self) -> str:
        return self.labels["generated"].format(runs=self.runs, date=self.date, version=__version__)


# ---------------------------------------------------------------- runs → parts


def caption(r: StepRecord, lang: str, recorded: str) -> str:
    """The step's caption: as written, or generated again in `lang` from its recorded action when the run
    wrote its captions in another language (`recorded`)."""
    if r.named or lang == recorded:
        return r.name
    try:
        model = M.step_adapter(r.action).validate_python({r.action: r.arg})
        return str(model.caption(lang))
    except (ValidationError, KeyError, TypeError):
        return r.name


def _image_size(path: Path) -> tuple[int, int]:
    """Opens the header only: is the receipt an image at all?"""
    from PIL import Image

    with Image.open(path) as im:
        return im.size


class _PartBuilder:
    """One run's steps become numbered blocks (see the module docstring); a class so each rule is one method."""

    def __init__(self, run_dir: Path, m: Manifest, lang: str, part: Part) -> None:
        self.run_dir, self.lang, self.part = run_dir, lang, part
        self.redact = [t for t in m.redact_text if t]
        self.personal = m.personal_data if m.personal_data is not None else PersonalPolicy()
        self.recorded = language(m.lang or m.locale)
        self.current: Block | None = None
        self.last_block: Block | None = None
        self.number = 0
        self.moved_since_picture = False
        self.unseen_page = False  # a step left out of the guide changed the page since the last picture

    def clean(self, text: str) -> str:
        """Text as a guide may print it: the scenario's `redact:` texts and (unless shown) personal data left out."""
        for t in self.redact:
            text = text.replace(t, "•••")
        if self.personal.hide:
            text = scrub(text, self.personal.kinds, self.personal.keep)
        return text

    def step(self, r: StepRecord) -> None:
        if r.status == "skipped":
            if r.walkthrough:
                self.part.skipped.append(self.clean(caption(r, self.lang, self.recorded)))
            return
        if not r.walkthrough:
            # Left out, but it may have moved on: the next step's click then happened on a page no picture shows.
            shown = self.current.picture if self.current is not None else None
            clicked_away = r.events.clicks > 0 and r.sha256 is not None and (shown is None or r.sha256 != shown.record.sha256)
            if r.events.navigations > 0 or clicked_away:  # (a field filled in is still the same page)
                self.moved_since_picture = self.unseen_page = True
            return
        text = self.clean(caption(r, self.lang, self.recorded))
        if r.section:
            self.part.items.append(Heading(self.clean(r.section)))
            self.last_block, self.current = self.current or self.last_block, None
        current = self.current
        joins = (
            current is not None
            and r.status != "failed"
            and (r.screenshot is None or (current.picture is not None and r.sha256 == current.picture.record.sha256))
        )
        if joins and current is not None:
            self.join(current, r, text)
        else:
            self.new_block(r, text)

    def join(self, current: Block, r: StepRecord, text: str) -> None:
        """A step that shows nothing new joins the picture before it (a `see` after the click that opened it)."""
        current.captions.append(text)
        if r.note:
            current.notes.append(self.clean(r.note))
        pic = current.picture
        if pic is not None and not self.moved_since_picture:
            box = pic.place(r.bbox)
            if box is not None:
                pic.outlines.append(Outline(box, current.number))
                if r.zoom:
                    pic.zoom = box
        self.moved_since_picture = self.moved_since_picture or (r.screenshot is None and r.events.navigations > 0)

    def new_block(self, r: StepRecord, text: str) -> None:
        previous = self.current or self.last_block  # a heading between them does not change where the click happened
        self.number += 1
        number = self.number
        current = self.current = Block(number, [text], [self.clean(r.note)] if r.note else [])
        self.moved_since_picture = False
        unseen, self.unseen_page = self.unseen_page, False
        if image_or_none(receipt(self.run_dir, r.screenshot), _image_size) is not None:  # never one from outside
            current.picture = Picture(self.run_dir, r, hide_personal=self.personal.hide)
            current.alt = text
        if r.status == "failed":
            current.failed = r.error or r.status
            self.part.stopped = current.failed
        navigated = r.events.navigations > 0
        own = current.picture.place(r.bbox) if current.picture is not None and not navigated else None
        if own is not None and current.picture is not None:
            current.picture.outlines.append(Outline(own, number))
            if r.zoom:
                current.picture.zoom = own
        elif navigated and not unseen and previous is not None and previous.picture is not None:
            # The element clicked to get here, shown on the page where it was clicked.
            there = previous.picture.place(r.bbox)
            if there is not None:
                previous.picture.outlines.append(Outline(there, number))
                if r.zoom:
                    previous.picture.zoom = there
        self.part.items.append(current)


def part_from_run(run_dir: Path, m: Manifest, lang: str, heading: str | None = None, level: int = 2) -> Part:
    part = Part(heading=heading or m.scenario.name, level=level, device=m.device, run_dir=run_dir)
    builder = _PartBuilder(run_dir, m, lang, part)
    part.description = builder.clean(m.scenario.description) if m.scenario.description else None
    part.before, part.after = [builder.clean(x) for x in m.before], [builder.clean(x) for x in m.after]
    for r in m.steps:
        builder.step(r)
    # Where the journey itself stopped: a failed step, or a run that could not finish. A budget or a
    # baseline failure is QA's business: the journey went on to its end.
    if m.status in ("interrupted", "error", "running") and not part.stopped:
        part.stopped = m.failure.message if m.failure else labels(lang).get(m.status, m.status)
    return part


def only_sections(part: Part, wanted: list[str]) -> Part:
    """Keep the blocks under the given section headings (in the run's order), numbered again from 1.

    With one section the part's own heading names it, so the section heading is dropped; outlines
    pointing at steps left out lose their badge."""
    kept: list[Block | Heading] = []
    keep = False
    for item in part.items:
        if isinstance(item, Heading):
            keep = item.text in wanted
            if keep and len(wanted) > 1:
                kept.append(item)
        elif keep:
            kept.append(item)
    renumber = {b.number: n for n, b in enumerate((i for i in kept if isinstance(i, Block)), 1)}
    for item in kept:
        if isinstance(item, Block):
            item.number = renumber[item.number]
            if item.picture is not None:
                item.picture.outlines = [Outline(o.box, renumber[o.badge]) for o in item.picture.outlines if o.badge in renumber]
    part.items = kept
    part.skipped = []
    part.stopped = part.stopped if any(isinstance(i, Block) and i.failed for i in kept) else None
    return part


def guide_from_runs(run_dirs: list[Path], *, title: str | None = None, lang: str | None = None) -> Guide:
    """A guide of the runs, in `lang` (default: the first run's language)."""
    if lang is not None and lang not in LANGUAGES:
        raise WalkthroughError(f"unknown language '{lang}' (expected one of: {', '.join(LANGUAGES)})")
    manifests = [(d, load_manifest(d)) for d in run_dirs]
    lang = lang or language(manifests[0][1].lang or manifests[0][1].locale)
    parts = [part_from_run(d, m, lang) for d, m in manifests]
    one = manifests[0][1] if len(manifests) == 1 else None
    return Guide(
        title=title or (one.scenario.name if one else parts[0].heading),
        parts=parts,
        lang=lang,
        intro=None,
        date=min(m.started_at for _, m in manifests)[:10],
        runs=len(manifests),
    )


def parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip() for f in value.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise WalkthroughError(f"unknown format '{unknown[0] if unknown else value}' (expected some of: {', '.join(FORMATS)})")
    return formats


def run_dirs_of(paths: list[Path]) -> list[Path]:
    """Run folders as given (in that order); a folder of runs contributes its runs, oldest first."""
    found: list[Path] = []
    for p in paths:
        if (p / "manifest.json").is_file():
            found.append(p)
        elif p.is_dir():
            runs = sorted(d for d in p.iterdir() if (d / "manifest.json").is_file())
            if not runs:
                raise WalkthroughError(f"{p}: no run folders in it")
            found += runs
        else:
            raise WalkthroughError(f"{p}: not a run folder")
    return found
