"""The table of portals: name → blueprint, schema and seed data."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import Callable
import sqlite3

from flask import Blueprint


@dataclass(frozen=True)
class PortalSpec:
    name: str
    title: str
    blueprint: Blueprint
    schema: str
    seed: Callable[[sqlite3.Connection, "object"], None]


def _migu() -> PortalSpec:
    from .migu import bp, schema, seed
    return PortalSpec("migu", "咪咕会员", bp, schema.SQL, seed.seed)


_FACTORIES: dict[str, Callable[[], PortalSpec]] = {"migu": _migu}
PORTALS: tuple[str, ...] = tuple(_FACTORIES)


class UnknownPortal(ValueError):
    pass


def get_portal(name: str) -> PortalSpec:
    try:
        return _FACTORIES[name]()
    except KeyError:
        close = get_close_matches(name, PORTALS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownPortal(f"unknown portal '{name}' (expected one of: {', '.join(PORTALS)}){hint}") from None
