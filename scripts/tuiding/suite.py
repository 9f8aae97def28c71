"""A suite of journeys, as `tuiding run` runs it: this machine's shard, one browser session, -j journeys at
once (parallel.py), each with its retries, each attempt's folder reported and sealed — and the signal
policy around it: Ctrl-C and SIGTERM end the suite with every started folder sealed and exit 130/143.

No command-line parsing here (cli.py) and no single journey (runner.py): the CLI parses, calls `run_suite`,
and exits with what it says.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .i18n import gettext_for, language
from .options import RunOptions
from .results import RunInterrupted, RunResult
from .scenario import Scenario
from .signals import SIGNALS, install_run_handlers, interrupts_held, quiet_playwright

if TYPE_CHECKING:
    from .outputs import RunFolderUnwritable

EXIT_FAILED = 1


def suite_lang(scenarios: Sequence[Scenario], lang: str | None) -> str:
    """The language of the suite's own lines: --lang, else the scenarios' when they share one, else English."""
    if lang:
        return lang
    langs = {language(s.locale) for s in scenarios}
    return langs.pop() if len(langs) == 1 else "en"


def default_jobs() -> int:
    """Journeys at once when -j is not given: one per core (each is a browser context and, for an
    embedded portal, a small server; one journey keeps about one core busy), at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


class SuiteInterrupted(Exception):
    """Ctrl-C or SIGTERM ended the suite; `unsealed` is a folder its journey could not seal itself."""

    def __init__(self, unsealed: Path | None) -> None:
        super().__init__("interrupted")
        self.unsealed = unsealed


class SuiteBrowserError(Exception):
    """No browser could be found, started or reached; one line."""


def ignore_interrupts() -> None:
    """The suite is ending after Ctrl-C/SIGTERM: a second one must not tear the report or the seal in half."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _finished_unsealed(folder: Path) -> bool:
    """A run folder whose run ended (its manifest says how) but whose seal was never written."""
    from .record import RunFolderError, load_manifest

    try:
        manifest = load_manifest(folder)
    except RunFolderError:
        return False  # no manifest of a finished run: nothing to seal (verify calls it incomplete)
    return manifest.seal is None and manifest.status != "running"


def _interrupted_folder(exc: BaseException) -> Path | None:
    """The folder of the run a Ctrl-C stopped — also when a second Ctrl-C came while the first was handled
    (closing the browser, sealing): that one's KeyboardInterrupt carries the first as its context."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RunInterrupted):
            return seen.result.run_dir
        seen = seen.__context__
    return None


def end_interrupted(unsealed: Path | None, key: Any, lang: str) -> tuple[int, str]:
    """The end of a suite stopped by Ctrl-C or SIGTERM: every folder this process made whose run ended but
    was not sealed gets its report and seal (a second Ctrl-C can land between a run's end and its seal;
    `unsealed` is the one the interrupt named), then the line to print and the exit code (130, or 143)."""
    from .outputs import RunFolderUnwritable, finish
    from .receipts import RunFolder

    quiet_playwright()
    ignore_interrupts()
    for folder in dict.fromkeys([*([unsealed] if unsealed is not None else []), *RunFolder.made]):
        if _finished_unsealed(folder):
            try:
                finish(folder, key=key)  # no walkthrough after Ctrl-C: the report and the seal only
            except RunFolderUnwritable:
                pass  # the disk is full: the folder is marked as an error, as without the Ctrl-C
    _ = gettext_for(lang)
    how = _("terminated (SIGTERM)") if SIGNALS.terminated else _("interrupted")
    where = _(" in {folder}").format(folder=unsealed) if unsealed is not None else ""
    line = _("{how}: finished steps, the manifest and the report are on disk{where}").format(how=how, where=where)
    return SIGNALS.exit_code, line


@dataclass
class Suite:
    """What every journey of one suite shares; `one` runs a journey (with its retries), reports and seals
    each attempt's folder — the same for -j 1 and -j N."""

    session: Any
    opts: RunOptions
    progress: Any
    total: int
    retries: int = 0
    key: Any = None
    formats: tuple[str, ...] = ()
    lang: str | None = None

    def one(self, n: int, sc: Scenario) -> RunResult:
        from .outputs import RunFolderUnwritable, finish, scenario_check
        from .runner import run_scenario

        opts = self.opts
        for attempt in range(1, self.retries + 2):
            retry = attempt <= self.retries
            report = self.progress.scenario(sc, n, self.total)

            def on(event: str, payload: Any, report: Any = report, retry: bool = retry) -> None:
                if event == "end" and retry and payload.status in ("failed", "error"):
                    self.progress.retrying(sc, payload, self.retries, self.opts.trace)
                else:
                    report(event, payload)

            self.session.ensure_connected()
            hooked = replace(opts, after_run=scenario_check(sc, on))
            result = run_scenario(sc, self.session, hooked, on)  # RunInterrupted: its folder is sealed by the caller
            try:
                finish(result.run_dir, key=self.key, walkthrough=self.formats, lang=self.lang, browser=self.session)
            except KeyboardInterrupt:
                with interrupts_held():  # a second Ctrl-C waits for the seal
                    finish(result.run_dir, key=self.key)  # interrupted while reporting: the report and the seal only
                raise
            except RunFolderUnwritable as exc:
                self.unwritable(result, exc)
            if not (retry and result.status in ("failed", "error")):
                return result
            # Retried from scratch: a fresh context and a fresh embedded portal, traced under --trace on-retry.
            opts = replace(self.opts, attempt=attempt + 1, retry_of=result.manifest.run_id)
        raise AssertionError("unreachable: the last attempt returns")

    def sealed_one(self, n: int, sc: Scenario) -> RunResult:
        from .outputs import finish

        try:
            return self.one(n, sc)
        except RunInterrupted as exc:
            with interrupts_held():
                finish(exc.result.run_dir, key=self.key)
            raise

    def unwritable(self, result: RunResult, exc: RunFolderUnwritable) -> None:
        """The disk refused the report or seal of a finished run: it counts as an error, said in one line."""
        _ = gettext_for(self.lang or language(result.scenario.locale))
        result.status = "error"
        state = _("left without a manifest (not a finished run)")
        if exc.manifest is not None:
            result.manifest, result.failure = exc.manifest, exc.manifest.failure
            result.status = "failed" if exc.manifest.status == "failed" else "error"
            running = exc.manifest.status == "running"
            recorded = _("recorded as failed") if result.status == "failed" else _("recorded as an error")
            state = _("left incomplete (verify says so)") if running else recorded
        line = _("{folder}: the disk refused the report or the seal; the run is {state} — free space and run it again")
        print("tuiding: " + line.format(folder=exc.run_dir, state=state), file=sys.stderr, flush=True)

    def run(self, scenarios: Sequence[Scenario], workers: int) -> list[RunResult]:
        if workers == 1:
            return [self.sealed_one(n, sc) for n, sc in enumerate(scenarios, 1)]
        return self.run_concurrently(scenarios, workers)

    def run_concurrently(self, scenarios: Sequence[Scenario], workers: int) -> list[RunResult]:
        """-j N: N journeys at a time on one driver and one browser; each journey reports and seals its own
        folder, so a Ctrl-C leaves every started folder sealed; results come back in the order given."""
        from .browser import BrowserStartFailed
        from .parallel import DriverGone, run_concurrently

        jobs = [partial(self.sealed_one, n, sc) for n, sc in enumerate(scenarios, 1)]
        try:
            outcomes = run_concurrently(self.session.playwright, jobs, workers)
        except DriverGone as exc:
            raise BrowserStartFailed(str(exc)) from None
        results: list[RunResult] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # not a scenario's failure (those are results): the tool's own error, unchanged
            results.append(outcome)
        return results


@dataclass
class BrowserChoice:
    """Where the suite's browser comes from (--browser-path, --headed, --connect)."""

    browser_path: str | None = None
    headed: bool = False
    connect: tuple[str, ...] = ()
    connect_timeout: float = 30.0
    grid: str | None = None  # a Selenium Grid 4 URL (grid.py)


def run_suite(scenarios: Sequence[Scenario], browser: BrowserChoice, suite: Suite, workers: int) -> list[RunResult]:
    """Every journey, in one browser session: the results in the order given. SuiteInterrupted after Ctrl-C
    or SIGTERM (every finished folder sealed), SuiteBrowserError when no browser could be had."""
    from .browser import BrowserNotFound, BrowserSession, BrowserStartFailed

    install_run_handlers()
    try:
        with BrowserSession(
            browser_path=browser.browser_path,
            headed=browser.headed,
            connect=browser.connect,
            connect_timeout=browser.connect_timeout,
            grid=browser.grid,
        ) as session:
            suite.session, suite.opts = session, replace(suite.opts, browser=session.description)
            results = suite.run(scenarios, workers)
    except (BrowserNotFound, BrowserStartFailed) as exc:
        if SIGNALS.received:  # the driver or browser ended because of the Ctrl-C (the whole process group got it)
            raise SuiteInterrupted(None) from None
        raise SuiteBrowserError(str(exc)) from None
    except KeyboardInterrupt as exc:
        ignore_interrupts()  # from here to the exit, a further Ctrl-C must not stop the seal
        raise SuiteInterrupted(_interrupted_folder(exc)) from None
    if SIGNALS.received:  # its KeyboardInterrupt was lost, not the signal: every journey ended and sealed its folder
        raise SuiteInterrupted(None)
    return results
