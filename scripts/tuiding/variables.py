"""`${…}` references: parsing (for validation) and substitution (at run time).

Forms: ${name}, ${env:NAME}, ${env:NAME:-default}, ${run.id}, ${now:%Y-%m-%d}, ${now+7d:%Y-%m-%d}.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

REF = re.compile(r"\$\{([^}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
BUILTINS = ("run.id", "run.dir", "mailbox.host", "mailbox.port", "mailbox.smtp", "mailbox.folder")
NOW = re.compile(r"^now(?P<shift>(?:[+-]\d{1,6}[wdhms])*)(?::(?P<format>.*))?$", re.S)
SHIFT = re.compile(r"([+-])(\d+)([wdhms])")
UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
DEFAULT_NOW_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Ref:
    raw: str  # the text between ${ and }
    kind: str  # "var" | "env" | "builtin" | "now"
    name: str  # variable name, env name, builtin name or strftime format
    default: str | None = None


class RefError(ValueError):
    pass


def parse_ref(raw: str) -> Ref:
    if m := ENV.match(raw):
        return Ref(raw, "env", m.group(1), m.group(2))
    if m := NOW.match(raw):
        # ${now}, ${now:FORMAT}, ${now+7d}, ${now-2h30m:FORMAT} (w d h m s): the shift travels in `default`
        return Ref(raw, "now", m.group("format") or DEFAULT_NOW_FORMAT, m.group("shift") or None)
    if re.match(r"^now[+-]", raw):
        raise RefError(
            f"'${{{raw}}}' is not a valid date reference (expected e.g. ${{now+7d:%Y-%m-%d}} or ${{now-1d-12h}}; units w d h m s)"
        )
    if raw in BUILTINS:
        return Ref(raw, "builtin", raw)
    if raw.startswith("env:"):
        raise RefError(f"'${{{raw}}}' is not a valid environment reference (expected ${{env:NAME}} or ${{env:NAME:-default}})")
    if raw.startswith(("run.", "mailbox.")):
        raise RefError(f"unknown built-in variable '{raw}' (expected one of: {', '.join(BUILTINS)})")
    if NAME.match(raw):
        return Ref(raw, "var", raw)
    raise RefError(
        f"'${{{raw}}}' is not a valid variable reference (expected ${{name}}, ${{env:NAME}}, ${{run.id}} or ${{now:FORMAT}})"
    )


def refs_in(value: Any) -> list[Ref]:
    """Every reference in a string or nested structure (errors for malformed ones)."""
    found: list[Ref] = []
    if isinstance(value, str):
        found += [parse_ref(m.group(1)) for m in REF.finditer(value)]
    elif isinstance(value, dict):
        for k, v in value.items():
            found += refs_in(k) + refs_in(v)
    elif isinstance(value, list):
        for v in value:
            found += refs_in(v)
    return found


class UnresolvedVariable(LookupError):
    pass


@dataclass
class Context:
    """What `${…}` resolves against during a run."""

    vars: Mapping[str, Any]
    builtins: Mapping[str, str]
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    tz: str = "Asia/Shanghai"
    now: Callable[[], datetime] | None = None  # the site's clock (an embedded portal's, the browser's); else the wall clock

    def resolve_ref(self, ref: Ref) -> str:
        if ref.kind == "var":
            if ref.name not in self.vars:
                raise UnresolvedVariable(f"variable '{ref.name}' has no value yet")
            return str(self.vars[ref.name])
        if ref.kind == "env":
            if ref.name in self.env:
                return self.env[ref.name]
            if ref.default is not None:
                return ref.default
            raise UnresolvedVariable(
                f"environment variable {ref.name} is not set and has no default (write ${{env:{ref.name}:-default}})"
            )
        if ref.kind == "now":
            seconds = sum(
                (1 if sign == "+" else -1) * int(n) * UNIT_SECONDS[unit] for sign, n, unit in SHIFT.findall(ref.default or "")
            )
            zone = ZoneInfo(self.tz)
            now = self.now().astimezone(zone) if self.now is not None else datetime.now(zone)
            return (now + timedelta(seconds=seconds)).strftime(ref.name)
        if ref.name not in self.builtins:
            what = "an SMTP sink (mailbox: smtp)" if ref.name != "mailbox.folder" else "a folder (mailbox: {folder: …})"
            raise UnresolvedVariable(f"${{{ref.name}}} needs the scenario's mailbox to be {what}")
        return str(self.builtins[ref.name])

    def substitute(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = REF.fullmatch(value)
            if whole:  # keep the type of a lone reference to a non-string var (numbers, bools)
                ref = parse_ref(whole.group(1))
                if ref.kind == "var" and ref.name in self.vars and not isinstance(self.vars[ref.name], str):
                    return self.vars[ref.name]
            return REF.sub(lambda m: self.resolve_ref(parse_ref(m.group(1))), value)
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value
