"""What a caller does after a run: the scenario's own rights check, the report, the walkthrough it asked for,
then the seal.

Kept out of the runner so a run's artefacts are written by its caller (CLI, pytest plugin, embedding code),
and so a Ctrl-C during the run still ends in a reported, sealed folder. Everything written here comes
before the seal, so `tuiding verify` covers it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .receipts import MANIFEST, atomic_write, disk_refused, manifest_json, seal
from .record import Failure, Manifest, RunFolderError, load_manifest
from .report.html import write_report

if TYPE_CHECKING:
    from .check import RunVerdict
    from .results import RunResult
    from .scenario import Scenario

CHECK_FILE = "check.json"


def finish(
    run_dir: Path,
    *,
    key: object | None = None,
    walkthrough: tuple[str, ...] = (),
    lang: str | None = None,
    browser: Any = None,
) -> Manifest:
    """Write report.html (and walkthrough/ in the formats asked for; `browser` prints the PDF), then seal the
    folder (check.json, when the scenario asked for a check, is there already: `scenario_check`)."""
    try:
        write_report(run_dir, lang)
        if walkthrough:
            from .report.guide import guide_from_runs
            from .report.walkthrough import build

            build(guide_from_runs([run_dir], lang=lang), run_dir / "walkthrough", walkthrough, browser=browser)
        return seal(run_dir, load_manifest(run_dir), key=key)
    except OSError as exc:
        if not disk_refused(exc):
            raise
        raise RunFolderUnwritable(run_dir, _mark_unwritable(run_dir, exc, key)) from None


class RunFolderUnwritable(Exception):
    """The disk refused the report, walkthrough or seal. The folder is marked: its manifest says `error`
    (sealed if the seal still fit), or — when not even that could be written — it has no manifest."""

    def __init__(self, run_dir: Path, manifest: Manifest | None) -> None:
        self.run_dir, self.manifest = run_dir, manifest
        if manifest is None:
            state = "left without a manifest (not a finished run)"
        else:
            state = "left incomplete (verify says so)" if manifest.status == "running" else f"recorded as {manifest.status}"
        super().__init__(f"{run_dir}: the disk refused the report or the seal; the run is {state} — free space and run it again")


def _mark_unwritable(run_dir: Path, exc: OSError, key: object | None) -> Manifest | None:
    """Never leave a manifest saying `passed` on a folder that could not be finished; seal what is there
    if the seal still fits (a run still `running` was never finished: verify already calls it incomplete)."""
    try:
        marked = load_manifest(run_dir)
    except RunFolderError:
        return None  # no readable manifest: not a finished run to any reader
    if marked.status == "passed":
        failure = Failure(step=None, message=f"the run folder cannot be written: {exc.strerror}")
        marked = marked.model_copy(update={"status": "error", "failure": failure})
        try:
            atomic_write(run_dir / MANIFEST, manifest_json(marked))
        except OSError:
            (run_dir / MANIFEST).unlink(missing_ok=True)  # a "passed" that cannot be corrected must not stay
            return None
    if marked.status == "running":
        return marked
    try:
        return seal(run_dir, marked, key=key)
    except OSError:
        return marked  # unsealed: verify says so


def scenario_check(scenario: Scenario, emit: Callable[[str, Any], None] | None = None) -> Callable[[RunResult], None] | None:
    """The hook a caller hands the runner (RunOptions.after_run) for a scenario with `check:`: once the run's
    folder is complete, judge it, keep check.json, and — with `check: {fail: true}` — fail a passed run whose
    rules are not met. `emit("checked", verdict)` lets the console show the verdicts."""
    refs = scenario.header.check_rules()
    if not refs:
        return None

    def after(result: RunResult) -> None:
        verdict = write_checks(result.run_dir, refs, base=scenario.file.parent)
        if scenario.header.check_fails_run() and verdict.failed and result.status == "passed":
            _fail_on_check(result, verdict)
        if emit is not None:
            emit("checked", verdict)

    return after


def _fail_on_check(result: RunResult, verdict: RunVerdict) -> None:
    first = next(j for j in verdict.results if j.verdict == "not met" and not j.upcoming)
    not_met = [j.rule for j in verdict.results if j.verdict == "not met" and not j.upcoming]
    message = f"check: {len(not_met)} rule(s) not met ({', '.join(not_met)}); first: {first.rule} — {first.measured}"
    record = result.records[first.step - 1] if first.step and first.step <= len(result.records) else None
    result.status = "failed"
    result.failure = Failure(
        step=first.step, source=record.source if record else None, message=message, screenshot=first.screenshot
    )
    manifest = result.manifest.model_copy(update={"status": "failed", "failure": result.failure})
    atomic_write(result.run_dir / "manifest.json", manifest_json(manifest))
    result.manifest = manifest


def write_checks(run_dir: Path, refs: tuple[str, ...], *, base: Path | None = None) -> RunVerdict:
    """The rights checklist of this run alone (no sign-up journey to compare with: those rules say so)."""
    from .check import Journey, check_run
    from .rules import load_packs

    verdict = check_run(Journey(run_dir, load_manifest(run_dir)), load_packs(list(refs), base), [])
    body = {
        "judged": verdict.not_judged is None,
        "not_judged": verdict.not_judged,
        "results": [j.model_dump() for j in verdict.results],
    }
    atomic_write(run_dir / CHECK_FILE, json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    return verdict
