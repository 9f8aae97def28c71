"""Progress output of `tuiding run`: rich on a terminal, plain lines otherwise, JSON Lines with --json."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from .i18n import gettext_for, language
from .record import ResultLine, StepRecord

MARK = {"passed": "✓", "failed": "✗", "skipped": "↷", "optional-failed": "!"}


class Progress:
    def __init__(self, as_json: bool, tty: bool, lang: str | None = None) -> None:
        self.as_json, self.tty = as_json, tty
        self.lang = lang  # --lang; else each journey's own (its scenario's locale)
        self.status: Any = None
        self.total = 0
        self.langs: dict[int, str] = {}
        if tty and not as_json:
            from rich.console import Console

            self.console = Console(highlight=False)

    def lang_of(self, sc: Any) -> str:
        return self.lang or language(sc.locale)

    def tr(self, sc: Any) -> Callable[[str], str]:
        return gettext_for(self.lang_of(sc))

    def scenario(self, sc: Any, n: int, total: int) -> Callable[[str, Any], None]:
        self.langs[id(sc)] = self.lang_of(sc)

        def on(event: str, payload: Any) -> None:
            if event == "start":
                self._start(sc, n, total)
            elif event == "begin":
                self._begin(*payload)
            elif event == "step":
                self._step(sc, payload)
            elif event == "checked":
                self._checked(sc, payload)
            elif event == "end":
                self._end(payload)
            elif event == "working":
                self._working(sc, payload)

        return on

    def _working(self, sc: Any, text: str) -> None:
        """Long work after the steps (encoding a video): one line, so a silent minute is never a hang."""
        if not self.as_json:
            self._stop_status()
            self._out(f"  … {text}")

    def _checked(self, sc: Any, verdict: Any) -> None:
        """The scenario's own rights check (`check:`), below its steps."""
        if self.as_json:
            return
        from .checklist import as_text

        for line in as_text(verdict, [], self.lang_of(sc))[1:]:
            self._out(f"  {line.strip()}" if line.startswith("  ") else f"  {line}")

    def _out(self, text: str) -> None:
        if self.tty:
            self.console.print(text, soft_wrap=True, markup=False, highlight=False)
        else:
            click.echo(text)

    def _begin(self, index: int, caption: str) -> None:
        """A spinner on the running step (terminals only): long waits show what they wait for."""
        if self.tty and not self.as_json:
            text = escape(f"  {index:02d}/{self.total:02d} {caption} …")
            if self.status is None:
                self.status = self.console.status(text, spinner="dots")
                self.status.start()
            else:
                self.status.update(text)

    def close(self) -> None:
        self._stop_status()

    def _stop_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def _start(self, sc: Any, n: int, total: int) -> None:
        self.total = sc.step_count
        if self.as_json:
            return
        if self.tty:
            self.console.rule(f"[bold]{escape(sc.name)}[/]  [dim]{escape(str(sc.file))} ({n}/{total})[/]", align="left")
        else:
            click.echo(f"[{n}/{total}] {sc.name} ({sc.file})")

    def _step(self, sc: Any, r: StepRecord) -> None:
        if self.as_json:
            return
        self._stop_status()
        line = f"{MARK.get(r.status, '?')} {r.index:02d}/{self.total:02d} {r.name}  ({r.duration_ms / 1000:.1f}s)"
        if self.tty:
            color = {"passed": "green", "failed": "red", "skipped": "dim", "optional-failed": "yellow"}.get(r.status, "red")
            self.console.print(f"  [{color}]{escape(line)}[/]", soft_wrap=True)
        else:
            click.echo(f"  {line}")
        if r.error:
            self._err(f"      {r.error}")
        for warning in r.warnings:
            self._err("      " + self.tr(sc)("warning: {text}").format(text=warning))

    def _end(self, result: Any) -> None:
        self._stop_status()
        if self.as_json:
            line = ResultLine(
                scenario=result.scenario.name,
                file=str(result.scenario.file),
                row=result.scenario.row,
                status=result.status,
                run_dir=str(result.run_dir),
                duration_s=round(result.duration_s, 2),
                metrics=result.metrics,
                failure=result.failure,
                attempt=result.manifest.attempt,
            )
            click.echo(line.model_dump_json())
            return
        self._failure(result)
        _ = self.tr(result.scenario)
        click.echo("  → " + _("{status} in {seconds}s; report: {report}").format(
            status=_(result.status), seconds=f"{result.duration_s:.1f}", report=result.run_dir / "report.html"
        ))  # fmt: skip

    def retrying(self, sc: Any, result: Any, retries: int, trace: str) -> None:
        """A failed attempt that will be run again: one line; its folder stays (the summary shows the last)."""
        self._stop_status()
        if self.as_json:
            return
        attempt = result.manifest.attempt
        _ = self.tr(sc)
        why = f": {result.failure.message.splitlines()[0]}" if result.failure else ""
        traced = _(", traced") if trace == "on-retry" else ""
        self._err(
            f"↻ {sc.name}: "
            + _(
                "{status} on attempt {attempt}{why} — retry {attempt}/{retries}{traced} on a fresh portal (this attempt: {run})"
            ).format(status=_(result.status), attempt=attempt, why=why, retries=retries, traced=traced, run=result.run_dir)
        )

    def _failure(self, result: Any) -> None:
        """A failed journey on stderr: the step, its source line, the error and the screenshot."""
        if not result.failure:
            return
        f = result.failure
        _ = self.tr(result.scenario)
        if f.step and f.step <= len(result.records):
            where = _("step {n} “{name}” at {source}").format(n=f.step, name=result.records[f.step - 1].name, source=f.source)
        else:
            where = _("the run")
        shot = result.run_dir / f.screenshot if f.screenshot else _("(none)")
        message = "\n".join("  " + line for line in f.message.splitlines())
        self._err(
            _("FAILED {scenario}: {where}").format(scenario=result.scenario.name, where=where)
            + f"\n{message}\n  "
            + _("screenshot: {path}").format(path=shot)
        )

    def _err(self, text: str) -> None:
        click.echo(text, err=True)

    def summary(self, results: list[Any], out_dir: Path) -> None:
        """A table: one line per scenario in the order given, whatever order they finished in."""
        if self.as_json:
            return
        passed = sum(r.passed for r in results)
        langs = {language(r.scenario.locale) for r in results}
        _ = gettext_for(self.lang or (langs.pop() if len(langs) == 1 else "en"))
        click.echo("\n" + _("{passed} passed, {failed} failed — receipts and reports under {out}/").format(
            passed=passed, failed=len(results) - passed, out=out_dir
        ))  # fmt: skip
        if not results:
            return
        from rich.cells import cell_len, set_cell_size  # CJK names are two cells wide per character

        width = min(max(cell_len(r.scenario.name) for r in results), 40)
        for r in results:
            name = r.scenario.name
            # A cut name says it was cut (the full name is in the line above and in the report).
            name = set_cell_size(name, width) if cell_len(name) <= width else set_cell_size(name, width - 1).rstrip() + "…"
            name += " " * (width - cell_len(name))
            status = _("flaky") if r.passed and r.manifest.attempt > 1 else _(r.status)  # passed on a retry
            status += " " * max(0, 11 - cell_len(status))
            click.echo(
                f"  {'✓' if r.passed else '✗'} {name}  {status} {r.duration_s:6.1f}s "
                + _("{n} steps").format(n=f"{len(r.records):3d}")
                + f"  {r.run_dir}/report.html"
            )


class ConcurrentProgress(Progress):
    """`run -j N`: steps of several journeys would interleave, so each journey prints when it ends (its
    failing step in full); a terminal also shows the running journeys and their current steps."""

    def __init__(self, as_json: bool, tty: bool, lang: str | None = None) -> None:
        super().__init__(as_json, tty, lang)
        self.running: dict[int, str] = {}
        self.done = 0
        self.of = 0
        self.pending: dict[int, Any] = {}
        self.next_line = 1
        self._numbers: dict[int, int] = {}
        self.checked: dict[int, Any] = {}

    def scenario(self, sc: Any, n: int, total: int) -> Callable[[str, Any], None]:
        steps = sc.step_count
        self.of = total
        self._numbers[id(sc)] = n

        def on(event: str, payload: Any) -> None:
            if event == "start":
                self.running[n] = f"{sc.name} …"
            elif event == "begin":
                index, caption = payload
                self.running[n] = f"{sc.name} {index:02d}/{steps:02d} {caption}"
            elif event == "checked":
                self.checked[n] = payload
            elif event == "end":
                self.running.pop(n, None)
                self.done += 1
                self._finished(sc, payload)
            self._refresh()

        return on

    def _refresh(self) -> None:
        if not self.tty or self.as_json:
            return
        from rich.cells import cell_len, set_cell_size

        # One line per running journey, each cut to the terminal's width (a wrapped status line smears).
        width = max(20, self.console.width - 6)
        lines = [line if cell_len(line) <= width else set_cell_size(line, width - 1) + "…" for line in self.running.values()]
        text = escape(f"{self.done}/{self.of} done, running:\n" + "\n".join(lines)) if self.running else ""
        if not text:
            self._stop_status()
        elif self.status is None:
            self.status = self.console.status(text, spinner="dots")
            self.status.start()
        else:
            self.status.update(text)

    def _finished(self, sc: Any, result: Any) -> None:
        if self.as_json:
            # JSON Lines in the order given (scripts zip them with their inputs), each printed as soon
            # as it and every journey before it have ended.
            self.pending[self._numbers[id(sc)]] = result
            while self.next_line in self.pending:
                self._end(self.pending.pop(self.next_line))
                self.next_line += 1
            return
        _ = self.tr(sc)
        line = f"{MARK.get(result.status, '✗')} [{self.done}/{self.of}] {sc.name} ({sc.file}) — " + _(
            "{status} in {seconds}s"
        ).format(status=_(result.status), seconds=f"{result.duration_s:.1f}")
        report = "  " + _("report: {path}").format(path=result.run_dir / "report.html")
        if self.tty:  # through rich, above its live status lines
            self.console.print(f"[{'green' if result.passed else 'red'}]{escape(line)}[/]", soft_wrap=True)
        else:
            click.echo(line)
        self._failure(result)
        verdict = self.checked.pop(self._numbers[id(sc)], None)
        if verdict is not None:
            self._checked(sc, verdict)
        self._out(report)


def make_progress(*, as_json: bool, concurrent: bool = False, lang: str | None = None) -> Progress:
    cls = ConcurrentProgress if concurrent else Progress
    return cls(as_json, sys.stdout.isatty(), lang)
