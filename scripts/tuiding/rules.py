"""Rule packs: what a jurisdiction asks of a cancellation, as data a user can write (`--rules my_pack.yaml`).

A pack is a YAML file validated like a scenario (unknown keys, wrong types and bad patterns are reported as
`file:line:col` with the closest valid word) and published as a JSON Schema (`tuiding schema rules`). Each rule
names one `check` from a small table (check.py judges them), its parameters, the provision it reads
(`source`), and when it applies (`applies_if`: what the service must be; `channels`: which journeys). Titles
and text patterns are given per language (zh, en, de …), so a run is read with the patterns of its language.

The shipped packs live in data/rules/<name>.yaml; `tuiding check --rules de,us-ny,./mine.yaml` mixes them.
"""

from __future__ import annotations

import datetime as _dt
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError

from . import model as M
from .problems import Problem, problems_from
from .source import SourceError
from .source import load as load_source

Compared = Literal["clicks", "pages", "verifications", "inputs"]
MaxedMetric = Literal["retention_pages", "preticked", "verifications", "clicks", "pages", "emails"]


def _shape(v: Any) -> str | None:
    """One value for every language, or a mapping per language (validated as what it is, so errors say why)."""
    if isinstance(v, dict):
        return "@per-language"
    return "@all" if isinstance(v, (str, list)) else None


LangText = Annotated[
    Union[
        Annotated[str, Tag("@all")], Annotated[dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], str], Tag("@per-language")]
    ],
    Discriminator(_shape, custom_error_type="lang_text", custom_error_message="expected a text, or {en: …, zh: …, de: …}"),
    Field(description="one text, or one per language: {en: …, zh: …, de: …}"),
]
LangPatterns = Annotated[
    Union[
        Annotated[list[M.Regex], Tag("@all")],
        Annotated[dict[Annotated[str, Field(pattern=r"^([a-z]{2,3}|any)$")], list[M.Regex]], Tag("@per-language")],
    ],
    Discriminator(
        _shape, custom_error_type="lang_patterns", custom_error_message="expected a list of patterns, or {en: […], de: […]}"
    ),
    Field(description="regular expressions (case-insensitive), for every language or per language: {en: […], de: […]}"),
]


class AppliesIf(M.Strict):
    """What the service must be for a rule to apply (the scenario's `service:` or `check --service`); a fact
    nobody stated does not stop a rule."""

    paid: bool | None = Field(None, description="the service is paid for")
    renews: bool | None = Field(None, description="it renews or continues automatically")
    contract: bool | None = Field(None, description="it is a contract for a continuing obligation")
    consent: bool | None = Field(None, description="cancelling withdraws a consent (e.g. to marketing e-mails)")
    signup: Literal["online", "offline"] | None = Field(None, description="where users sign up")


class _RuleBase(M.Strict):
    UNKNOWN_SCOPE = "mapping"

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] = Field(
        description="unique in the pack: letters, digits, `_ . -`"
    )
    title: LangText = Field(description="what the rule asks, in words (per language)")
    source: LangText = Field(description="the provision the rule reads, as it is cited (per language where it differs)")
    channels: list[str] = Field([], description="scenario tags the rule applies to (e.g. [web, app]); empty: every journey")
    applies_if: AppliesIf | None = Field(None, description="what the service must be for this rule to apply")


class EntryClicks(_RuleBase):
    """Clicks from the account pages (after signing in) to the unsubscribe entry, at most `max`."""

    check: Literal["entry_clicks"]
    max: int = Field(ge=0, description="the most clicks allowed")


class ConfirmLabel(_RuleBase):
    """The click that sent the cancellation is labelled so (one of `patterns`)."""

    check: Literal["confirm_label"]
    patterns: LangPatterns


class Receipt(_RuleBase):
    """A page (or e-mail) at the end with a reference number and a date-time."""

    check: Literal["receipt"]


class MaxMetric(_RuleBase):
    """A friction count up to the end of the cancellation, at most `max`."""

    check: Literal["max_metric"]
    metric: MaxedMetric = Field(description="which count")
    max: int = Field(ge=0, description="its maximum")


class NotHarderThanSignup(_RuleBase):
    """Each of `metrics` no more than the sign-up journey's (of the same site)."""

    check: Literal["not_harder_than_signup"]
    metrics: list[Compared] = Field(min_length=1, description="the counts compared")


class SignupShows(_RuleBase):
    """The sign-up journey showed one of `patterns` before its last click."""

    check: Literal["signup_shows"]
    patterns: LangPatterns


class OnlineCancel(_RuleBase):
    """Signed up online, cancelled online: a page that sends the user elsewhere (`patterns`) fails it."""

    check: Literal["online_cancel"]
    patterns: LangPatterns = Field(description="text that sends the user elsewhere, e.g. 请致电, call us to cancel")


class AskItem(M.Strict):
    """One item a confirmation page must name: its name in words, and the patterns that show it."""

    UNKNOWN_SCOPE = "mapping"

    label: LangText = Field(description="the item's name in the checklist (per language)")
    patterns: LangPatterns


class ConfirmPageAsks(_RuleBase):
    """The page the confirming click is made on names every item (e.g. §312k: kind, identity, contract, end date)."""

    check: Literal["confirm_page_asks"]
    asks: dict[str, AskItem | LangPatterns] = Field(
        min_length=1, description="item → {label, patterns}, or just its patterns (any of which shows the item)"
    )


class ReceiptOffers(_RuleBase):
    """The receipt page offers a way to keep it (print, download, save)."""

    check: Literal["receipt_offers"]
    patterns: LangPatterns


class RetentionWayOut(_RuleBase):
    """On every retention page, the way to keep cancelling is at least `min` as prominent as the page's largest control."""

    check: Literal["retention_way_out"]
    min: float = Field(gt=0, le=1, description="area of the keep-cancelling control / area of the largest control")


class EndNotice(_RuleBase):
    """After the cancellation was sent, an e-mail (a durable medium) confirmed it with a date."""

    check: Literal["end_notice"]
    patterns: LangPatterns = Field(description="what the notice must say besides a date, e.g. unsubscribed, cancelled")


class NotMeasurable(_RuleBase):
    """A rule a journey cannot show (a reminder before renewal): said so, with why."""

    check: Literal["not_measurable"]
    why: LangText = Field(description="why a journey cannot show it, and what can (per language)")


Rule = Annotated[
    Union[
        EntryClicks, ConfirmLabel, Receipt, MaxMetric, NotHarderThanSignup, SignupShows, OnlineCancel, ConfirmPageAsks,
        ReceiptOffers, RetentionWayOut, EndNotice, NotMeasurable,
    ],
    Field(discriminator="check"),
]  # fmt: skip


class RulePack(M.Strict):
    """A rule pack: one jurisdiction's (or one team's) rules for cancelling."""

    UNKNOWN_SCOPE = "mapping"

    name: LangText
    jurisdiction: str | None = Field(None, description="where it applies, e.g. DE, US-NY, GB, CN")
    in_force: _dt.date | None = Field(None, description="the day the provisions apply from")
    upcoming: str | None = Field(
        None, description="not in force yet, and why: its rules are judged and shown, but a rule not met does not fail `check`"
    )
    applies_if: AppliesIf | None = Field(None, description="what the service must be for any rule of the pack to apply")
    rules: list[Rule] = Field(min_length=1, description="the rules, each with one `check` (below)")
    references: list[str] = Field(
        [], description="cases to compare a journey with, printed under the checklist (e.g. FTC v. Amazon)"
    )


RULE_PACK = TypeAdapter(RulePack)
SHIPPED_DIR = "data/rules"


class RulePackInvalid(Exception):
    """A pack cannot be used: each problem is `file:line:col: message` (a Problem), or a line of its own."""

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        self.lines = [str(p) for p in problems]
        super().__init__("\n".join(self.lines))


@cache
def shipped() -> tuple[str, ...]:
    """The names of the packs tuiding ships, in a stable order."""
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in files("tuiding").joinpath(SHIPPED_DIR).iterdir() if p.name.endswith(".yaml"))
    )


def pack_path(ref: str, base: Path | None = None) -> Path:
    """A pack reference: a shipped name (de) or a .yaml file (relative to `base`, e.g. the scenario's folder)."""
    if ref in shipped():
        return Path(str(files("tuiding").joinpath(SHIPPED_DIR, f"{ref}.yaml")))
    path = Path(ref).expanduser()
    return path if path.is_absolute() or base is None else base / path


def load_pack(ref: str, base: Path | None = None) -> tuple[str, RulePack]:
    """(name, pack) for a reference; RulePackInvalid listing every problem, each with file:line:col."""
    if ref not in shipped() and not ref.endswith((".yaml", ".yml")):
        raise RulePackInvalid([unknown_pack(ref)])
    path = pack_path(ref, base)
    try:
        doc = load_source(path)
    except SourceError as exc:
        raise RulePackInvalid([Problem(exc.file, exc.pos.line, exc.pos.col, exc.message)]) from None
    if not isinstance(doc.data, dict):
        raise RulePackInvalid([Problem(path, 1, 1, "expected a rule pack: a mapping with 'name' and 'rules'")])
    try:
        pack = RULE_PACK.validate_python(doc.data)
    except ValidationError as exc:
        raise RulePackInvalid(problems_from(exc, doc)) from None
    ids = [r.id for r in pack.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        second = [i for i, x in enumerate(ids) if x == dupes[0]][1]
        pos = doc.pos(("rules", second, "id"))
        raise RulePackInvalid([Problem(path, pos.line, pos.col, f"duplicate rule id '{dupes[0]}'")])
    return (ref if ref in shipped() else path.stem), pack


def unknown_pack(ref: str) -> str:
    return f"unknown rule pack '{ref}' (shipped: {', '.join(shipped())}; or a .yaml file of your own){M.hint(ref, shipped())}"


def load_packs(refs: list[str], base: Path | None = None) -> list[tuple[str, RulePack]]:
    problems: list[str] = []
    out = []
    for ref in dict.fromkeys(refs):
        try:
            out.append(load_pack(ref, base))
        except RulePackInvalid as exc:
            problems += exc.lines
    if problems:
        raise RulePackInvalid(problems)
    return out


def text_in(value: str | dict[str, str], lang: str) -> str:
    """A per-language text in `lang`, else English, else the first one given."""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get("en") or next(iter(value.values()), "")


def patterns_in(value: list[str] | dict[str, list[str]], lang: str) -> list[str]:
    """The patterns for a page in `lang`: the language's own plus language-free ones (`any`); every language's
    when the pack has none for it."""
    if isinstance(value, list):
        return value
    own = value.get(lang)
    if own is None:
        return [p for patterns in value.values() for p in patterns]
    return [*own, *value.get("any", [])]


def item_label(name: str, spec: Any, lang: str) -> str:
    return text_in(spec.label, lang) if isinstance(spec, AskItem) else name


def item_patterns(spec: Any) -> Any:
    return spec.patterns if isinstance(spec, AskItem) else spec


def schema() -> dict[str, Any]:
    return RULE_PACK.json_schema()
