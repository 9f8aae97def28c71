"""Selenium Grid 4 as the browser backend (`--grid URL`, or SELENIUM_REMOTE_URL as Playwright reads it).

Playwright launches Chromium on a Grid itself when SELENIUM_REMOTE_URL is set in its driver's environment (its
documented, experimental Selenium support: Chromium only). tuiding adds what a suite needs on a shared Grid:
one browser — one Grid session, one slot — per concurrent journey, `-j` sized by the slots free when the run
starts, each run's manifest naming the Grid, the node and the session, and a launch that waited in the Grid's
queue too long cleaned up after (else the session it was queued for would hold a slot until the Grid's own
session timeout). The Grid's queueing, node choice and scaling stay the Grid's: tuiding balances nothing here.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

BROWSER_NAMES = ("chrome", "chromium", "MicrosoftEdge")  # what Playwright's Chromium can drive on a Grid
TAG = "tuiding:run"  # an extension capability naming this process's sessions (the Grid keeps it with the session)


class GridError(RuntimeError):
    """The Grid cannot be asked or gives no browser; one line."""


@dataclass
class GridSession:
    """A browser this run holds on the Grid."""

    browser: Any
    session_id: str = ""
    node: str = ""
    open_contexts: int = 0  # ours (a browser on a Grid also lists the default context it was started with)

    def reserve(self) -> GridSession:
        """Counted as busy from the moment it is chosen (creating the context yields to other journeys)."""
        self.open_contexts += 1
        return self

    def opened(self, context: Any) -> Any:
        context.on("close", lambda _context: self.closed())
        return context

    def closed(self) -> None:
        self.open_contexts -= 1


@dataclass
class Grid:
    url: str
    timeout_s: float = 10.0
    sessions: list[GridSession] = field(default_factory=list)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)
    timed_out: bool = False  # a launch gave up while queued: its session may still start later (see close)

    def environment(self) -> None:
        """What Playwright's driver reads when it launches (set before it starts): the Grid, and our tag as the one
        extra capability (goog:chromeOptions must not go there: Playwright would merge it over its own flags)."""
        os.environ["SELENIUM_REMOTE_URL"] = self.url
        extra = json.loads(os.environ.get("SELENIUM_REMOTE_CAPABILITIES") or "{}")
        os.environ["SELENIUM_REMOTE_CAPABILITIES"] = json.dumps({**extra, TAG: self.tag})

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=self.timeout_s) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GridError(f"the Selenium Grid at {self.url} does not answer: {reason}") from None

    def status(self) -> dict[str, Any]:
        value = self._get("/status").get("value", {})
        if not isinstance(value, dict):
            raise GridError(f"{self.url}/status is not a Selenium Grid 4 status")
        return value

    def slots(self) -> list[dict[str, Any]]:
        """The Chromium slots of the nodes that are up: each with its node's URI."""
        found = []
        for node in self.status().get("nodes", []):
            if node.get("availability") != "UP":
                continue
            for slot in node.get("slots", []):
                if slot.get("stereotype", {}).get("browserName") in BROWSER_NAMES:
                    found.append({**slot, "node": node.get("uri", "")})
        return found

    def free_slots(self) -> int:
        return sum(1 for s in self.slots() if not s.get("session"))

    def session_nodes(self) -> dict[str, str]:
        """The sessions this process started (tagged), each with the node it runs on."""
        return {
            s["session"]["sessionId"]: s["node"]
            for s in self.slots()
            if s.get("session") and s["session"].get("capabilities", {}).get(TAG) == self.tag
        }

    def delete_session(self, session_id: str) -> None:
        request = urllib.request.Request(f"{self.url.rstrip('/')}/session/{session_id}", method="DELETE")
        try:
            urllib.request.urlopen(request, timeout=self.timeout_s).close()
        except (urllib.error.URLError, OSError):
            pass  # gone already: what was wanted

    def launched(self, browser: Any) -> GridSession:
        """The browser just launched, with the session and node the Grid gave it (ours, and held by no other browser:
        launches are one at a time)."""
        try:
            new = {k: v for k, v in self.session_nodes().items() if k not in self.known()}
        except GridError:
            new = {}
        session_id, node = next(iter(new.items()), ("", ""))
        held = GridSession(browser, session_id, node)
        self.sessions.append(held)
        return held

    def known(self) -> set[str]:
        return {s.session_id for s in self.sessions if s.session_id}

    def clean_up_after_timeout(self, settle_s: float = 3.0) -> list[str]:
        """A launch gave up while queued: the Grid may still start the session it queued, which nobody would use
        and which would hold a slot until the Grid's session timeout. Sessions of ours that no browser holds are
        deleted as they appear, for a few seconds (nobody else's: they do not carry our tag)."""
        self.timed_out = True
        deleted: list[str] = []
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            try:
                orphans = [k for k in self.session_nodes() if k not in self.known() and k not in deleted]
            except GridError:
                break
            for session_id in orphans:
                self.delete_session(session_id)
                deleted.append(session_id)
            time.sleep(0.5)
        return deleted

    def describe(self, held: GridSession, version: str) -> str:
        where = f" (node {held.node}, session {held.session_id})" if held.session_id else ""
        return f"chromium {version} via Selenium Grid {self.url}{where}"
