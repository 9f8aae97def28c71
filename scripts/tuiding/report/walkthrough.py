"""Walkthroughs: run folders become an illustrated guide (Markdown, HTML, PDF, video).

A reader: it loads run folders through record.py, draws annotated *copies* of the receipts (the
receipts stay byte-identical, so `tuiding verify` still passes) and starts a browser only for the
PDF (Chromium's print engine). Deterministic: the same runs give byte-identical Markdown and HTML.

How a run becomes numbered steps: consecutive steps whose screenshots are identical (a `see` after
the click that opened the page), and steps without a screenshot, join one picture; a `section:`
starts a heading; `walkthrough: false` and skipped steps (`if` false) are left out (the skipped
ones are listed at the end). Each picture outlines, with the step number as a badge, the element
its own steps acted on or checked — and the element the *next* step clicks to leave the page,
measured on this very page, so a reader sees where to click before the page changes.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image, ImageDraw, ImageFont
from pydantic import ValidationError

from .. import __version__
from .. import model as M
from ..i18n import LANGUAGES, gettext_for, language
from ..record import Box, Manifest, StepRecord, load_manifest
from .env import HTML_LANG, fonts_for

FORMATS = ("md", "html", "pdf", "video")
OUTLINE = (255, 98, 0)
BADGE_FILL = (229, 0, 90)
REDACT = (20, 20, 20)
MAX_WIDTH = 880  # image pixels in documents: sharp on screen and in print, small enough to mail
JPEG_QUALITY = 66


def labels(lang: str) -> dict[str, str]:
    """The guide's own words in `lang` (the catalogs of i18n.py)."""
    _ = gettext_for(lang)
    return {
        "contents": _("Contents"),
        "before": _("Before you start"),
        "after": _("Afterwards"),
        "step": _("Step {n}"),
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

    @property
    def labels(self) -> dict[str, str]:
        return labels(self.lang)

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


def part_from_run(run_dir: Path, m: Manifest, lang: str, heading: str | None = None, level: int = 2) -> Part:
    redact = [t for t in m.redact_text if t]
    recorded = language(m.lang or m.locale)

    def clean(text: str) -> str:
        for t in redact:
            text = text.replace(t, "•••")
        return text

    part = Part(
        heading=heading or m.scenario.name,
        level=level,
        description=clean(m.scenario.description) if m.scenario.description else None,
        before=[clean(x) for x in m.before],
        after=[clean(x) for x in m.after],
        device=m.device,
        run_dir=run_dir,
    )
    current: Block | None = None
    last_block: Block | None = None
    number = 0
    moved_since_picture = False
    for r in m.steps:
        if r.status == "skipped":
            if r.walkthrough:
                part.skipped.append(clean(caption(r, lang, recorded)))
            continue
        if not r.walkthrough:
            continue
        text = clean(caption(r, lang, recorded))
        if r.section:
            part.items.append(Heading(clean(r.section)))
            last_block, current = current or last_block, None
        failed = r.status == "failed"
        joins = (
            current is not None
            and not failed
            and (r.screenshot is None or (current.picture is not None and r.sha256 == current.picture.record.sha256))
        )
        if joins and current is not None:
            current.captions.append(text)
            if r.note:
                current.notes.append(clean(r.note))
            pic = current.picture
            if pic is not None and not moved_since_picture:
                box = pic.place(r.bbox)
                if box is not None:
                    pic.outlines.append(Outline(box, current.number))
                    if r.zoom:
                        pic.zoom = box
            moved_since_picture = moved_since_picture or (r.screenshot is None and r.events.navigations > 0)
            continue
        previous = current or last_block  # a heading between them does not change where the click happened
        number += 1
        current = Block(number, [text], [clean(r.note)] if r.note else [])
        moved_since_picture = False
        if r.screenshot:
            current.picture = Picture(run_dir, r)
            current.alt = text
        if failed:
            current.failed = r.error or r.status
            part.stopped = current.failed
        navigated = r.events.navigations > 0
        own = current.picture.place(r.bbox) if current.picture is not None and not navigated else None
        if own is not None and current.picture is not None:
            current.picture.outlines.append(Outline(own, number))
            if r.zoom:
                current.picture.zoom = own
        elif navigated and previous is not None and previous.picture is not None:
            # The element clicked to get here, shown on the page where it was clicked.
            there = previous.picture.place(r.bbox)
            if there is not None:
                previous.picture.outlines.append(Outline(there, number))
                if r.zoom:
                    previous.picture.zoom = there
        part.items.append(current)
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


# ---------------------------------------------------------------- pictures


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


def annotate(pic: Picture) -> tuple[Image.Image, Image.Image | None]:
    """The receipt with redactions blacked out and outlines with badges drawn (a copy), and its zoom crop."""
    with Image.open(pic.run_dir / str(pic.record.screenshot)) as src:
        image = src.convert("RGB")
    draw = ImageDraw.Draw(image)
    shot = pic.record.shot
    for page_box in pic.record.redact:
        if shot is None:
            break
        b = shot.to_image(page_box)
        draw.rectangle([b.x - 2, b.y - 2, b.x + b.width + 2, b.y + b.height + 2], fill=REDACT)
    scale = shot.scale if shot else 1.0
    width = max(2, round(3 * scale))
    radius = round(13 * scale)
    font = _font(round(16 * scale))
    zoom = None
    if pic.zoom is not None:
        z = pic.zoom
        pad = 40 * scale
        crop = (
            max(0, z.x - pad),
            max(0, z.y - pad),
            min(image.width, z.x + z.width + pad),
            min(image.height, z.y + z.height + pad),
        )
        zoom = image.crop(tuple(round(v) for v in crop))  # type: ignore[arg-type]
    for o in pic.outlines:
        b = o.box
        # A checkbox is 13 px: its outline grows to at least 24 CSS px so it stays visible once shrunk for a document.
        grow_x, grow_y = max(4.0, (24 * scale - b.width) / 2), max(4.0, (24 * scale - b.height) / 2)
        left, top, right, bottom = b.x - grow_x, b.y - grow_y, b.x + b.width + grow_x, b.y + b.height + grow_y
        draw.rounded_rectangle([left, top, right, bottom], radius=round(6 * scale), outline=OUTLINE, width=width)
        cx, cy = max(radius, left), max(radius, top)
        draw.ellipse(
            [cx - radius, cy - radius, cx + radius, cy + radius],
            fill=BADGE_FILL,
            outline=(255, 255, 255),
            width=max(1, width // 2),
        )
        draw.text((cx, cy), str(o.badge), fill=(255, 255, 255), font=font, anchor="mm")
    return image, zoom


def _document_size(image: Image.Image, css_width: float) -> Image.Image:
    target = min(image.width, MAX_WIDTH, round(css_width * 2))
    if image.width > target:
        image = image.resize((target, round(image.height * target / image.width)), Image.Resampling.LANCZOS)
    return image


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def render_images(guide: Guide, out: Path) -> dict[str, bytes]:
    """Annotated copies of the pictures, as JPEG bytes by relative path (also written under out/images/)."""
    images: dict[str, bytes] = {}
    (out / "images").mkdir(parents=True, exist_ok=True)
    for pi, part in enumerate(guide.parts, 1):
        for item in part.items:
            if not isinstance(item, Block) or item.picture is None:
                continue
            full, zoom = annotate(item.picture)
            shot = item.picture.record.shot
            css_width = (shot.width / shot.scale) if shot else full.width
            name = f"images/{pi:02d}-{item.number:02d}.jpg"
            images[name] = _jpeg(_document_size(full, css_width))
            item.image = name
            if zoom is not None:
                zname = f"images/{pi:02d}-{item.number:02d}-zoom.jpg"
                images[zname] = _jpeg(_document_size(zoom, zoom.width / (shot.scale if shot else 1) * 1.5))
                item.zoom_image = zname
    for name, data in images.items():
        (out / name).write_bytes(data)
    return images


# ---------------------------------------------------------------- documents

_env = Environment(
    loader=PackageLoader("tuiding", "report"), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def render_markdown(guide: Guide) -> str:
    L = guide.labels
    out = [f"# {_md_escape(guide.title)}", ""]
    if guide.subtitle:
        out += [f"*{_md_escape(guide.subtitle)}*", ""]
    if guide.intro:
        out += [guide.intro.strip(), ""]
    if len(guide.parts) > 1:
        out += [f"**{L['contents']}**", ""]
        out += [f"{'  ' * (p.level - 2)}- [{_md_escape(p.heading)}](#{p.anchor})" for p in guide.parts]
        out.append("")
    for part in guide.parts:
        out += [f'<a id="{part.anchor}"></a>', ""]
        if not (len(guide.parts) == 1 and part.heading == guide.title):
            out += [f"{'#' * part.level} {_md_escape(part.heading)}", ""]
        if part.text:
            out += [part.text.strip(), ""]
        if part.description:
            out += [_md_escape(part.description), ""]
        out += [f"- {_md_escape(b)}" for b in part.bullets] + ([""] if part.bullets else [])
        for qa in part.faq:
            out += [f"**{_md_escape(qa['q'])}**", "", qa["a"].strip(), ""]
        for key, items in (("before", part.before),):
            if items:
                out += [f"{'#' * (part.level + 1)} {L[key]}", ""] + [f"- {_md_escape(x)}" for x in items] + [""]
        for fmt, path in part.videos.items():
            if fmt in ("mp4", "webm"):
                out += [f"{L['video']}: [{Path(path).name}]({path})", ""]
                break
        for item in part.items:
            if isinstance(item, Heading):
                out += [f"{'#' * (part.level + 1)} {_md_escape(item.text)}", ""]
                continue
            first, *rest = item.captions
            out += [f"**{item.number}.** {_md_escape(first)}" + "".join(f"  \n{_md_escape(c)}" for c in rest), ""]
            out += [f"> {_md_escape(n)}" for n in item.notes] + ([""] if item.notes else [])
            if item.failed:
                out += [f"> **{L['stopped']}**:{_md_escape(item.failed)}", ""]
            if item.image:
                out += [f"![{L['step'].format(n=item.number)}:{_md_escape(item.alt)}]({item.image})", ""]
            if item.zoom_image:
                out += [f"![{L['zoom']}]({item.zoom_image})", ""]
        if part.stopped and not any(isinstance(i, Block) and i.failed for i in part.items):
            out += [f"> **{L['stopped']}**:{_md_escape(part.stopped)}", ""]
        if part.after:
            out += [f"{'#' * (part.level + 1)} {L['after']}", ""] + [f"- {_md_escape(x)}" for x in part.after] + [""]
        if part.skipped:
            out += [f"*{L['skipped']}:*", ""] + [f"- {_md_escape(x)}" for x in part.skipped] + [""]
    out += ["---", "", f"*{_md_escape(guide.footer)}*", ""]
    return "\n".join(out)


def _data_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def render_html(guide: Guide, images: dict[str, bytes], *, for_print: bool = False) -> str:
    uris = {name: _data_uri(data) for name, data in images.items()}
    return _env.get_template("walkthrough.html").render(
        g=guide, L=guide.labels, uri=uris, for_print=for_print, fonts=fonts_for(guide.lang)
    )


def write_pdf(html: str, target: Path, guide: Guide, browser: Any = None) -> None:
    """Chromium's print engine: A4, CJK fonts embedded, page numbers in the footer.

    `browser`: a running session to print with (the CLI's run has one); otherwise one is started."""
    from contextlib import nullcontext

    from ..browser import BrowserSession

    footer = (
        "<div style=\"width:100%;font:9px 'Noto Sans','Noto Sans CJK SC',sans-serif;color:#667;text-align:center;\">"
        f"{guide.labels['page']}</div>"
    )
    with nullcontext(browser) if browser is not None else BrowserSession() as session:
        context = session.new_context(locale=HTML_LANG.get(guide.lang, guide.lang))
        try:
            page = context.new_page()
            page.set_content(html, wait_until="load")
            page.emulate_media(media="print")
            page.pdf(
                path=str(target),
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=footer,
                margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
            )
        finally:
            context.close()


def build(guide: Guide, out: Path, formats: tuple[str, ...], *, name: str = "walkthrough", browser: Any = None) -> list[Path]:
    """Write the guide in `formats` under `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "video" in formats:
        from .video_walkthrough import build_videos

        written += build_videos(guide, out, name=name)
    images = render_images(guide, out)
    written += [out / n for n in sorted(images)]
    from ..receipts import atomic_write

    if "md" in formats:
        atomic_write(out / f"{name}.md", render_markdown(guide))
        written.append(out / f"{name}.md")
    if "html" in formats:
        atomic_write(out / f"{name}.html", render_html(guide, images))
        written.append(out / f"{name}.html")
    if "pdf" in formats:
        write_pdf(render_html(guide, images, for_print=True), out / f"{name}.pdf", guide, browser)
        written.append(out / f"{name}.pdf")
    return written


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
