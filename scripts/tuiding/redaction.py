"""Personal data found in the page, and redaction of video frames — one policy for every published artefact.

The receipts themselves stay as the browser drew them (they are evidence, and `tuiding verify` checks their
hashes). What a run hides is recorded as boxes: the scenario's `redact:` targets (StepRecord.redact) and the
personal data found in the DOM (StepRecord.personal: phone numbers, e-mail addresses, ID-card and bank-card
numbers, exactly boxed from the text's own ranges and the fields' values). Guides black the boxes out in their
copies of the pictures (report/walkthrough.py). A recorded video has no receipts to annotate afterwards: while
it records, the page reports the boxes to hide whenever something on it changes (FRAME_WATCH_JS, through one
binding) and every frame is blacked out before it is encoded (FrameRedactor).
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PERSONAL_KINDS = ("phone", "email", "id_card", "card")
REDACT_MARK = "data-tuiding-redact"  # set on elements a `redact:` target found by role, label or text (video only)
SLACK_S = 0.35  # a frame is also blacked out where the boxes were just before and just after it

# Finds personal data and the run's redactions in the document: [[kind, x, y, w, h], …] in viewport CSS
# pixels (+ scroll when `page` is true). Text is boxed by its own ranges (a number inside a sentence hides
# the number, not the paragraph); a field by its box. One source, used by the step's page read (guides) and
# by the video's watcher. The patterns are deliberately strict where numbers are common: an ID-card number
# must carry its check digit (GB 11643), a card number pass the Luhn check.
FIND_JS = r"""(cfg) => {
  const kinds = new Set(cfg.kinds || []), keep = cfg.keep || [], texts = (cfg.texts || []).filter(t => t);
  const out = [], dx = cfg.page ? scrollX : 0, dy = cfg.page ? scrollY : 0;
  const luhn = (d) => { let s = 0; for (let i = 0; i < d.length; i++) { let n = +d[d.length - 1 - i];
    if (i % 2) { n *= 2; if (n > 9) n -= 9; } s += n; } return s % 10 === 0; };
  const idcard = (d) => { const w = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]; let s = 0;
    for (let i = 0; i < 17; i++) s += (+d[i]) * w[i]; return '10X98765432'[s % 11] === d[17].toUpperCase(); };
  const patterns = [
    ['email', /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, null],
    ['id_card', /(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])/g, idcard],
    ['card', /(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])/g, (m) => luhn(m.replace(/\D/g, ''))],
    ['phone', /(?<![0-9])(?:(?:\+|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])/g, null],
    ['phone', /(?<![0-9A-Za-z])\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![0-9])/g,
      (m) => m.replace(/\D/g, '').length >= 8],
  ].filter(([k]) => kinds.has(k));
  const matches = (s) => {
    const found = [];
    for (const t of texts) { let i = s.indexOf(t); while (i >= 0) { found.push(['redact', i, i + t.length]); i = s.indexOf(t, i + t.length); } }
    for (const [kind, re, ok] of patterns) for (const m of s.matchAll(re)) {
      if (keep.some(k => m[0].includes(k) || k.includes(m[0]))) continue;
      if (ok && !ok(m[0])) continue;
      if (found.some(([, a, b]) => m.index < b && a < m.index + m[0].length)) continue;  // one kind per characters
      found.push([kind, m.index, m.index + m[0].length]);
    }
    return found;
  };
  const push = (kind, r) => { if (r.width > 0 && r.height > 0) out.push([kind, r.x + dx, r.y + dy, r.width, r.height]); };
  const roots = [document];
  for (let i = 0; i < roots.length; i++) for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
  for (const root of roots) {
    const body = root === document ? document.body : root;
    if (!body) continue;
    if (patterns.length || texts.length) {
      const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT, { acceptNode: (n) => {
        const p = n.parentElement; return p && !/^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE)$/.test(p.tagName) ? 1 : 2; } });
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.nodeValue || n.nodeValue.trim().length < 3) continue;
        for (const [kind, a, b] of matches(n.nodeValue)) {
          const range = document.createRange(); range.setStart(n, a); range.setEnd(n, b);
          for (const r of range.getClientRects()) push(kind, r);
        }
      }
      for (const e of root.querySelectorAll('input, textarea')) {
        if (e.type === 'password' || e.type === 'hidden' || !e.value) continue;
        const found = matches(e.value);
        if (found.length) push(found[0][0], e.getBoundingClientRect());
      }
    }
    for (const sel of cfg.css || []) {
      let els; try { els = root.querySelectorAll(sel); } catch (err) { continue; }
      for (const e of els) for (const r of e.getClientRects()) push('redact', r);
    }
  }
  return out;
}"""

# The video's watcher: after anything changes (the DOM, a field's value, scrolling, resizing, a transition),
# the boxes are measured in the next animation frame — before that frame is painted — and reported through
# the binding when they differ from the last report, with the page's wall clock (the frames' clock).
FRAME_WATCH_JS = (
    """(() => {
  if (window.__tuidingRedactWatch || window.top !== window) return;
  window.__tuidingRedactWatch = true;
  const cfg = """
    + "%CFG%"
    + """;
  const find = """
    + FIND_JS
    + """;
  let queued = false, last = '';
  const measure = () => {
    queued = false;
    let boxes; try { boxes = find(cfg).map(([, x, y, w, h]) => [Math.round(x), Math.round(y), Math.round(w), Math.round(h)]); }
    catch (e) { return; }
    const text = JSON.stringify([innerWidth, innerHeight, boxes]);
    if (text === last) return;
    last = text;
    window.__tuidingRedact(Date.now(), innerWidth, innerHeight, boxes);
  };
  const soon = () => { if (!queued) { queued = true; requestAnimationFrame(measure); } };
  const start = () => {
    new MutationObserver(soon).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    for (const type of ['input', 'scroll', 'resize', 'transitionrun', 'animationstart', 'load'])
      addEventListener(type, soon, { capture: true, passive: true });
    setInterval(soon, 250);  // what moves without telling (a CSS transition's later frames)
    soon();
  };
  if (document.documentElement) start(); else document.addEventListener('readystatechange', start, { once: true });
})()"""
)


def find_config(
    kinds: Sequence[str], keep: Sequence[str], texts: Sequence[str], css: Sequence[str], page: bool
) -> dict[str, Any]:
    return {"kinds": list(kinds), "keep": list(keep), "texts": list(texts), "css": list(css), "page": page}


BAR = (20, 22, 28)  # the video's subtitle bar (video.CAPTION_HTML), opaque


def bar_shown(image: Any, top: float) -> bool:
    """Whether the frame shows the subtitle bar from `top` (image px) down: its colour all across, top and bottom."""
    ys = [min(image.height - 1, round(top) + 3), image.height - 2]
    xs = [round(image.width * i / 16) for i in range(1, 16, 2)]  # away from the centred caption text
    return all(
        max(abs(a - b) for a, b in zip(image.getpixel((x, y))[:3], BAR, strict=True)) <= 12 for x in xs[:2] + xs[-2:] for y in ys
    )


@dataclass
class Sample:
    at: float  # seconds, the page's wall clock
    width: int  # the viewport the boxes are measured in (CSS pixels)
    height: int
    boxes: list[tuple[int, int, int, int]]


@dataclass
class FrameRedactor:
    """The boxes the page reported while the video recorded, and frames blacked out with them.

    A frame shows the page as the last report before it saw it; the reports within SLACK_S either side are
    blacked out too, so a frame painted while a report was on its way (a page changing fast) hides both."""

    samples: list[Sample] = field(default_factory=list)

    def report(self, at_ms: float, width: int, height: int, boxes: list[list[float]]) -> None:
        sample = Sample(at_ms / 1000.0, int(width), int(height), [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes])
        bisect.insort(self.samples, sample, key=lambda s: s.at)

    def at(self, t: float) -> list[Sample]:
        """The reports that may describe what a frame at `t` shows."""
        times = [s.at for s in self.samples]
        last = bisect.bisect_right(times, t) - 1
        near = set(range(bisect.bisect_left(times, t - SLACK_S), bisect.bisect_right(times, t + SLACK_S)))
        if last >= 0:
            near.add(last)
        return [self.samples[i] for i in sorted(near)]

    def apply(self, t: float, jpeg: bytes, clip_bottom: float | None = None) -> bytes:
        """The frame with every box that may be on it blacked out (unchanged when there is none); `clip_bottom`:
        CSS px below which nothing is drawn (an opaque subtitle bar covers the page there)."""
        samples = [s for s in self.at(t) if s.boxes]
        if not samples:
            return jpeg
        from PIL import Image, ImageDraw

        with Image.open(io.BytesIO(jpeg)) as src:
            image = src.convert("RGB")
        draw = ImageDraw.Draw(image)
        if clip_bottom is not None and samples and not bar_shown(image, clip_bottom * image.height / max(1, samples[0].height)):
            clip_bottom = None
        for s in samples:
            sx, sy = image.width / max(1, s.width), image.height / max(1, s.height)
            for x, y, w, h in s.boxes:
                bottom = y + h + 2 if clip_bottom is None else min(y + h + 2, clip_bottom)
                if bottom > y - 2:
                    draw.rectangle([(x - 2) * sx, (y - 2) * sy, (x + w + 2) * sx, bottom * sy], fill=(20, 20, 20))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=85)
        return buf.getvalue()


def plain_css(target: Any) -> str | None:
    """The CSS selector the page itself can watch for a `redact:` target, when there is one (test id, plain CSS;
    `nth` picks one of several, which a watcher cannot follow: such targets are marked at every step instead)."""
    testid, css, nth = getattr(target, "testid", None), getattr(target, "css", None), getattr(target, "nth", None)
    if nth is not None:
        return None
    if testid is not None:
        return '[data-testid="' + testid.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    if css is not None and ">>" not in css:
        return str(css)
    return None


def video_config(redact: Sequence[Any], personal: Any, secret_mark: str) -> dict[str, Any] | None:
    """What every frame of a scenario's video hides: its `redact:` texts and targets, the elements showing a
    secret, and personal data unless `personal_data: {hide: false}`."""
    texts = [t for t in redact if isinstance(t, str)]
    css = [c for c in (plain_css(t) for t in redact if not isinstance(t, str)) if c]
    kinds = list(personal.kinds) if personal.hide else []
    return find_config(kinds, personal.keep, texts, [*css, f"[{REDACT_MARK}]", f"[{secret_mark}]"], page=False)


def marked_targets(redact: Sequence[Any]) -> list[Any]:
    """The `redact:` targets a video's watcher cannot find by itself (role, label, text, placeholder, nth)."""
    return [t for t in redact if not isinstance(t, str) and plain_css(t) is None]


REDACT_FILL = (20, 20, 20)


def hidden_boxes(record: Any, hide_personal: bool) -> list[Any]:
    """The page boxes a published copy of a step's receipt hides: its `redact:` targets and the personal data
    found (unless the run or the guide shows it)."""
    return [*record.redact, *(record.personal if hide_personal else [])]


def black_out(image: Any, record: Any, hide_personal: bool) -> Any:
    """A copy-in-place of a receipt image (PIL, the receipt's own pixels) with its hidden boxes blacked out."""
    shot = record.shot
    if shot is None:
        return image
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    for page_box in hidden_boxes(record, hide_personal):
        b = shot.to_image(page_box)
        draw.rectangle([b.x - 2, b.y - 2, b.x + b.width + 2, b.y + b.height + 2], fill=REDACT_FILL)
    return image


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def _id_card(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11] == number[17].upper()


# The same patterns as FIND_JS, for text a guide writes (captions, notes): what is hidden in the pictures is not
# spelled out beside them.
TEXT_PATTERNS: tuple[tuple[str, re.Pattern[str], Callable[[str], bool] | None], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), None),
    ("id_card", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])"), _id_card),
    ("card", re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])"), _luhn),
    ("phone", re.compile(r"(?<![0-9])(?:(?:\+|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])"), None),
    (
        "phone",
        re.compile(r"(?<![0-9A-Za-z])\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![0-9])"),
        lambda m: sum(c.isdigit() for c in m) >= 8,
    ),
)


def scrub(text: str, kinds: Sequence[str], keep: Sequence[str], mark: str = "•••") -> str:
    """The text with the personal data FIND_JS would box replaced by `mark` (the kept texts stay)."""
    for kind, pattern, ok in TEXT_PATTERNS:
        if kind not in kinds:
            continue

        def hide(m: re.Match[str], ok: Callable[[str], bool] | None = ok) -> str:
            found = m.group(0)
            if any(k and (k in found or found in k) for k in keep) or (ok is not None and not ok(found)):
                return found
            return mark

        text = pattern.sub(hide, text)
    return text
