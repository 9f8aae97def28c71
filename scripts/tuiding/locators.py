"""Target spec → Playwright locator."""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from .model import Target


class TargetNotFound(AssertionError):
    pass


# An element's page box, its `type` property ('' for none; "password" is what fill asks about), its role (given,
# or implied by the tag), its name as a reader meets it, and CSS selectors naming it by id and name — read in
# the same call, for the step's record, its landmarks (a click on a button named "Cancel membership" submits a
# cancellation) and, for a field a secret goes into, the screenshot style that paints it over.
BOX_JS = """e => { const r = e.getBoundingClientRect(), t = e.tagName;
  const implied = t === 'A' ? (e.hasAttribute('href') ? 'link' : '') : t === 'BUTTON' || t === 'SUMMARY' ? 'button'
    : t === 'INPUT' ? ({submit: 'button', button: 'button', reset: 'button', image: 'button', checkbox: 'checkbox', radio: 'radio'}[e.type] || 'textbox')
    : t === 'SELECT' ? 'combobox' : t === 'TEXTAREA' ? 'textbox' : '';
  const label = e.labels && e.labels[0] ? e.labels[0].innerText : '';
  const name = (e.getAttribute('aria-label') || label || (t === 'INPUT' ? (['submit', 'button', 'reset'].includes(e.type) ? e.value : '') : e.innerText) || e.getAttribute('title') || '')
    .replace(/\\s+/g, ' ').trim().slice(0, 120);
  const tag = CSS.escape(e.localName), named = [];
  if (e.id) named.push(`${tag}#${CSS.escape(e.id)}`);
  if (e.name) named.push(`${tag}[name="${CSS.escape(e.name)}"]`);
  return [r.x + scrollX, r.y + scrollY, r.width, r.height, e.type || '', e.getAttribute('role') || implied, name, named]; }"""
# The same for the first match, without waiting: null when nothing matches. Reading it while choosing the
# target saves the separate round trip a walkthrough's highlight would cost.
FIRST_BOX_JS = f"els => els.length ? ({BOX_JS})(els[0]) : null"

# (x, y, width, height, type, role, name, [selectors]) of a target, in page coordinates.
Measured = tuple[float, float, float, float, str, str, str, list[str]]


def first_box(loc: Locator, *, quiet: bool = False) -> Measured | None:
    """FIRST_BOX_JS on `loc`. `quiet`: None also when the page cannot answer (a navigation in progress),
    for a first look that a waiting one follows."""
    try:
        found = loc.evaluate_all(FIRST_BOX_JS)
    except PlaywrightError:
        if quiet:
            return None
        raise
    if found is None:
        return None
    return (found[0], found[1], found[2], found[3], found[4], found[5], found[6], list(found[7]))


def locate(page: Page | Locator, spec: str | Target, timeout_ms: float = 0) -> Locator:
    """A string means, in order of preference: a button or link with exactly that accessible name,
    an element with exactly that text, then a button/link or element *containing* it.

    A control wins even when a heading with the same words comes first in the page (a
    "重置密码" title above a "重置密码" button), so we wait for any, then take the best kind.
    """
    return locate_measured(page, spec, timeout_ms)[0]


def locate_measured(page: Page | Locator, spec: str | Target, timeout_ms: float = 0) -> tuple[Locator, Measured | None]:
    """`locate`, and with a timeout also the chosen element's box when it was there to measure."""
    if isinstance(spec, str):
        exact = re.compile(rf"^\s*{re.escape(spec)}\s*$")
        candidates = [
            page.get_by_role("button", name=exact).or_(page.get_by_role("link", name=exact)),
            page.get_by_text(spec, exact=True),
            page.get_by_role("button", name=spec).or_(page.get_by_role("link", name=spec)),
            page.get_by_text(spec),
        ]
        anything = candidates[0]
        for c in candidates[1:]:
            anything = anything.or_(c)
        if timeout_ms:
            # The usual case — the best kind is already on the page — in one round trip. It is what the
            # wait below would choose too: anything attached, then the best kind present.
            found = first_box(candidates[0], quiet=True)
            if found is not None:
                return candidates[0].first, found
            try:
                anything.first.wait_for(state="attached", timeout=timeout_ms)
            except PlaywrightError:
                raise TargetNotFound(
                    f"no button, link or text '{spec}' on the page after {round(timeout_ms / 1000, 1):g}s"
                ) from None
        for c in candidates:
            found = first_box(c)
            if found is not None:
                return c.first, found
        return anything.first, None
    loc = _locate_map(page, spec)
    if spec.nth is not None:
        loc = loc.nth(spec.nth)
    return loc, first_box(loc, quiet=True) if timeout_ms else None


def _locate_map(page: Page | Locator, t: Target) -> Locator:
    if t.role is not None:
        return page.get_by_role(t.role, name=t.name, exact=t.exact) if t.name is not None else page.get_by_role(t.role)
    if t.label is not None:
        return page.get_by_label(t.label, exact=t.exact)
    if t.text is not None:
        return page.get_by_text(t.text, exact=t.exact)
    if t.placeholder is not None:
        return page.get_by_placeholder(t.placeholder, exact=t.exact)
    if t.testid is not None:
        return page.get_by_test_id(t.testid)
    return page.locator(t.css or "")


def visible_text(page: Page | Locator, spec: str | Target) -> Locator:
    """For see/not_see: a string is any visible element containing that text."""
    if isinstance(spec, str):
        return page.get_by_text(spec).filter(visible=True).first
    return locate(page, spec)


def field(page: Page | Locator, label: str, timeout_ms: float = 0) -> Locator:
    """fill's `label: value` map: the form control labelled (or with the placeholder) exactly so, else
    one whose label contains the words — the same preference as string targets ("其他原因说明" finds
    "其他原因说明(选择「其他」时必填,最多 200 字)")."""
    return field_measured(page, label, timeout_ms)[0]


def field_measured(page: Page | Locator, label: str, timeout_ms: float = 0) -> tuple[Locator, Measured | None]:
    """`field`, and the chosen control's box and input type when it was there to measure."""
    exact = page.get_by_label(label, exact=True).or_(page.get_by_placeholder(label, exact=True))
    loose = page.get_by_label(label).or_(page.get_by_placeholder(label))
    if timeout_ms:
        found = first_box(exact, quiet=True)  # usually there already: one round trip
        if found is not None:
            return exact.first, found
        try:
            exact.or_(loose).first.wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightError:
            raise TargetNotFound(f"no field labelled '{label}' on the page after {round(timeout_ms / 1000, 1):g}s") from None
    found = first_box(exact)
    if found is not None:
        return exact.first, found
    return loose.first, first_box(loose)
