"""Progress output of `tuiding run`: rich on a terminal, plain lines otherwise, JSON Lines with --json."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .record import ResultLine, StepRecord

MARK = {"passed": "✓", "failed": "✗", "skipped": "↷", "optional-failed": "!"}


class Progress:
    def __init__(self, as_json: bool, tty: bool) -> None:
        self.as_json, self.tty = as_json, tty
        self.status: Any = None
        self.total = 0
        if tty and not as_json:
            from rich.console import Console

            self.console = Console(highlight=False)

    def scenario(self, sc: Any, n: int, total: int) -> Callable[[str, Any], None]:
        def on(event: str, payload: Any) -> None:
            if event == "start":
                self._start(sc, n, total)
            elif event == "begin":
                self._begin(*payload)
            elif event == "step":
                self._step(sc, payload)
            elif event == "end":
                self._end(payload)

        return on

    def _begin(self, index: int, caption: str) -> None:
        """A spinner on the running step (terminals only): long waits show what they wait for."""
        if self.tty and not self.as_json:
            text = f"  {index:02d}/{self.total:02d} {caption} …"
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
            self.console.rule(f"[bold]{sc.name}[/]  [dim]{sc.file} ({n}/{total})[/]", align="left")
        else:
            click.echo(f"[{n}/{total}] {sc.name} ({sc.file})")

    def _step(self, sc: Any, r: StepRecord) -> None:
        if self.as_json:
            return
        self._stop_status()
        line = f"{MARK.get(r.status, '?')} {r.index:02d}/{self.total:02d} {r.name}  ({r.duration_ms / 1000:.1f}s)"
        if self.tty:
            color = {"passed": "green", "failed": "red", "skipped": "dim", "optional-failed": "yellow"}.get(r.status, "red")
            self.console.print(f"  [{color}]{line}[/]", soft_wrap=True)
        else:
            click.echo(f"  {line}")
        if r.error:
            self._err(f"      {r.error}")
        for warning in r.warnings:
            self._err(f"      warning: {warning}")

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
            )
            click.echo(line.model_dump_json())
            return
        if result.failure:
            f = result.failure
            where = f"step {f.step} 「{result.records[f.step - 1].name}」 at {f.source}" if f.step else "the run"
            shot = result.run_dir / f.screenshot if f.screenshot else "(none)"
            message = "\n".join("  " + line for line in f.message.splitlines())
            self._err(f"FAILED {result.scenario.name}: {where}\n{message}\n  screenshot: {shot}")
        click.echo(f"  → {result.status} in {result.duration_s:.1f}s; report: {result.run_dir / 'report.html'}")

    def _err(self, text: str) -> None:
        click.echo(text, err=True)

    def summary(self, results: list[Any], out_dir: Path) -> None:
        if self.as_json:
            return
        passed = sum(r.passed for r in results)
        click.echo(f"\n{passed} passed, {len(results) - passed} failed — receipts and reports under {out_dir}/")
        for r in results:
            click.echo(f"  {'✓' if r.passed else '✗'} {r.run_dir}/report.html")


def make_progress(*, as_json: bool) -> Progress:
    return Progress(as_json, sys.stdout.isatty())
