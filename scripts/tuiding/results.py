"""What a run gives back to its caller: the result, and the interruption that carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .record import Failure, Manifest, Metrics, StepRecord
from .scenario import Scenario
from .secrets import SecretValues


@dataclass
class RunResult:
    scenario: Scenario
    run_dir: Path
    status: str  # passed | failed | interrupted | error
    manifest: Manifest
    failure: Failure | None = None
    duration_s: float = 0.0
    metrics: Metrics = field(default_factory=Metrics)
    secrets: SecretValues = field(default_factory=SecretValues)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def records(self) -> list[StepRecord]:
        return self.manifest.steps


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run; the run folder is complete (status interrupted) and named here."""

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result
