"""Walkthroughs drawn: a guide (guide.py) becomes Markdown, HTML and PDF, its video made by video_walkthrough.py.

A reader: it draws annotated *copies* of the receipts (the receipts stay byte-identical, so `tuiding
verify` still passes) and starts a browser only for the PDF (Chromium's print engine). Deterministic: the
same runs give byte-identical Markdown and HTML.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image, ImageDraw, ImageFont

from ..i18n import gettext_for
from ..redaction import REDACT_FILL, black_out
from .env import HTML_LANG, fonts_for
from .guide import Block, Guide, Heading, Picture
from .video_walkthrough import build_videos

OUTLINE = (255, 98, 0)
BADGE_FILL = (229, 0, 90)
REDACT = REDACT_FILL  # the colour black_out paints (redaction.py)
MAX_WIDTH = 880  # image pixels in documents: sharp on screen and in print, small enough to mail
JPEG_QUALITY = 66


# ---------------------------------------------------------------- pictures


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


def annotate(pic: Picture) -> tuple[Image.Image, Image.Image | None]:
    """The receipt with redactions blacked out and outlines with badges drawn (a copy), and its zoom crop."""
    with Image.open(pic.run_dir / str(pic.record.screenshot)) as src:
        image = src.convert("RGB")
    black_out(image, pic.record, pic.hide_personal)
    draw = ImageDraw.Draw(image)
    shot = pic.record.shot
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
    if guide.unverified:
        out += [f"> **⚠ {L['unverified']}**", ">"]
        out += [f"> - {_md_escape(line)}" for line in guide.unverified]
        out += [">", f"> {L['unverified_why']}", ""]
    if guide.intro:
        out += [guide.intro.strip(), ""]
    if guide.redaction:
        out += [f"> 🔒 {_md_escape(guide.redaction)}", ""]
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
                out += [f"![{L['step_alt'].format(n=item.number, caption=_md_escape(item.alt))}]({item.image})", ""]
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


def build(
    guide: Guide,
    out: Path,
    formats: tuple[str, ...],
    *,
    name: str = "walkthrough",
    browser: Any = None,
    say: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the guide in `formats` under `out`; returns the files written. `say`: told of the slow parts."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "video" in formats:
        written += build_videos(guide, out, name=name, say=say)
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
        if say is not None:
            _ = gettext_for(guide.lang)
            say(_("Printing the PDF …"))
        write_pdf(render_html(guide, images, for_print=True), out / f"{name}.pdf", guide, browser)
        written.append(out / f"{name}.pdf")
    return written
