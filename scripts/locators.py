"""Target spec → Playwright locator."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from .args import Target


def locate(page: Page, spec: str | Target, timeout_ms: float = 0) -> Locator:
    """A string means: a button or link with that accessible name, else an element with exactly that text.

    The button/link wins even when a heading with the same words comes first in the page
    (a "重置密码" title above a "重置密码" button), so we wait for either, then prefer the control.
    """
    if isinstance(spec, str):
        exact = re.compile(rf"^\s*{re.escape(spec)}\s*$")
        by_role = page.get_by_role("button", name=exact).or_(page.get_by_role("link", name=exact))
        by_text = page.get_by_text(spec, exact=True)
        if timeout_ms:
            try:
                by_role.or_(by_text).first.wait_for(state="attached", timeout=timeout_ms)
            except Exception:  # nothing matches: the action itself reports the timeout
                return by_role.or_(by_text).first
        return by_role.first if by_role.count() else by_text.first
    loc = _locate_map(page, spec)
    if spec.nth is not None:
        return loc.nth(spec.nth)
    return loc


def _locate_map(page: Page, t: Target) -> Locator:
    if t.role is not None:
        return page.get_by_role(t.role, name=t.name, exact=t.exact) if t.name is not None else page.get_by_role(t.role)  # type: ignore[arg-type]
    if t.label is not None:
        return page.get_by_label(t.label, exact=t.exact)
    if t.text is not None:
        return page.get_by_text(t.text, exact=t.exact)
    if t.placeholder is not None:
        return page.get_by_placeholder(t.placeholder, exact=t.exact)
    if t.testid is not None:
        return page.get_by_test_id(t.testid)
    return page.locator(t.css or "")


def visible_text(page: Page, spec: str | Target) -> Locator:
    """For see/not_see: a string is any visible element containing that text."""
    if isinstance(spec, str):
        return page.get_by_text(spec).filter(visible=True).first
    return locate(page, spec)


def field(page: Page, label: str) -> Locator:
    """fill's `label: value` map: the form control labelled so, else with that placeholder."""
    return page.get_by_label(label, exact=True).or_(page.get_by_placeholder(label, exact=True)).first
