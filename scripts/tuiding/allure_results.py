"""allure-results/: the suite's runs as Allure test results (written with allure-python-commons, the library
Allure's own Python adapters use), for `allure generate` / Allure 3 and the dashboards that read them.
A reader of run folders, written by `tuiding merge` and `tuiding run --results`.

One result per attempt (Allure shows the earlier ones as retries of the final one: same historyId): the
journey's steps as Allure steps with their receipts attached, labels from the scenario (suite = file, tags,
host, device), the run's report.html attached, the friction metrics as parameters.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    Attachment,
    Label,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from .ctrf import epoch_ms
from .record import Manifest, StepRecord, Summary, SummaryRun

TEST_STATUS = {"passed": Status.PASSED, "failed": Status.FAILED}  # interrupted, error, running: broken
STEP_STATUS = {"passed": Status.PASSED, "failed": Status.FAILED, "skipped": Status.SKIPPED, "optional-failed": Status.PASSED}
METRICS = ("clicks", "pages", "verifications", "retention_pages", "a11y", "active_s")


class _Writer:
    def __init__(self, out: Path) -> None:
        self.logger = AllureFileLogger(str(out), clean=True)

    def attach(self, source: Path, name: str, mime: str, ext: str) -> Attachment | None:
        if not source.is_file() or source.is_symlink():
            return None  # a reader never follows a link out of a run folder
        file_name = f"{uuid.uuid4()}-attachment.{ext}"
        self.logger.report_attached_file(str(source), file_name)
        return Attachment(name=name, source=file_name, type=mime)

    def step(self, run_dir: Path, s: StepRecord) -> TestStepResult:
        step = TestStepResult(
            name=f"{s.index:02d} {s.name}", status=STEP_STATUS.get(s.status, Status.BROKEN),
            start=epoch_ms(s.started_at), stop=epoch_ms(s.ended_at) or epoch_ms(s.started_at),
        )  # fmt: skip
        if s.error:
            step.statusDetails = StatusDetails(message=s.error, trace=s.error_detail)
        if s.screenshot:
            shot = self.attach(run_dir / s.screenshot, s.name, "image/png", "png")
            if shot is not None:
                step.attachments.append(shot)
        return step

    def result(self, run: SummaryRun, run_dir: Path, m: Manifest) -> None:
        case = hashlib.md5(f"{run.file}#{run.row or ''}".encode()).hexdigest()  # the same journey across runs
        name = run.scenario + (f" [{run.row}]" if run.row else "")
        result = TestResult(
            uuid=str(uuid.uuid4()), name=name, fullName=f"{run.file}#{run.row or ''}", historyId=case, testCaseId=case,
            status=TEST_STATUS.get(run.status, Status.BROKEN), start=epoch_ms(m.started_at), stop=epoch_ms(m.ended_at),
            description=m.scenario.description, titlePath=[run.file],
        )  # fmt: skip
        details = StatusDetails(message=run.failure.message if run.failure else None, flaky=run.attempt > 1 or None)
        if not run.verified:
            details.message = "; ".join(["run folder altered", *run.problems])
        if details.message or details.flaky:
            result.statusDetails = details
        labels = [("framework", "tuiding"), ("suite", run.file), ("host", run.host), ("device", m.device)]
        labels += [("tag", t) for t in m.scenario.tags]
        result.labels = [Label(name=k, value=v) for k, v in labels if v]
        # The metrics differ between attempts: excluded from the history id, so a retry is a retry of the same test
        result.parameters = [Parameter(name=k, value=str(getattr(run.metrics, k)), excluded=True) for k in METRICS]
        if run.row:
            result.parameters.insert(0, Parameter(name="row", value=run.row))
        result.steps = [self.step(run_dir, s) for s in m.steps]
        report = self.attach(run_dir / "report.html", "report.html", "text/html", "html")
        if report is not None:
            result.attachments.append(report)
        self.logger.report_result(result)


def write_allure(summary: Summary, manifests: dict[str, Manifest], out: Path, base: Path) -> Path:
    """One result file per run (and its attachments) in `out`, emptied first; `base`: where run_dir is relative to."""
    writer = _Writer(out)
    for run in summary.runs:
        writer.result(run, base / run.run_dir, manifests[run.run_dir])
    return out
