"""Embedded portals, known to the runner only by name and one interface.

A portal package announces itself in the entry-point group `tuiding.portals`:

    [project.entry-points."tuiding.portals"]
    migu = "tuiding_portals.server:migu"

The object is a callable `provider(**settings) -> ContextManager[str]` that starts a fresh
portal (own state, own port) and yields its base URL. The runner never imports a portal
package itself, so `tuiding validate` and `tuiding run --base-url …` need no Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUP = "tuiding.portals"
PortalProvider = Callable[..., AbstractContextManager[str]]


class PortalUnavailable(RuntimeError):
    """The portal is unknown, or its package cannot be loaded (the message is one line a user can act on)."""


@cache
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def portal_names() -> tuple[str, ...]:
    """Names of the installed portals (metadata only: nothing is imported)."""
    return tuple(_entry_points())


def get_provider(name: str, extra: Mapping[str, PortalProvider] | None = None) -> PortalProvider:
    """The provider for `name`: one passed in by the caller (tests, embedding code), else an installed one."""
    if extra and name in extra:
        return extra[name]
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join(list(extra or {}) + list(portal_names())) or "none installed"
        raise PortalUnavailable(f"unknown portal '{name}' (installed: {known})")
    try:
        provider: PortalProvider = ep.load()
    except ImportError as exc:
        raise PortalUnavailable(
            f"portal '{name}' cannot be loaded ({exc}); the mock portals need: pip install 'tuiding[portals]'"
        ) from None
    return provider
