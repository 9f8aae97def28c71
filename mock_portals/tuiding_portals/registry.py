"""The table of portals: name → blueprint, schema and seed data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import get_close_matches
from importlib import resources

from flask import Blueprint

from .clock import PortalClock


@dataclass(frozen=True)
class Setting:
    """A knob QA can turn through /__mock__/settings (e.g. a UX variant)."""

    default: str
    choices: tuple[str, ...] = ()  # empty: any value `check` accepts
    check: Callable[[str], bool] = lambda v: True
    help: str = ""

    def problem(self, value: str) -> str | None:
        if self.choices and value not in self.choices:
            return f"expected one of {', '.join(self.choices)}"
        return None if self.check(value) else self.help


class SettingError(ValueError):
    """An unknown setting or a bad value; the message is one line."""


@dataclass(frozen=True)
class PortalSpec:
    name: str
    title: str
    blueprint: Blueprint
    schema: str
    seed: Callable[[sqlite3.Connection, PortalClock], None]
    settings: dict[str, Setting] = field(default_factory=dict)

    def setting_problem(self, name: str, value: str) -> str | None:
        if name not in self.settings:
            return f"unknown setting (expected one of: {', '.join(self.settings) or 'none'})"
        return self.settings[name].problem(value)


def _mail_setting() -> Setting:
    from .mail import smtp_address_ok

    return Setting(
        "", check=smtp_address_ok, help="expected host:port on this machine (e.g. 127.0.0.1:2525), or empty for the outbox only"
    )


def _schema(portal: str) -> str:
    """The portal's tables, kept as a .sql resource beside its blueprint (as Flask's tutorial app does)."""
    return resources.files("tuiding_portals").joinpath(portal, "schema.sql").read_text(encoding="utf-8")


def _migu() -> PortalSpec:
    from .migu import bp, seed

    return PortalSpec(
        "migu",
        "咪咕会员",
        bp,
        _schema("migu"),
        seed.seed,
        {
            "variant": Setting(
                "standard",
                ("standard", "retention", "hidden_entry", "confirmshaming", "no_receipt", "preticked", "phone_only"),
                help="standard flow, or a variant that misbehaves on purpose (docs/portals/testing.md)",
            ),
            "button_order": Setting(
                "standard", ("standard", "swapped"), help="swapped: 确认退订 and 我再想想 change places (a moved button)"
            ),
            "mail_smtp": _mail_setting(),
        },
    )


def _cloudpc() -> PortalSpec:
    from .cloudpc import bp, seed

    return PortalSpec(
        "cloudpc",
        "移动云电脑软件版",
        bp,
        _schema("cloudpc"),
        seed.seed,
        {
            "variant": Setting(
                "standard",
                ("standard", "one_click", "retention", "forced_reason"),
                help="standard flow, the 一键退订 variant, or one that misbehaves on purpose",
            ),
            "processing_hours": Setting(
                "24",
                check=lambda v: v.replace(".", "", 1).isdigit() and 0 <= float(v) <= 720,
                help="expected a number of hours from 0 to 720",
            ),
            "mail_smtp": _mail_setting(),
        },
    )


_FACTORIES: dict[str, Callable[[], PortalSpec]] = {"migu": _migu, "cloudpc": _cloudpc}
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
