"""The rights check as people read it: inputs gathered (run folders, sign-ups, rule packs, service facts), each
run's checklist in words (console) or JSON, and the exit status of `tuiding check`.

Exit status: 0 every run judged and no rule not met; 1 a rule not met; 2 unreadable input; 3 a run could not be
judged at all (it failed, or no rule that applies could be judged) — unless `--allow-unjudged`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .check import SERVICE_FACTS, Journey, RunVerdict, check_run
from .i18n import gettext_for, language
from .record import RunFolderError, load_manifest
from .rules import RulePack, RulePackInvalid, load_packs, shipped, text_in

EXIT_UNJUDGED = 3
MARK = {"met": "✓", "not met": "✗", "not measurable": "–", "not applicable": "○"}
YES, NO = ("yes", "true", "1", "on"), ("no", "false", "0", "off")


class CheckInputError(Exception):
    """Unusable input for a check: one line."""


def parse_service(text: str | None) -> dict[str, Any]:
    """`--service paid=no,renews=no,signup=online` → facts."""
    facts: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not sep or name not in SERVICE_FACTS:
            raise CheckInputError(
                f"--service: '{part}' is not a fact (expected NAME=VALUE with NAME one of {', '.join(SERVICE_FACTS)})"
            )
        if name == "signup":
            if value not in ("online", "offline"):
                raise CheckInputError(f"--service: signup is online or offline, not '{value}'")
            facts[name] = value
        elif value in YES or value in NO:
            facts[name] = value in YES
        else:
            raise CheckInputError(f"--service: {name} is yes or no, not '{value}'")
    return facts


def journey(path: Path, *, signup: bool = False, lang: str | None = None) -> Journey:
    try:
        return Journey(path, load_manifest(path), signup=signup, lang=lang)
    except (RunFolderError, OSError) as exc:
        raise CheckInputError(f"{path}: {exc}") from None


def packs_for(rules: str | None, runs: Iterable[Journey]) -> list[tuple[str, RulePack]]:
    """--rules, else the packs the runs' services name (`service.jurisdictions`), else every shipped pack."""
    if rules and rules.strip() != "all":
        refs = [r.strip() for r in rules.split(",") if r.strip()]
        if not refs:
            raise CheckInputError("--rules: no rule pack named")
    elif rules is None:
        named = [str(j) for run in runs for j in (run.manifest.service or {}).get("jurisdictions") or []]
        refs = list(dict.fromkeys(named)) or list(shipped())
    else:
        refs = list(shipped())
    try:
        return load_packs(refs)
    except RulePackInvalid as exc:
        raise CheckInputError(str(exc)) from None


@dataclass
class Checklists:
    verdicts: list[RunVerdict]
    packs: list[tuple[str, RulePack]]

    def exit_code(self, allow_unjudged: bool) -> int:
        if any(v.failed for v in self.verdicts):
            return 1
        if not allow_unjudged and any(v.not_judged or not v.judged for v in self.verdicts):
            return EXIT_UNJUDGED
        return 0


def run_checks(
    run_dirs: Iterable[Path], signup_dirs: Iterable[Path], rules: str | None, service: str | None, lang: str | None = None
) -> Checklists:
    """Every run judged against the packs (and its site's sign-up), in `lang` (default: each run's own)."""
    chosen = packs_for(rules, []) if rules is not None else None  # a bad --rules is said before any folder is read
    runs = [journey(p, lang=lang) for p in run_dirs]
    signups = [journey(p, signup=True, lang=lang) for p in signup_dirs]
    packs = chosen if chosen is not None else packs_for(rules, runs)
    facts = parse_service(service)
    return Checklists([check_run(run, packs, signups, facts) for run in runs], packs)


def as_json(v: RunVerdict) -> str:
    return json.dumps(
        {
            "run_dir": str(v.journey.dir), "signup": str(v.signup.dir) if v.signup else None, "judged": v.not_judged is None,
            "not_judged": v.not_judged, "signup_note": v.signup_note, "results": [j.model_dump() for j in v.results],
        },
        ensure_ascii=False,
    )  # fmt: skip


def as_text(v: RunVerdict, packs: list[tuple[str, RulePack]], lang: str | None = None) -> list[str]:
    """A run's checklist in words, in the run's language unless `lang` says otherwise."""
    run = v.journey
    lang = lang or run.lang
    _ = gettext_for(lang)
    head = f"{run.manifest.scenario.name} · {run.dir}"
    if v.signup is not None:
        head += "  (" + _("sign-up: {run}").format(run=v.signup.dir) + ")"
    if v.not_judged is not None:
        return [f"{head} · {v.not_judged}"]
    lines = [head]
    if v.signup_note:
        lines.append(f"  {v.signup_note}")
    width = max((len(j.rule) for j in v.results), default=10)
    for j in v.results:
        where = (" · " + _("step {n}").format(n=j.step) + (f" {j.screenshot}" if j.screenshot else "")) if j.step else ""
        upcoming = "  [" + _("not in force yet") + "]" if j.upcoming else ""
        lines.append(f"  {MARK[j.verdict]} {j.rule:<{width}}  {j.title}: {_(j.verdict)} — {j.measured}{where}{upcoming}")
    counts = {k: sum(j.verdict == k for j in v.results) for k in MARK}
    lines.append("  " + _("{met} met, {not_met} not met, {unmeasured} not measurable, {na} not applicable").format(
        met=counts["met"], not_met=counts["not met"], unmeasured=counts["not measurable"], na=counts["not applicable"]
    ))  # fmt: skip
    if not v.judged:
        lines.append("  " + _("nothing could be judged: no rule that applies to this service and journey could be measured"))
    judged_packs = {j.pack for j in v.results if j.verdict in ("met", "not met")}
    for name, pack in packs:
        for ref in pack.references if name in judged_packs else []:
            lines.append("  " + _("reference ({pack}): {ref} — this journey: {pages} pages, {clicks} clicks to the end").format(
                pack=text_in(pack.name, lang), ref=ref, pages=run.count("pages"), clicks=run.count("clicks")
            ))  # fmt: skip
    return lines


def unjudged_line(lists: Checklists, lang: str | None = None) -> str | None:
    """The one line `check` prints when it exits 3."""
    bad = [v for v in lists.verdicts if v.not_judged or not v.judged]
    if not bad:
        return None
    _ = gettext_for(lang or bad[0].journey.lang)
    return _("{n} of {total} run(s) could not be judged (see above); pass --allow-unjudged to accept that").format(
        n=len(bad), total=len(lists.verdicts)
    )


def scenario_lang(locale: str | None, override: str | None) -> str:
    return language(override or locale)
