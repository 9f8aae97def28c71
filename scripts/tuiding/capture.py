"""Taking a step's screenshot: painting secrets over, waiting for the page to settle, and measuring the
boxes (masks, redactions) a receipt is read with later. Used by the capture observer (observers.py)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from . import model as M
from .loadstate import wait_for_load
from .locators import locate
from .record import Box, Shot

SCREENSHOT_ATTEMPTS = 5
MASK_COLOR = "#3d4450"  # secrets are painted over in receipts
SECRET_MARK = "data-tuiding-secret"  # set on elements whose text or value holds a secret (see SECRET_TEXT_JS)
PASSWORD_FIELDS = "input[type=password]"


def mask_style(selectors: Sequence[str]) -> str:
    """CSS that paints these fields over during a screenshot, like Playwright's `mask` does, for about
    nothing: Playwright injects the style in every frame and shadow root in the preparation it makes for
    every screenshot anyway, where each `mask` locator costs extra round trips and a repaint (~7 ms per
    screenshot on a page just loaded). One rule per selector, so no selector can void another."""
    paint = (
        f"background: {MASK_COLOR} !important; border-color: {MASK_COLOR} !important; border-radius: 0 !important; "
        "color: transparent !important; -webkit-text-fill-color: transparent !important; text-shadow: none !important; "
        "box-shadow: none !important; outline: none !important;"
    )
    return "\n".join(f"{sel} {{ {paint} }} {sel}::placeholder {{ color: transparent !important; }}" for sel in selectors)


# The fields a secret was typed into, as the page names them (see observers.CaptureObserver.mask).
FIELD_SELECTORS_JS = """(e, discs) => {
  if (discs) e.style.setProperty('-webkit-text-security', 'disc');
  const tag = CSS.escape(e.localName), found = [];
  if (e.id) found.push(`${tag}#${CSS.escape(e.id)}`);
  if (e.name) found.push(`${tag}[name="${CSS.escape(e.name)}"]`);
  return found;
}"""

# Elements showing a secret the page itself wrote (a saved token in a link, a code filled in by the server)
# are marked, so the screenshot style paints them; marks of an earlier step are cleared first. Runs in the
# step's one page read (observers.py) only when the run knows secrets. Answers how many it marked.
SECRET_TEXT_JS = (
    """(secrets) => {
  const mark = '"""
    + SECRET_MARK
    + """';
  for (const e of document.querySelectorAll('[' + mark + ']')) e.removeAttribute(mark);
  if (!secrets.length || !document.body) return 0;
  const has = (t) => !!t && secrets.some(s => t.includes(s));
  let n = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode())
    if (has(t.nodeValue) && t.parentElement) { t.parentElement.setAttribute(mark, ''); n++; }
  for (const e of document.querySelectorAll('input, textarea'))
    if (has(e.value)) { e.setAttribute(mark, ''); n++; }
  for (const e of document.querySelectorAll('a[href]'))
    if (has(e.getAttribute('href'))) { e.setAttribute(mark, ''); n++; }
  return n;
}"""
)


def png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)


_SCROLL_JS = "() => [scrollX, scrollY]"
_ELEMENT_JS = "e => { const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY]; }"


def capture(
    page: Page,
    path: Path,
    how: Any,
    masks: list[Locator],
    timeout_ms: float,
    scale: float,
    scroll: tuple[float, float] | None = None,
    masked_fields: Sequence[str] = (),
) -> Shot:
    """Wait for the page to settle, then screenshot; retry Chromium's transient capture failure.
    Password fields, `masked_fields` (CSS selectors) and elements marked as showing a secret are painted
    over by a style, `masks` (locators of fields the page gave no id or name) by Playwright's slower `mask`.
    `scroll`: the viewport's position when already known (saves a round trip)."""
    style = mask_style([PASSWORD_FIELDS, f"[{SECRET_MARK}]", *masked_fields])
    paint: dict[str, Any] = {"style": style, "animations": "disabled", "timeout": timeout_ms}
    if masks:
        paint.update(mask=masks, mask_color=MASK_COLOR)
    for attempt in range(SCREENSHOT_ATTEMPTS):
        try:
            wait_for_load(page, "load", timeout_ms)
        except PlaywrightError:
            pass
        try:
            if isinstance(how, M.Target):
                element = locate(page, how)
                element.screenshot(path=path, **paint)
                kind, (x, y) = "element", element.evaluate(_ELEMENT_JS)
            elif how == "full":
                page.screenshot(path=path, full_page=True, **paint)
                kind, (x, y) = "full", (0.0, 0.0)
            else:
                page.screenshot(path=path, **paint)
                kind, (x, y) = "viewport", scroll if scroll is not None else page.evaluate(_SCROLL_JS)
            w, h = png_size(path)
            return Shot(kind=kind, width=w, height=h, scale=scale, x=x, y=y)
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == SCREENSHOT_ATTEMPTS - 1:
                raise
            page.wait_for_timeout(150 * (attempt + 1))
    raise AssertionError("unreachable")


_BOXES_JS = """els => els.filter(e => e.offsetWidth || e.offsetHeight || e.getClientRects().length).map(e => {
  const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, r.height]; })"""

# Boxes of several CSS targets in one round trip, each target's apart (a union would merge two targets that
# match one element). Open shadow roots are searched like Playwright's css engine does; a selector the
# browser cannot parse (Playwright's own extensions) answers null and goes the per-target way.
CSS_BOXES_JS = """(targets) => {
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
  const shown = (e) => e.offsetWidth || e.offsetHeight || e.getClientRects().length;
  return targets.map(([testid, css, nth]) => {
    const sel = testid !== null ? `[data-testid="${CSS.escape(testid)}"]` : css;
    let found;
    try { found = roots.flatMap(r => [...r.querySelectorAll(sel)]); } catch (e) { return null; }
    if (nth !== null) { const one = found.at(nth); found = one ? [one] : []; }
    return found.filter(shown).map(e => { const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, r.height]; });
  });
}"""


def _plain_css(t: Any) -> bool:
    """A target the browser can find by itself: a test id or plain CSS (not role, label, text …)."""
    return isinstance(t, M.Target) and (t.testid is not None or (t.css is not None and ">>" not in t.css))


def css_asked(targets: list[Any]) -> tuple[list[int], list[list[Any]]]:
    """Which targets CSS_BOXES_JS can measure, and what to ask it."""
    batch = [i for i, t in enumerate(targets) if _plain_css(t)]
    return batch, [[targets[i].testid, targets[i].css, targets[i].nth] for i in batch]


def measure_boxes(page: Page, *groups: list[Any], measured: list[Any] | None = None) -> list[list[Box]]:
    """Page boxes of every visible element each target matches (masks, redactions), one list per group.
    CSS targets are measured together in one round trip — none when the step's page read already
    `measured` them on the settled page; the others (role, label, text) one each."""
    flat = [t for group in groups for t in group]
    found: list[list[Any] | None] = [None] * len(flat)
    batch, asked = css_asked(flat)
    if batch:
        try:
            answers = measured if measured is not None else page.evaluate(CSS_BOXES_JS, asked)
            for i, boxes in zip(batch, answers, strict=True):
                found[i] = boxes
        except (PlaywrightError, ValueError):
            pass  # measured one by one below
    for i, t in enumerate(flat):
        if found[i] is None:
            loc = page.get_by_text(t) if isinstance(t, str) else locate(page, t)
            try:
                found[i] = loc.evaluate_all(_BOXES_JS)
            except PlaywrightError:
                found[i] = []
    out, at = [], 0
    for group in groups:
        out.append(
            [Box(x=x, y=y, width=w, height=h) for boxes in found[at : at + len(group)] for x, y, w, h in boxes or [] if w and h]
        )
        at += len(group)
    return out
