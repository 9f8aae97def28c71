"""Target spec → Playwright locator."""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from .model import Target


class TargetNotFound(AssertionError):
    pass


def locate(page: Page | Locator, spec: str | Target, timeout_ms: float = 0) -> Locator:
    """A string means, in order of preference: a button or link with exactly that accessible name,
    an element with exactly that text, then a button/link or element *containing* it.

    A control wins even when a heading with the same words comes first in the page (a
    "重置密码" title above a "重置密码" button), so we wait for any, then take the best kind.
    """
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
            try:
                anything.first.wait_for(state="attached", timeout=timeout_ms)
            except PlaywrightError:
                raise TargetNotFound(
                    f"no button, link or text '{spec}' on the page after {round(timeout_ms / 1000, 1):g}s"
                ) from None
        for c in candidates:
            if c.count():
                return c.first
        return anything.first
    loc = _locate_map(page, spec)
    if spec.nth is not None:
        return loc.nth(spec.nth)
    return loc


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
    exact = page.get_by_label(label, exact=True).or_(page.get_by_placeholder(label, exact=True))
    loose = page.get_by_label(label).or_(page.get_by_placeholder(label))
    if timeout_ms:
        try:
            exact.or_(loose).first.wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightError:
            raise TargetNotFound(f"no field labelled '{label}' on the page after {round(timeout_ms / 1000, 1):g}s") from None
    return exact.first if exact.count() else loose.first
