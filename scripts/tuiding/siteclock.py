"""What "now" is for `${now…}`: the site's clock where the runner knows it.

- an embedded portal runs its own clock (frozen at 2026-11-20 10:00 Beijing time, moved by the test API):
  its `GET /__mock__/clock` answers `{"now": ISO 8601}` and is asked each time a `${now…}` is resolved, so a
  step after `/__mock__/clock/advance` sees the new date;
- a scenario with `clock:` installs Playwright's clock in the browser at that instant: the page's
  `Date.now()` is asked;
- anything else: the wall clock.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from playwright.sync_api import Error as PlaywrightError

from .variables import UnresolvedVariable

ClockSource = Literal["wall", "portal", "browser"]


class ClockUnavailable(UnresolvedVariable):
    """The site's clock did not answer; the message names it."""


def portal_clock(base_url: str) -> Callable[[], datetime]:
    """The embedded portal's "now", asked over loopback each time."""
    url = base_url.rstrip("/") + "/__mock__/clock"

    def now() -> datetime:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                data = json.loads(resp.read(65536).decode("utf-8"))
            return datetime.fromisoformat(str(data["now"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClockUnavailable(f"the portal's clock ({url}) did not answer: {exc}") from None

    return now


def has_portal_clock(base_url: str) -> bool:
    """Whether the portal exposes its clock (every tuiding portal does; a third-party one may not)."""
    try:
        portal_clock(base_url)()
        return True
    except ClockUnavailable:
        return False


def browser_clock(page: Any) -> Callable[[], datetime]:
    """The page's Date.now() (Playwright's clock, installed by the scenario's `clock:`)."""

    def now() -> datetime:
        try:
            ms = float(page.evaluate("() => Date.now()"))
        except PlaywrightError as exc:
            raise ClockUnavailable(f"the browser's clock did not answer: {exc}") from None
        return datetime.fromtimestamp(ms / 1000).astimezone()

    return now
