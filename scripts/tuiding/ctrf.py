"""ctrf.json: the suite's runs in the Common Test Report Format (https://ctrf.io, spec 0.0), the neutral JSON
many CI dashboards read. A reader of run folders, written by `tuiding merge` and `tuiding run --results`.

One test per journey (its final attempt; earlier attempts are its `retryAttempts`), its steps as CTRF steps,
its receipts as attachments (paths relative to ctrf.json), the friction metrics and the report under `extra`.
"""

from __future__ import annotations

import platform
import uuid
from datetime import datetime
from typing import Any

from . import __version__
from .record import Manifest, StepRecord, Summary, SummaryRun

SPEC_VERSION = "0.0.0"
CTRF_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped"}  # the rest is "other"
STEP_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "optional-failed": "passed"}


def epoch_ms(stamp: str | None) -> int | None:
    """A record's ISO time as milliseconds since the epoch; None when it has none, or one that is not a time."""
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000) if stamp else None
    except ValueError:
        return None  # a record from elsewhere with a time that is not one


def _ms(stamp: str | None) -> int:
    return epoch_ms(stamp) or 0


def _status(status: str) -> str:
    return CTRF_STATUS.get(status, "other")


def _steps(steps: list[StepRecord]) -> list[dict[str, Any]]:
    return [
        {"name": f"{s.index:02d} {s.name}", "status": STEP_STATUS.get(s.status, "other"),
         "extra": {"duration": s.duration_ms, "action": s.action, **({"error": s.error} if s.error else {})}}
        for s in steps
    ]  # fmt: skip


def _attachments(run: SummaryRun, m: Manifest) -> list[dict[str, str]]:
    found = [{"name": f"{s.index:02d} {s.name}", "contentType": "image/png", "path": f"{run.run_dir}/{s.screenshot}"}
             for s in m.steps if s.screenshot]  # fmt: skip
    if run.report:
        found.append({"name": "report.html", "contentType": "text/html", "path": run.report})
    if m.trace:
        found.append({"name": "trace.zip", "contentType": "application/zip", "path": f"{run.run_dir}/{m.trace}"})
    return found


def test_of(run: SummaryRun, m: Manifest, earlier: list[SummaryRun]) -> dict[str, Any]:
    """One journey as a CTRF test."""
    test: dict[str, Any] = {
        "name": run.scenario + (f" [{run.row}]" if run.row else ""),
        "status": _status(run.status),
        "rawStatus": run.status,
        "duration": int(run.duration_s * 1000),
        "start": _ms(m.started_at),
        "stop": _ms(m.ended_at),
        "suite": [run.file],
        "filePath": run.file,
        "tags": list(m.scenario.tags),
        "type": "e2e",
        "browser": m.browser or "chromium",
        "device": m.device,
        "labels": {"host": run.host, "run_id": run.run_id, "locale": m.locale, "verified": run.verified},
        "steps": _steps(m.steps),
        "attachments": _attachments(run, m),
        "extra": {"run_dir": run.run_dir, "metrics": run.metrics.model_dump(mode="json")},
    }
    if run.failure is not None:
        test["message"] = run.failure.message
        if run.failure.step is not None:
            test["extra"]["failed_step"] = run.failure.step
    if not run.verified:
        test["extra"]["problems"] = run.problems
    if earlier:
        test["retries"] = len(earlier)
        test["retryAttempts"] = [
            {"attempt": r.attempt, "status": _status(r.status), "duration": int(r.duration_s * 1000),
             **({"message": r.failure.message} if r.failure else {})}
            for r in earlier
        ]  # fmt: skip
        test["flaky"] = run.status == "passed"
    return test


def ctrf(summary: Summary, manifests: dict[str, Manifest]) -> dict[str, Any]:
    """The CTRF document of a merged suite; `manifests` by SummaryRun.run_dir."""
    final = [r for r in summary.runs if not r.retried]
    by_id = {r.run_id: r for r in summary.runs}
    tests = []
    for r in final:
        earlier: list[SummaryRun] = []
        prev = r.retry_of
        while prev and prev in by_id:
            earlier.insert(0, by_id[prev])
            prev = by_id[prev].retry_of
        tests.append(test_of(r, manifests[r.run_dir], earlier))
    counts = {s: sum(t["status"] == s for t in tests) for s in ("passed", "failed", "skipped", "pending", "other")}
    starts = [t["start"] for t in tests if t["start"]] or [0]
    stops = [t["stop"] for t in tests if t["stop"]] or [0]
    return {
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "reportId": str(uuid.uuid4()),
        "timestamp": summary.created_at,
        "generatedBy": summary.tool,
        "results": {
            "tool": {"name": "tuiding", "version": __version__},
            "summary": {"tests": len(tests), **counts, "flaky": sum(bool(t.get("flaky")) for t in tests),
                        "suites": len({r.file for r in final}), "start": min(starts), "stop": max(stops)},
            "tests": tests,
            "environment": {"osPlatform": platform.system().lower(), "osRelease": platform.release(),
                            "extra": {"hosts": sorted({r.host for r in final if r.host})}},
        },
    }  # fmt: skip
