"""The live-site guard: a scenario that reaches a real site really cancels a real subscription, so
nothing leaves this machine unless the user says so (`--live` or `live: true`), and `request` steps
stay on the scenario's own host unless `allow_hosts:` names another."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit


class LiveSiteRefused(Exception):
    """A non-loopback site without permission: one line for the user."""


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_local(url: str) -> bool:
    """This machine only: localhost, 127.0.0.0/8 or ::1 (the embedded portals and `tuiding serve`)."""
    host = host_of(url)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_site(url: str, live: bool, where: str) -> None:
    if live or is_local(url):
        return
    raise LiveSiteRefused(
        f"{where}: {host_of(url) or url} is not this machine — a scenario there really cancels a subscription; "
        "pass --live (or set 'live: true' in the scenario) to run it"
    )


def check_request(url: str, base_url: str, allow_hosts: Iterable[str]) -> str | None:
    """Why a `request` step may not reach `url` (None when it may): only the site's own host, or a
    host the scenario lists in allow_hosts."""
    target = host_of(urljoin(base_url, url))
    own = host_of(base_url)
    allowed = {own, *(h.lower() for h in allow_hosts)}
    if target in allowed:
        return None
    return f"request to {target or url} refused: a request step only reaches the site's own host ({own}) unless the scenario lists it in allow_hosts"
