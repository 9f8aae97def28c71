"""What flows through the step loop (steploop.py) and its observers (observers.py): one step's state on its
way from prepare to record, the page's answers to one read, and what the loop and the observers see of the
run around them — as Protocols, so the loop knows nothing of the runner that drives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from playwright.sync_api import Page

from . import model as M
from .guard import LeftTheMachine
from .mail import Messages
from .options import RunOptions
from .receipts import RunFolder
from .record import A11yViolation, Box, ElementInfo, Found, Landmark, MailInfo, Manifest, PageFacts, Shot, VisualCheck
from .scenario import Flow, Scenario, Step
from .secrets import SecretValues
from .steps import Events
from .variables import Context
from .video import VideoRecorder
from .visual import Baselines


@dataclass
class PageRead:
    """The page's answers to one step's read: each observer's fact by name; title and scroll only when the
    page had finished loading (nothing can move before the screenshot then)."""

    facts: dict[str, Any] = field(default_factory=dict)
    loaded: bool = False
    title: str | None = None
    scroll: tuple[float, float] | None = None


@dataclass
class StepState:
    """One step on its way through the loop: what prepare and act found, then what the observers added."""

    index: int
    step: Step
    model: M.StepBase
    ctx: Context
    flow: Flow | None
    started: datetime
    t0: float
    timeout_ms: float
    caption: str
    named: bool
    section: str | None = None
    target: str = ""
    arg: Any = None
    status: str = "passed"
    error: str | None = None
    detail: str | None = None
    attempts: int = 1
    acted_ms: int = 0
    events: Events = field(default_factory=Events)
    warnings: list[str] = field(default_factory=list)
    # observed
    console: list[str] = field(default_factory=list)
    page: PageFacts | None = None
    element: ElementInfo | None = None
    landmarks: list[Landmark] = field(default_factory=list)
    screenshot: str | None = None
    shot_path: Path | None = None
    shot: Shot | None = None
    masks: list[Box] = field(default_factory=list)
    redact: list[Box] = field(default_factory=list)
    personal: list[Found] = field(default_factory=list)
    saved_before: dict[str, Any] | None = None  # the run's saved values when the step acted (None: it did not)
    visual: VisualCheck | None = None
    a11y: list[A11yViolation] | None = None
    soft_failure: bool = False  # failed, but the journey goes on (a changed screen)
    title: str | None = None
    display: Page | None = None  # what the receipt shows instead of the site's page (a received e-mail)
    mail: MailInfo | None = None


class RunView(Protocol):
    """What the step loop reads of the run it belongs to (runner.ScenarioRun is one)."""

    scenario: Scenario
    folder: RunFolder
    secrets: SecretValues
    lang: str
    opts: RunOptions
    scale: float
    baselines: Baselines
    recorder: VideoRecorder | None
    mailbox: Messages | None
    manifest: Manifest
    fence: LeftTheMachine | None

    @property
    def live(self) -> bool: ...
    @property
    def allowed_files(self) -> list[Path]: ...

    def variables(self, *scopes: dict[str, Any]) -> Context: ...

    def progress(self, kind: str, payload: Any) -> None: ...


class LoopView(Protocol):
    """What an observer reads of the step loop (steploop.StepLoop is one)."""

    run: RunView
    page: Page
    sc: Scenario
    folder: RunFolder
    secrets: SecretValues
    lang: str
    recorder: VideoRecorder | None
    hidden_depth: int

    def url(self) -> str: ...

    def browser_gone(self) -> bool: ...
