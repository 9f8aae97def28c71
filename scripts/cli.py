"""`tuiding` command line: a thin layer over scenario, runner, receipts and portals."""
from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .scenario import Problem, ScenarioInvalid, discover, expand, is_flow_file, load_flow, load_scenario

EXIT_FAILED, EXIT_INVALID = 1, 2


def paths_argument(fn: Callable) -> Callable:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)


def browser_options(fn: Callable) -> Callable:
    """Options shared by every command that starts a browser."""
    for opt in reversed([
        click.option("--headed", is_flag=True, help="Show the browser window (needs a display)."),
        click.option("--browser-path", metavar="PATH", envvar="TUIDING_BROWSER", help="Chromium/Chrome executable (default: found automatically; env TUIDING_BROWSER)."),
        click.option("--connect", metavar="WS_URL", help="Use a remote browser started with 'playwright run-server' (ws://host:port/)."),
    ]):
        fn = opt(fn)
    return fn


def _load_all(paths: tuple[Path, ...], *, include_flows: bool) -> tuple[list[Any], list[Problem]]:
    loaded, problems = [], []
    files = discover(paths, include_flows=include_flows)
    for p in paths:
        if not p.exists():
            problems.append(Problem(p, 1, 1, "no such file or folder"))
    for f in files:
        if not f.exists():
            continue
        try:
            if include_flows and is_flow_file(f):
                loaded.append(load_flow(f))
            else:
                loaded += expand(load_scenario(f))
        except ScenarioInvalid as exc:
            problems += exc.problems
    if not files and not problems:
        problems.append(Problem(paths[0], 1, 1, "no scenario files (*.yaml) found"))
    # A broken flow is reported once, not once per scenario that runs it.
    return loaded, list(dict.fromkeys(problems))


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _report_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tuiding")
def main() -> None:
    """Run YAML unsubscribe journeys in a real headless browser and keep a screenshot receipt of every step.

    \b
    Examples:
      tuiding validate scenarios/
      tuiding run scenarios/migu/web_unsubscribe.yaml
      tuiding run scenarios/ --tag smoke --out runs/
      tuiding verify runs/20261122-101500-web_unsubscribe
      tuiding serve migu --port 8000 --dev
    """


@main.command()
@paths_argument
def validate(paths: tuple[Path, ...]) -> None:
    """Check scenario and flow files without starting a browser.

    Every problem is printed as FILE:LINE:COL: message (with the closest valid
    word for a misspelling). Exit status 2 if any file is invalid.

    \b
    Examples:
      tuiding validate scenarios/
      tuiding validate scenarios/migu/web_unsubscribe.yaml
    """
    loaded, problems = _load_all(paths, include_flows=True)
    if problems:
        _report_problems(problems)
        click.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"ok: {len(discover(paths, include_flows=True))} file(s) valid")


@main.command()
@paths_argument
@browser_options
@click.option("--base-url", metavar="URL", help="Run against this site instead of the scenario's portal/base_url.")
@click.option("--out", "out_dir", default="runs", show_default=True, type=click.Path(path_type=Path), help="Folder for run folders.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only scenarios with this tag (repeatable: any of them).")
@click.option("--trace", type=click.Choice(["on-failure", "on", "off"]), default="on-failure", show_default=True, help="Keep a Playwright trace.zip.")
@click.option("--timeout", default=10.0, show_default=True, metavar="SECONDS", help="Default timeout of each step.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per scenario (JSON Lines) instead of progress.")
def run(paths: tuple[Path, ...], headed: bool, browser_path: str | None, connect: str | None, base_url: str | None,
        out_dir: Path, tags: tuple[str, ...], trace: str, timeout: float, as_json: bool) -> None:
    """Run scenario files (or folders, recursively; flows/ folders are skipped).

    Each run writes OUT/<time>-<scenario>/ with one PNG receipt per step,
    steps.jsonl, manifest.json, report.html and, on failure, trace.zip.
    Exit status: 0 all passed, 1 a scenario failed, 2 invalid input.

    \b
    Examples:
      tuiding run scenarios/
      tuiding run scenarios/migu/web_pause.yaml --headed
      tuiding run scenarios/ --tag smoke --json
      tuiding run my_site.yaml --base-url https://staging.example.com
    """
    from .browser import BrowserNotFound, BrowserSession, BrowserStartFailed
    from .progress import make_progress
    from .runner import RunOptions, run_scenario

    scenarios, problems = _load_all(paths, include_flows=False)
    if problems:
        _report_problems(problems)
        sys.exit(EXIT_INVALID)
    if tags:
        scenarios = [s for s in scenarios if set(tags) & set(s.tags)]
        if not scenarios:
            click.echo(f"no scenario has any of the tags: {', '.join(tags)}", err=True)
            sys.exit(EXIT_INVALID)
    homeless = [s for s in scenarios if not (base_url or s.base_url or s.portal)]
    if homeless:
        for s in homeless:
            click.echo(f"{s.file}:1:1: no site to run against: add 'portal: migu' or 'base_url: https://…', or pass --base-url", err=True)
        sys.exit(EXIT_INVALID)
    progress = make_progress(as_json=as_json)
    results = []
    # A CI cancellation (SIGTERM) ends the run like Ctrl-C: finished steps and the manifest stay valid.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with BrowserSession(browser_path=browser_path, headed=headed, connect=connect) as session:
            opts = RunOptions(out_dir=out_dir, base_url=base_url, trace=trace, timeout=timeout, browser=session.description)
            for sc in scenarios:
                results.append(run_scenario(sc, session, opts, progress.scenario(sc, len(results) + 1, len(scenarios))))
    except (BrowserNotFound, BrowserStartFailed) as exc:
        progress.close()
        click.echo(f"tuiding: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt:
        progress.close()
        # Ctrl-C also reached Playwright's driver; its dying pipe is not news to the user.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        click.echo("interrupted: finished steps and the manifest are on disk", err=True)
        sys.exit(130)
    progress.summary(results, out_dir)
    sys.exit(0 if all(r.passed for r in results) else EXIT_FAILED)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
def verify(run_dir: Path) -> None:
    """Recompute every receipt's SHA-256 and the hash chain of a run folder.

    Exit status 1 if a receipt or record was altered, removed or reordered.

    \b
    Example:
      tuiding verify runs/20261122-101500-web_unsubscribe
    """
    from .receipts import verify as verify_run

    problems = verify_run(run_dir)
    if problems:
        for p in problems:
            click.echo(f"{run_dir}: {p}", err=True)
        sys.exit(EXIT_FAILED)
    n = len(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("steps", []))
    click.echo(f"ok: {n} step records and their receipts are intact")


@main.command()
@click.argument("portal", default="migu")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Enable the test-control API under /__mock__/ (reset, SMS inbox, clock).")
@click.option("--db", metavar="FILE", help="SQLite state file (default: a fresh temporary one).")
def serve(portal: str, host: str, port: int, dev: bool, db: str | None) -> None:
    """Serve a mock portal with a production WSGI server (waitress).

    \b
    Examples:
      tuiding serve migu --port 8000
      tuiding serve migu --dev --db migu.db
    """
    from mock_portals.registry import UnknownPortal, get_portal
    from mock_portals.server import serve_forever

    try:
        spec = get_portal(portal)
    except UnknownPortal as exc:
        click.echo(f"tuiding: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{spec.title} ({portal}) on http://{host}:{port}/" + ("  test API: /__mock__/" if dev else "") + "  (Ctrl-C stops)")
    serve_forever(portal, host, port, dev=dev, database=db)


@main.command("list")
@paths_argument
def list_(paths: tuple[Path, ...]) -> None:
    """List scenarios with their step count, portal and tags.

    \b
    Example:
      tuiding list scenarios/
    """
    scenarios, problems = _load_all(paths, include_flows=False)
    if problems:
        _report_problems(problems)
        sys.exit(EXIT_INVALID)
    for s in scenarios:
        click.echo(f"{s.file}\t{s.name}\t{s.step_count} steps\t{s.portal or s.base_url}\t{','.join(s.tags)}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor validation and completion).

    \b
    Example:
      tuiding schema > tuiding.schema.json
    """
    from .schema import scenario_schema

    click.echo(json.dumps(scenario_schema(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
