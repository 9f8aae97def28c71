"""Waiting for a page's load state without paying for a wait that is not needed.

Playwright's client already knows which load states the main frame has reached (the driver sends them as
events), yet `page.wait_for_load_state` always sends three fire-and-forget `__waitInfo__` messages to the
driver, each with a captured call stack: 111 of the 207 messages a Migu website journey sent (109 with this
module). `wait_for_load` makes the client-side check first and waits through Playwright only when the state
has not been reached yet.
"""

from __future__ import annotations

from typing import Literal

from playwright.sync_api import Page

LoadState = Literal["domcontentloaded", "load"]


def reached(page: Page, state: LoadState) -> bool:
    """True when the main frame has reached `state` (as Playwright's own wait would see it); False when
    unknown — a Playwright without the client-side record simply makes the real wait."""
    states = getattr(getattr(page.main_frame, "_impl_obj", None), "_load_states", None)
    return isinstance(states, set) and state in states


def wait_for_load(page: Page, state: LoadState, timeout_ms: float) -> None:
    """`page.wait_for_load_state(state)`, free when the state was already reached; raises as it does."""
    if not reached(page, state):
        page.wait_for_load_state(state, timeout=timeout_ms)
