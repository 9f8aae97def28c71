"""How a run is to be done: the options the command line, the pytest plugin and embedding code set —
built from their flags in one place (`from_flags`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .portals import PortalProvider
    from .results import RunResult

DEFAULT_TIMEOUT_S = 10.0
Trace = Literal["on-retry", "on-failure", "on", "off"]
TRACE_MODES: tuple[Trace, ...] = ("on-retry", "on-failure", "on", "off")
BaselineMode = Literal["compare", "update", "off"]


class OptionsError(ValueError):
    """Flags that contradict each other; one line naming them."""


@dataclass
class RunOptions:
    out_dir: Path = Path("runs")
    base_url: str | None = None  # --base-url: overrides the scenario's base_url and portal
    trace: Trace = "on-failure"  # pytest-playwright's --tracing may own it
    attempt: int = 1  # 2 and up: a retry of a failed run (--retries), on a fresh portal
    retry_of: str | None = None  # the failed attempt's run_id
    timeout: float = DEFAULT_TIMEOUT_S
    browser: str = ""
    portals: Mapping[str, PortalProvider] | None = None  # extra portals by name (besides the installed ones)
    baselines: BaselineMode = "compare"  # compare (when a baseline exists) | update (approve this run's receipts)
    variant: str | None = None  # --variant: the embedded portals' UX variant for every scenario
    walkthrough: tuple[str, ...] = ()  # formats to build after the run; "video" also records while running
    narrate: bool = False  # spoken captions in the video (espeak-ng)
    live: bool = False  # --live: a base_url off this machine is allowed (guard.py)
    a11y: bool = True  # --no-a11y: no axe-core audits, whatever the scenarios ask
    lang: str | None = None  # --lang: the language tuiding writes in (default: the scenario's locale)
    after_run: Callable[[RunResult], None] | None = None  # once the folder is complete, before "end" (outputs.scenario_check)


def from_flags(
    *,
    out_dir: Path,
    trace: str,
    timeout: float,
    browser: str,
    base_url: str | None = None,
    live: bool = False,
    update_baselines: bool = False,
    no_visual: bool = False,
    no_a11y: bool = False,
    variant: str | None = None,
    walkthrough: tuple[str, ...] = (),
    narrate: bool = False,
    lang: str | None = None,
    attempt: int = 1,
    retry_of: str | None = None,
    after_run: Callable[[RunResult], None] | None = None,
) -> RunOptions:
    """RunOptions from a command line's flags (`tuiding run`, `tuiding guide`, the pytest plugin's
    --tuiding-* options), each flag mapped here once."""
    if no_visual and update_baselines:
        raise OptionsError("--no-visual and --update-baselines contradict each other: choose one")
    modes: dict[str, Trace] = {m: m for m in TRACE_MODES}
    if trace not in modes:
        raise OptionsError(f"unknown trace mode '{trace}' (expected one of: {', '.join(TRACE_MODES)})")
    baselines: BaselineMode = "update" if update_baselines else "off" if no_visual else "compare"
    return RunOptions(
        out_dir=out_dir, base_url=base_url, trace=modes[trace], attempt=attempt, retry_of=retry_of, timeout=timeout,
        browser=browser, baselines=baselines, variant=variant, walkthrough=walkthrough, narrate=narrate, live=live,
        a11y=not no_a11y, lang=lang, after_run=after_run,
    )  # fmt: skip
