"""What a caller does after a run: the report, the walkthrough it asked for, then the seal.

Kept out of the runner so a run's artefacts are written by its caller (CLI, pytest plugin, embedding code),
and so a Ctrl-C during the run still ends in a reported, sealed folder. Everything written here comes
before the seal, so `tuiding verify` covers it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .receipts import seal
from .record import Manifest, load_manifest
from .report.html import write_report


def finish(
    run_dir: Path,
    *,
    key: object | None = None,
    walkthrough: tuple[str, ...] = (),
    lang: str = "zh",
    browser: Any = None,
    rules: tuple[str, ...] = (),
) -> Manifest:
    """Write check.json (the scenario's `check:` rules, judged), report.html (and walkthrough/ in the formats
    asked for; `browser` prints the PDF), then seal the folder."""
    if rules:
        write_checks(run_dir, rules)
    write_report(run_dir)
    if walkthrough:
        from .report.walkthrough import build, guide_from_runs

        build(guide_from_runs([run_dir], lang=lang), run_dir / "walkthrough", walkthrough, browser=browser)
    return seal(run_dir, load_manifest(run_dir), key=key)


def write_checks(run_dir: Path, locales: tuple[str, ...]) -> Path:
    """The rights checklist of this run alone (no sign-up journey to compare with: those rules say so)."""
    import json

    from .check import Journey, judge, load_rules
    from .receipts import atomic_write

    results = judge(Journey(run_dir, load_manifest(run_dir)), load_rules(list(locales)))
    path = run_dir / "check.json"
    atomic_write(path, json.dumps([j.model_dump() for j in results], ensure_ascii=False, indent=1) + "\n")
    return path
