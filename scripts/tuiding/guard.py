"""The live-site guard: a scenario that reaches a real site really cancels a real subscription, so
nothing leaves this machine unless the user says so (`--live` or `live: true`), and `request` steps
stay on the scenario's own host unless `allow_hosts:` names another.

URLs are parsed as the browser parses them (WHATWG URL, by ada-url): Python's urllib and Chromium disagree on
backslashes, userinfo, numeric and IDN hosts (`http://evil.invalid\\@127.0.0.1/` is 127.0.0.1 to urllib and
evil.invalid to the browser). During a run that is not live, the browser context itself is fenced: its proxy
is a closed port on this machine that every host but this machine's goes through, so a redirect, a script
navigation or a new tab that leaves the machine fails in the browser, and the step loop stops the journey
naming the URL (`LeftTheMachine`). A `goto:` off the machine, and any `file:` URL, is refused before it starts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import ada_url

# Every request of a context that must stay on this machine goes to this proxy — a port nothing listens on —
# except those to this machine: Chromium reads the names and the loopback range, Playwright's own fetch (the
# `request:` step) the names as suffixes.
LOOPBACK_BYPASS = ("localhost", "*.localhost", "127.0.0.1", "127.0.0.1/8", "::1", "[::1]")


def fence(allow_hosts: Iterable[str] = ()) -> dict[str, str]:
    """A browser context's proxy setting that keeps it on this machine (and the hosts `allow_hosts` lists for
    `request:` steps)."""
    return {"server": "http://127.0.0.1:9", "bypass": ",".join([*LOOPBACK_BYPASS, *allow_hosts])}


def fence_route(allow_hosts: Iterable[str] = ()) -> Any:
    """The fence for a browser on another machine (`--connect`), as a route handler for its context.

    There a proxy fence cannot work: its loopback bypass would send this machine's portals to the *remote*
    browser's own loopback, while Playwright's `expose_network` (browser.py) carries the remote browser's
    loopback requests back here. So each request is checked here instead: this machine's (and `allow_hosts`)
    go on, anything else is aborted in the browser before it is sent — the same outcome as the proxy fence,
    one round trip per request (only for remote browsers)."""
    allowed = {h.strip("[]").rstrip(".").lower() for h in allow_hosts}  # as check_request reads them

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or is_local(url) or host_of(url) in allowed:
            route.fallback()
        else:
            route.abort("blockedbyclient")

    return handle


class LiveSiteRefused(Exception):
    """A non-loopback site without permission: one line for the user."""


def parse(url: str, base: str | None = None) -> dict[str, Any] | None:
    """The URL as the browser reads it (joined to `base` when relative); None when it is not a URL at all."""
    try:
        return dict(ada_url.parse_url(ada_url.join_url(base, url) if base else url))
    except ValueError:
        return None


def host_of(url: str, base: str | None = None) -> str:
    parts = parse(url, base)
    return (parts["hostname"] if parts else "").strip("[]").rstrip(".").lower()


def scheme_of(url: str, base: str | None = None) -> str:
    parts = parse(url, base)
    return parts["protocol"].rstrip(":") if parts else ""


def is_local(url: str, base: str | None = None) -> bool:
    """This machine only, over the web: localhost, *.localhost, 127.0.0.0/8 or ::1."""
    if scheme_of(url, base) not in ("http", "https", "ws", "wss"):
        return False
    host = host_of(url, base)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def file_allowed(url: str, folders: Sequence[Path]) -> bool:
    """A `file:` URL inside one of the scenario's `allow_files` folders — after links are resolved, so a link
    in an allowed folder that points elsewhere is not."""
    parts = parse(url)
    if not folders or parts is None or parts["protocol"] != "file:" or parts["hostname"] not in ("", "localhost"):
        return False
    target = Path(unquote(parts["pathname"])).resolve()
    return any(target.is_relative_to(folder.resolve()) for folder in folders)


def refused_navigation(url: str, base: str, live: bool, files: Sequence[Path] = ()) -> str | None:
    """Why a `goto` may not open `url` (None when it may): a file on this machine outside the scenario's
    `allow_files` folders, or a site off it when the run is not live."""
    scheme = scheme_of(url, base)
    if scheme == "file":
        if file_allowed(ada_url.join_url(base, url) if base else url, files):
            return None
        return (
            f"goto {url}: file: URLs are not opened unless the scenario lists their folder in allow_files "
            "(a receipt of a local file would seal it into the run folder)"
        )
    if scheme not in ("http", "https"):
        return f"goto {url}: only http and https pages are opened (got '{scheme or 'no scheme'}')"
    if live or is_local(url, base):
        return None
    return f"goto {url}: {host_of(url, base)} is not this machine; pass --live (or set 'live: true') to leave it"


def check_site(url: str, live: bool, where: str) -> None:
    if scheme_of(url) not in ("http", "https"):
        raise LiveSiteRefused(f"{where}: {url} is not an http(s) site")
    if live or is_local(url):
        return
    raise LiveSiteRefused(
        f"{where}: {host_of(url) or url} is not this machine — a scenario there really cancels a subscription; "
        "pass --live (or set 'live: true' in the scenario) to run it"
    )


def check_request(url: str, base_url: str, allow_hosts: Iterable[str]) -> str | None:
    """Why a `request` step may not reach `url` (None when it may): only the site's own host, or a
    host the scenario lists in allow_hosts — as the browser would parse both."""
    if scheme_of(url, base_url) not in ("http", "https"):
        return f"request to {url} refused: only http and https"
    target = host_of(url, base_url)
    own = host_of(base_url)
    allowed = {own, *(h.strip("[]").rstrip(".").lower() for h in allow_hosts)}
    if target in allowed:
        return None
    return f"request to {target or url} refused: a request step only reaches the site's own host ({own}) unless the scenario lists it in allow_hosts"


class LeftTheMachine:
    """Watches a context's top-level navigations (goto, redirects, script navigations, new tabs); `left` names
    the first that went off this machine in a run that is not live (the fence made it fail in the browser), or
    to a file outside the scenario's `allow_files` folders in any run."""

    def __init__(self, context: Any, *, live: bool = False, files: Sequence[Path] = ()) -> None:
        self.left: str | None = None
        self.live = live  # a live run may go anywhere on the web, but still to no file outside `files`
        self.files = files  # the scenario's allow_files folders: their files may be opened
        context.on("request", self._request)

    def _request(self, request: Any) -> None:
        if self.left is not None or not request.is_navigation_request():
            return
        try:
            top = request.frame.parent_frame is None
        except Exception:  # a new tab's first navigation comes before its frame exists: a top-level one
            top = True
        url = request.url
        if not top or url.startswith(("about:", "data:", "chrome-error:")):
            return
        if url.startswith("file:") and not file_allowed(url, self.files):
            self.left = url
        elif not (url.startswith("file:") or self.live or is_local(url)):
            self.left = url

    @property
    def left_for_a_file(self) -> bool:
        """It went to a file on this machine (no fence stops that in the browser: the page must be left)."""
        return self.left is not None and self.left.startswith("file:")

    def message(self) -> str:
        if self.left_for_a_file:
            return f"the journey opened {self.left} (stopped: only files in the scenario's allow_files folders are opened)"
        return (
            f"the journey left this machine for {self.left} (stopped: the browser is fenced to 127.0.0.1/localhost "
            "unless the run is live; pass --live or set 'live: true' if it should go there)"
        )
