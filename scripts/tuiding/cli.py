"""`tuiding` command line: a thin layer over scenario, runner, run folder readers and portals.

Imports are local to each command so `tuiding --help` and `tuiding validate` load neither
Playwright nor Flask."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .i18n import gettext_for
from .problems import Problem
from .scenario import Flow, Scenario, ScenarioInvalid, discover, expand, is_flow_file, load_flow, load_scenario
from .signals import SIGNALS, quiet_playwright, raise_interrupt

EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 1, 2, 130


def paths_argument(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)


def browser_options(fn: Callable[..., Any], *, farm: bool = False, grid: bool = False) -> Callable[..., Any]:
    """Options shared by every command that starts a browser (`farm`: --connect may be repeated; `grid`: --grid)."""
    connect_help = "Use a remote browser started with 'playwright run-server' (ws://host:port/)." + (
        " Repeat to spread journeys over several (a browser farm)." if farm else ""
    )
    for opt in reversed(
        [
            click.option("--headed", is_flag=True, help="Show the browser window (needs a display)."),
            click.option(
                "--browser-path",
                metavar="PATH",
                envvar="TUIDING_BROWSER",
                help="Chromium/Chrome executable (default: found automatically; env TUIDING_BROWSER).",
            ),
            click.option("--connect", metavar="WS_URL", multiple=farm, help=connect_help),
            click.option(
                "--connect-timeout",
                type=click.FloatRange(0.1, 3600),
                default=30.0,
                show_default=True,
                metavar="SECONDS",
                envvar="TUIDING_CONNECT_TIMEOUT",
                help="Give up on a --connect endpoint that does not answer within this time, or on a --grid launch "
                "still queued after it (env TUIDING_CONNECT_TIMEOUT).",
            ),
            *(
                [
                    click.option(
                        "--grid",
                        metavar="URL",
                        envvar="SELENIUM_REMOTE_URL",
                        help="Run each journey's browser on this Selenium Grid 4 (http://host:4444; env SELENIUM_REMOTE_URL, "
                        "as Playwright reads it): one Grid session per concurrent journey, -j sized by its free slots.",
                    )
                ]
                if grid
                else []
            ),
        ]
    ):
        fn = opt(fn)
    return fn


LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["zh", "en", "de"]),
    help="The language to write in (default: each run's, from its scenario's locale).",
)


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    click.echo(f"tuiding: {message}", err=True)
    sys.exit(code)


def _load_all(paths: tuple[Path, ...], *, include_flows: bool) -> tuple[list[Scenario | Flow], list[Problem]]:
    loaded: list[Scenario | Flow] = []
    problems: list[Problem] = []
    files = discover(paths, include_flows=include_flows)
    for p in paths:
        if not p.exists() and not p.is_symlink():
            problems.append(Problem(p, 1, 1, "no such file or folder"))
    for f in files:
        if not f.exists() and not f.is_symlink():
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


def _report_warnings(loaded: list[Scenario | Flow]) -> None:
    """Once each (a flow's warning comes with every scenario that runs it): stderr, never an exit code."""
    for w in dict.fromkeys(w for item in loaded for w in item.warnings):
        click.echo(str(w), err=True)


def _scenarios(paths: tuple[Path, ...]) -> list[Scenario]:
    loaded, problems = _load_all(paths, include_flows=False)
    if problems:
        _report_problems(problems)
        sys.exit(EXIT_INVALID)
    _report_warnings(loaded)
    return [s for s in loaded if isinstance(s, Scenario)]


def _guard_live_sites(scenarios: list[Scenario], base_url: str | None, live: bool) -> None:
    """Before a browser starts: every site known now is this machine, or --live / live: true allows it
    (a base_url built from variables is checked again when the run resolves it)."""
    from .guard import LiveSiteRefused, check_site

    problems = []
    for s in scenarios:
        url = base_url or (s.base_url if s.base_url and "${" not in s.base_url else None)
        if url is None:
            continue
        try:
            check_site(url, live or s.header.live, f"{s.file}:1:1")
        except LiveSiteRefused as exc:
            problems.append(str(exc))
    for line in dict.fromkeys(problems):
        click.echo(line, err=True)
    if problems:
        sys.exit(EXIT_INVALID)


def _my_shard(scenarios: list[Scenario], shard: str | None, durations: Path | None, lang: str) -> list[Scenario]:
    from .shard import ShardError, load_durations, parse_shard, split

    if shard is None:
        fail("--durations balances shards: add --shard I/N")
    try:
        part = parse_shard(shard)
        mine = split(scenarios, part, load_durations(durations) if durations else None)
    except ShardError as exc:
        fail(str(exc))
    _ = gettext_for(lang)
    click.echo(_("shard {part}: {mine} of {all} scenarios").format(part=part, mine=len(mine), all=len(scenarios)), err=True)
    if not mine:
        click.echo(_("nothing to run in this shard"), err=True)
        sys.exit(0)
    return mine


def _report_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)


def _finite(value: float) -> float:
    if value != value:  # NaN passes every range check
        raise click.BadParameter("expected a number of seconds from 0.05 to 600, got nan")
    return value


def _formats(value: str) -> tuple[str, ...]:
    from .report.guide import WalkthroughError, parse_formats

    try:
        return parse_formats(value)
    except WalkthroughError as exc:
        fail(str(exc))


def _needs_video_tools(narrate: bool) -> None:
    from .video import VideoUnavailable, ffmpeg, speech_available

    try:
        ffmpeg()
    except VideoUnavailable as exc:
        fail(str(exc))
    if narrate and not speech_available():
        fail("spoken narration needs espeak-ng: apt-get install espeak-ng (or: make bootstrap NARRATION=1)")


ACCEPT_UNVERIFIED = click.option(
    "--accept-unverified",
    is_flag=True,
    help="Use run folders that fail `tuiding verify` (altered, or not what a run wrote) anyway; each is still named.",
)


def trusted(run_dirs: list[Path], accept: bool) -> list[str]:
    """A reader of run folders someone handed over: one that fails `tuiding verify` is named on stderr, and the
    command stops (exit 2) unless --accept-unverified says to go on. Returns those lines for the document's
    banner (empty when every folder verifies)."""
    from .verify import verify

    failing = [(d, v.problems) for d in dict.fromkeys(run_dirs) if not (v := verify(d)).ok]
    lines = []
    for d, problems in failing:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        lines.append(f"{d}: fails verify: {problems[0]}{more}")
        click.echo(f"tuiding: {lines[-1]}", err=True)
    if failing and not accept:
        fail("not built from run folders that fail verify: check them with tuiding verify, or pass --accept-unverified")
    return lines


def check_out_dir(out: Path, flag: str = "--out") -> Path | None:
    """Before anything starts: the output folder exists or can be made, and takes a file. Returns the
    outermost folder this made (None if it existed), for `unmake_out_dir` when nothing could start."""
    if out.exists() and not out.is_dir():
        fail(f"{flag} {out}: exists and is not a folder")
    made = next((p for p in reversed((out, *out.parents)) if not p.exists()), None)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".tuiding-probe-"):
            pass
    except OSError as exc:
        fail(f"{flag} {out}: cannot write there ({exc.strerror or exc})")
    return made


def unmake_out_dir(out: Path, made: Path | None) -> None:
    """Remove the folders `check_out_dir` made for a command that never started, while they are empty:
    a refused browser or endpoint leaves nothing behind."""
    if made is None:
        return
    for folder in (out, *out.parents):
        try:
            folder.rmdir()  # only ever an empty folder
        except OSError:
            return
        if folder == made:
            return


def _signing_key(path: str | None) -> object | None:
    if not path:
        return None
    from .signing import KeyError_, load_private

    try:
        return load_private(Path(path))
    except KeyError_ as exc:
        fail(str(exc))


class _Main(click.Group):
    """Ctrl-C anywhere — loading scenarios, starting a portal, shutting down — is one line and exit 130
    (143 after SIGTERM), never click's "Aborted!" with exit 1 or a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Outside a command (click reading the command line, or closing up after it) click turns Ctrl-C into
        # "Aborted!" and exit 1. Nothing is open there, so there the signal ends the process at once.
        before = _set_sigint(_exit_interrupted, only_if=signal.default_int_handler)
        try:
            return super().main(*args, **kwargs)
        finally:
            _set_sigint(before, only_if=_exit_interrupted)

    def invoke(self, ctx: click.Context) -> Any:
        outside = _set_sigint(signal.default_int_handler, only_if=_exit_interrupted)  # commands clean up on Ctrl-C
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            quiet_playwright()
            click.echo("terminated (SIGTERM)" if SIGNALS.terminated else "interrupted", err=True)
            sys.exit(SIGNALS.exit_code)
        finally:
            for inside in (signal.default_int_handler, raise_interrupt):  # not over a run's SIG_IGN
                _set_sigint(outside, only_if=inside)


def _set_sigint(handler: Any, only_if: Any) -> Any:
    """Install `handler` for SIGINT when the current one is `only_if`; the one that was there, for restoring."""
    current = signal.getsignal(signal.SIGINT)
    if current is only_if and handler is not None:
        try:
            signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread (click's test runner in a thread): signals are not ours
            pass
    return current


def _exit_interrupted(_signum: int, _frame: Any) -> None:
    click.echo("interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    _report_warnings(loaded)
    if problems:
        _report_problems(problems)
        click.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"ok: {len(discover(paths, include_flows=True))} file(s) valid")


@main.command()
@paths_argument
@partial(browser_options, farm=True, grid=True)
@click.option("--base-url", metavar="URL", help="Run against this site instead of the scenario's portal/base_url.")
@click.option(
    "--live",
    is_flag=True,
    help="Allow sites that are not this machine (without it, a base_url off 127.0.0.1/localhost is refused: "
    "a scenario there really cancels).",
)
@click.option(
    "--out", "out_dir", default="runs", show_default=True, type=click.Path(path_type=Path), help="Folder for run folders."
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only scenarios with this tag (repeatable: any of them).")
@click.option(
    "--trace",
    type=click.Choice(["on-retry", "on-failure", "on", "off"]),
    default="on-retry",
    show_default=True,
    help="Playwright trace.zip: on-retry traces retries only (a passing run pays nothing; use with --retries), "
    "on-failure records every run and keeps failed ones, on keeps all.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=0,
    show_default=True,
    metavar="N",
    help="Run a failed scenario again, up to N times, from scratch on a fresh portal (each attempt its own run "
    "folder); passing on a retry counts as passed and is reported as flaky.",
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    type=click.FloatRange(0.05, 600),
    callback=lambda _ctx, _param, v: _finite(v),
    help="Default timeout of each step (0.05 to 600; a step's own `timeout:` wins).",
)
@click.option(
    "--sign",
    "sign_key",
    metavar="KEYFILE",
    envvar="TUIDING_SIGNING_KEY",
    help="Sign each run's seal with this Ed25519 private key (tuiding keygen; env TUIDING_SIGNING_KEY).",
)
@click.option(
    "--variant", metavar="NAME", help="Start embedded portals in this UX variant (e.g. retention); see docs/portals/testing.md."
)
@click.option(
    "--walkthrough",
    "walkthrough",
    metavar="FORMATS",
    help="Also write an illustrated guide into each run folder: md,html,pdf,video (video records while running).",
)
@click.option(
    "--narrate", is_flag=True, help="With --walkthrough video: speak each caption (espeak-ng, in the journey's language)."
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "de"]),
    help="The language tuiding writes in — captions, console, reports, walkthroughs (default: each scenario's locale).",
)
@click.option(
    "--update-baselines",
    is_flag=True,
    help="Approve this run's receipts as the visual baselines (<scenario folder>/__baselines__/…); review them in git.",
)
@click.option(
    "--no-visual",
    "no_visual",
    is_flag=True,
    help="Skip comparing receipts with their visual baselines (a quicker run; no step fails on how it looks).",
)
@click.option(
    "--no-a11y",
    "no_a11y",
    is_flag=True,
    help="Skip the axe-core audits the scenarios ask for (a quicker run; their a11y budget items then count nothing).",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Run only part I of N of the scenarios (same split on every machine given the same paths); "
    "combine the parts' run folders with 'tuiding merge'.",
)
@click.option(
    "--durations",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="With --shard: balance the parts by the durations of an earlier run (its runs folder, or a merged summary.json).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Journeys at once, each in its own browser context (default: one per core, at most 8; -j 1 runs one after another "
    "with step-by-step output).",
)
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Also write this run's results for CI and dashboards into DIR: junit.xml, ctrf.json (CTRF), allure-results/ "
    "(Allure), summary.json and summary.html — as 'tuiding merge' does.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per scenario (JSON Lines) instead of progress.")
def run(**flags: Any) -> None:
    """Run scenario files (or folders, recursively; flows/ folders are skipped).

    Each run writes OUT/<time>-<scenario>/ with one PNG receipt per step,
    steps.jsonl, manifest.json, report.html and, on failure, trace.zip.
    Exit status: 0 all passed, 1 a scenario failed, 2 invalid input,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

    \b
    Examples:
      tuiding run scenarios/
      tuiding run scenarios/migu/web_pause.yaml --headed
      tuiding run scenarios/ --tag smoke --json
      tuiding run my_site.yaml --base-url https://staging.example.com
    """
    _run(RunFlags(**flags))


@dataclass
class RunFlags:
    """`tuiding run`'s command line, typed."""

    paths: tuple[Path, ...]
    headed: bool
    browser_path: str | None
    connect: tuple[str, ...]
    connect_timeout: float
    grid: str | None
    base_url: str | None
    live: bool
    out_dir: Path
    tags: tuple[str, ...]
    trace: str
    timeout: float
    sign_key: str | None
    variant: str | None
    walkthrough: str | None
    narrate: bool
    lang: str | None
    update_baselines: bool
    no_visual: bool
    no_a11y: bool
    shard: str | None
    durations: Path | None
    retries: int
    jobs: int | None
    results_dir: Path | None
    as_json: bool


def _selected(f: RunFlags) -> list[Scenario]:
    """The scenarios to run: loaded and valid, of the tags asked for, this machine's shard, each with a site
    this command may reach."""
    from .suite import suite_lang

    scenarios = _scenarios(f.paths)
    if f.tags:
        scenarios = [s for s in scenarios if set(f.tags) & set(s.tags)]
        if not scenarios:
            fail(f"no scenario has any of the tags: {', '.join(f.tags)}")
    if f.shard or f.durations:
        scenarios = _my_shard(scenarios, f.shard, f.durations, suite_lang(scenarios, f.lang))
    homeless = [s for s in scenarios if not (f.base_url or s.base_url or s.portal)]
    for s in homeless:
        click.echo(
            f"{s.file}:1:1: no site to run against: add 'portal: migu' or 'base_url: https://…', or pass --base-url", err=True
        )
    if homeless:
        sys.exit(EXIT_INVALID)
    _guard_live_sites(scenarios, f.base_url, f.live)
    return scenarios


def _out_dirs(f: RunFlags) -> tuple[Path | None, Path | None]:
    """--out and --results made and writable (check_out_dir), what each made; --results that is a file is refused
    before --out is made, so nothing is left behind."""
    if f.results_dir is not None and f.results_dir.exists() and not f.results_dir.is_dir():
        fail(f"--results {f.results_dir}: exists and is not a folder")
    made = check_out_dir(f.out_dir)
    return made, check_out_dir(f.results_dir, "--results") if f.results_dir is not None else None


def _default_jobs(f: RunFlags, per_machine: int) -> int:
    """-j when not given: this machine's cores (per --connect endpoint), or the Grid's free slots."""
    if f.grid:
        from .grid import Grid, GridError

        try:
            return max(1, Grid(f.grid, timeout_s=min(f.connect_timeout, 30.0)).free_slots())
        except GridError as exc:
            fail(str(exc))
    return per_machine * max(1, len(f.connect))


def _write_results(out: Path, quiet: bool) -> None:
    """--results: the standard result files of the run folders this command made (retries included)."""
    from .merge import MergeError, summarize, write
    from .receipts import RunFolder

    made = [d for d in RunFolder.made if (d / "manifest.json").is_file()]
    try:
        written = write(summarize(made, out), out)
    except (MergeError, OSError) as exc:
        fail(f"--results {out}: {exc}")
    if not quiet:
        click.echo(f"results: {', '.join(str(p) for p in written)}", err=True)


def _run(f: RunFlags) -> NoReturn:
    from .options import OptionsError, from_flags
    from .progress import make_progress
    from .receipts import disk_refused
    from .suite import (
        BrowserChoice,
        Suite,
        SuiteBrowserError,
        SuiteInterrupted,
        default_jobs,
        end_interrupted,
        run_suite,
        suite_lang,
    )  # fmt: skip

    scenarios = _selected(f)
    key = _signing_key(f.sign_key)
    formats = _formats(f.walkthrough) if f.walkthrough else ()
    if f.narrate and "video" not in formats:
        fail("--narrate speaks the video's captions: add --walkthrough video")
    if "video" in formats:
        _needs_video_tools(f.narrate)
    try:
        opts = from_flags(
            out_dir=f.out_dir, trace=f.trace, timeout=f.timeout, browser="", base_url=f.base_url, live=f.live,
            update_baselines=f.update_baselines, no_visual=f.no_visual, no_a11y=f.no_a11y, variant=f.variant,
            walkthrough=formats, narrate=f.narrate, lang=f.lang,
        )  # fmt: skip
    except OptionsError as exc:
        fail(str(exc))
    if f.grid and f.connect:
        fail("--grid and --connect are two ways to get browsers: give one")
    # A farm's browsers run elsewhere: by default, as many journeys per endpoint as this machine has cores; a Grid's
    # as many as it has free slots when the run starts.
    workers = min(f.jobs or _default_jobs(f, default_jobs()), len(scenarios))
    made, results_made = _out_dirs(f)  # after every flag is known to be usable: a refused command leaves nothing behind
    progress = make_progress(as_json=f.as_json, concurrent=workers > 1, lang=f.lang)
    suite = Suite(None, opts, progress, len(scenarios), f.retries, key, formats, f.lang)
    try:
        choice = BrowserChoice(f.browser_path, f.headed, f.connect, f.connect_timeout, f.grid)
        results = run_suite(scenarios, choice, suite, workers)
    except SuiteBrowserError as exc:
        progress.close()
        unmake_out_dir(f.out_dir, made)
        if f.results_dir is not None:
            unmake_out_dir(f.results_dir, results_made)
        fail(str(exc))
    except OSError as exc:
        if not disk_refused(exc):
            raise
        progress.close()  # a run folder could not even be made: every folder before it is sealed
        fail(f"--out {f.out_dir}: cannot write there any more ({exc.strerror}); free space and run again")
    except SuiteInterrupted as exc:
        progress.close()
        code, line = end_interrupted(exc.unsealed, key, suite_lang(scenarios, f.lang))
        click.echo(line, err=True)
        sys.exit(code)
    progress.summary(results, f.out_dir)
    _after_suite(f, results, suite_lang(scenarios, f.lang))


def _after_suite(f: RunFlags, results: list[Any], lang: str) -> NoReturn:
    """The standard result files when asked for, the trace hint, and the exit status."""
    if f.results_dir is not None:
        _write_results(f.results_dir, f.as_json)
    if f.trace == "on-retry" and not f.retries and not all(r.passed for r in results) and not f.as_json:
        _ = gettext_for(lang)
        click.echo(
            _("no trace.zip was recorded (--trace on-retry traces retries): add --retries 1, or --trace on-failure"), err=True
        )
    sys.exit(0 if all(r.passed for r in results) else EXIT_FAILED)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    default="summary",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for summary.html, summary.json and junit.xml.",
)
@LANG_OPTION
def merge(paths: tuple[Path, ...], out: Path, lang: str | None) -> None:
    """Combine run folders (e.g. each shard's runs/ from a CI matrix) into one summary.

    PATHS are run folders or folders holding them (searched recursively). Each
    run folder is verified as 'tuiding verify' would; the summary lists every
    run with its status, machine, duration, metrics and a link to its report.
    Exit status: 0 all passed and intact, 1 a run did not pass or was altered,
    2 no run folders found.

    \b
    Examples:
      tuiding merge shard-1/runs shard-2/runs shard-3/runs --out summary
      tuiding run scenarios/ --shard 2/3 --durations summary/summary.json
    """
    from .merge import MergeError, find_run_dirs, summarize, summary_lines, write

    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder")
    try:
        summary = summarize(find_run_dirs(list(paths)), out)
    except MergeError as exc:
        fail(str(exc))
    lang = lang or summary.lang or "en"
    written = write(summary, out, lang)
    head, problems = summary_lines(summary, out, written, lang)
    click.echo(head)
    for line in problems:
        click.echo(line, err=True)
    t = summary.totals
    sys.exit(0 if t["runs"] == t.get("passed", 0) and t["unverified"] == 0 else EXIT_FAILED)


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--key", "key_path", metavar="PUBKEY", help="Also check the seal's Ed25519 signature against this public key (.pub)."
)
def verify(run_dirs: tuple[Path, ...], key_path: str | None) -> None:
    """Check that run folders hold exactly what their runs wrote.

    Recomputes each step record's hash chain and receipt SHA-256, the seal over
    the run's metadata and every file, and (with --key) the signature. Exit
    status 1 if anything was altered, removed, added or reordered; 2 if a folder
    or key cannot be read.

    \b
    Examples:
      tuiding verify runs/20261122-101500-web_unsubscribe
      tuiding verify runs/* --key release.key.pub
    """
    from .verify import verify as verify_run

    public = None
    if key_path:
        from .signing import KeyError_, load_public

        try:
            public = load_public(Path(key_path))
        except KeyError_ as exc:
            fail(str(exc))
    bad = False
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            fail(f"{run_dir}: not a folder")
        v = verify_run(run_dir, public_key=public)
        for p in v.problems:
            click.echo(f"{run_dir}: {p}", err=True)
        for n in v.notes:
            click.echo(f"{run_dir}: note: {n}", err=True)
        if v.problems:
            bad = True
        else:
            signed = " and its signature" if public is not None else ""
            click.echo(f"ok: {run_dir}: {v.steps} step records, their receipts, the run's metadata and files{signed} are intact")
    sys.exit(EXIT_FAILED if bad else 0)


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "formats", default="md,html", show_default=True, metavar="FORMATS", help="Any of md,html,pdf,video.")
@click.option("--title", help="The guide's title (default: the scenario's name, or the first one's).")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Folder for the guide (default: RUN_DIR/walkthrough for one run, ./walkthrough otherwise).",
)
@LANG_OPTION
@ACCEPT_UNVERIFIED
def walkthrough(
    run_dirs: tuple[Path, ...], formats: str, title: str | None, out: Path | None, lang: str | None, accept_unverified: bool
) -> None:
    """Build an illustrated guide from run folders: one section per run, in the order given.

    Markdown (with images/), one self-contained HTML file, a PDF (A4, printed by Chromium) and,
    for runs recorded with `tuiding run --walkthrough video`, WebM/MP4 with WebVTT subtitles.
    Receipts are not changed: pictures are annotated copies. A folder of runs contributes all of them.

    \b
    Examples:
      tuiding walkthrough runs/20261120-100000-web_unsubscribe
      tuiding walkthrough runs/*-web_unsubscribe runs/*-app_unsubscribe --format md,html,pdf --out guide/
    """
    from .record import RunFolderError
    from .report.guide import WalkthroughError, guide_from_runs, run_dirs_of
    from .report.walkthrough import build

    chosen = _formats(formats)
    if "video" in chosen:
        _needs_video_tools(False)
    try:
        dirs = run_dirs_of(list(run_dirs))
        unverified = trusted(dirs, accept_unverified)
        guide = guide_from_runs(dirs, title=title, lang=lang)
        guide.unverified = unverified
        target = out or (dirs[0] / "walkthrough" if len(dirs) == 1 else Path("walkthrough"))
        check_out_dir(target)
        written = build(guide, target, chosen, say=_say)
    except (WalkthroughError, RunFolderError) as exc:
        fail(str(exc))
    for path in written:
        if not path.parent.name == "images":
            click.echo(f"wrote {path}")
    click.echo(f"{sum(1 for p in written if p.parent.name == 'images')} annotated image(s) in {target / 'images'}")


def _say(text: str) -> None:
    """A line on the slow parts of writing a guide (encoding, printing), so a quiet minute is not a hang."""
    click.echo(text, err=True)


@main.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@browser_options
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Folder for the guide (default: next to the manifest, named after it)."
)
@click.option("--format", "formats", metavar="FORMATS", help="Override the manifest's formats: md,html,pdf,video.")
@click.option("--narrate", is_flag=True, help="Speak the captions of the video parts (espeak-ng).")
def guide(
    manifest: Path,
    headed: bool,
    browser_path: str | None,
    connect: str | None,
    connect_timeout: float,
    out: Path | None,
    formats: str | None,
    narrate: bool,
) -> None:
    """Run the scenarios a guide manifest (guides/*.yaml) lists and write the illustrated guide.

    The manifest names the title, intro, and the parts in order: headings with prose, lists and
    questions and answers, each optionally illustrated by a scenario's run or some of its
    sections (each scenario runs once; the runs are kept in OUT/runs/). Exit status 1 if a
    scenario failed (the guide still shows where it stopped).

    \b
    Example:
      tuiding guide guides/migu.yaml --out guides/migu
    """
    from .browser import BrowserNotFound, BrowserSession, BrowserStartFailed
    from .guides import GuideError, assemble, load_guide, plan_guide, run_guide
    from .progress import make_progress
    from .report.guide import WalkthroughError
    from .report.walkthrough import build

    try:
        spec = load_guide(manifest)
        chosen = _formats(formats) if formats else tuple(spec.formats)
        plan = plan_guide(manifest, spec, chosen)
    except ScenarioInvalid as exc:
        _report_problems(exc.problems)
        sys.exit(EXIT_INVALID)
    except GuideError as exc:
        fail(str(exc))
    if plan.video:
        _needs_video_tools(narrate)
    target = out or manifest.parent / manifest.stem
    made = check_out_dir(target / "runs")
    progress = make_progress(as_json=False)
    try:
        with BrowserSession(
            browser_path=browser_path, headed=headed, connect=connect, connect_timeout=connect_timeout
        ) as session:
            runs, failed = run_guide(plan, session, target / "runs", progress, narrate)
            written = build(assemble(plan, runs), target, chosen, name=manifest.stem, browser=session, say=_say)
    except (BrowserNotFound, BrowserStartFailed, WalkthroughError) as exc:
        progress.close()
        unmake_out_dir(target / "runs", made)
        fail(str(exc))
    except KeyboardInterrupt:
        progress.close()
        click.echo("interrupted: no guide written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    for path in written:
        if path.parent.name != "images":
            click.echo(f"wrote {path}")
    sys.exit(EXIT_FAILED if failed else 0)


@main.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--out", "out", default="compare.html", show_default=True, type=click.Path(path_type=Path), help="The HTML report.")
@click.option(
    "--tolerance",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="How much a count may grow before it is worse.",
)
@click.option(
    "--threshold",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Per-pixel colour tolerance of the screenshot diff.",
)
@LANG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per compared scenario instead of the summary.")
@ACCEPT_UNVERIFIED
def compare(
    run_a: Path, run_b: Path, out: Path, tolerance: int, threshold: float, lang: str | None, as_json: bool,
    accept_unverified: bool,
) -> None:  # fmt: skip
    """Compare two runs of a journey (A = before, B = after), or two folders of runs matched by scenario
    file and matrix row: metric deltas, added, removed and changed steps, and a pixel diff of each
    aligned pair of screenshots.

    Exit status 1 when a metric got worse (beyond --tolerance; active seconds by more than a quarter)
    or an aligned screenshot changed; 2 when the inputs cannot be compared.

    \b
    Examples:
      tuiding compare runs/20261120-100000-web_unsubscribe runs/20261121-100000-web_unsubscribe
      tuiding compare runs/release-1.4/ runs/release-1.5/ --out compare.html
    """
    from .record import RunFolderError
    from .report.compare import CompareError, compare_runs, lang_of, pairs, render, summary_lines

    try:
        matched = pairs(run_a, run_b)
        unverified = trusted([d for pair in matched for d in pair], accept_unverified)
        comparisons = [compare_runs(a, b, tolerance=tolerance, threshold=threshold) for a, b in matched]
    except (CompareError, RunFolderError) as exc:
        fail(str(exc))
    lang = lang_of(comparisons, lang)
    for c in comparisons:
        click.echo(json.dumps(c.as_json(), ensure_ascii=False) if as_json else "\n".join(summary_lines(c, lang)))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        from .receipts import atomic_write

        atomic_write(out, render(comparisons, lang, unverified))
    except OSError as exc:
        fail(f"--out {out}: cannot write ({exc.strerror or exc})")
    if not as_json:
        _ = gettext_for(lang)
        click.echo(_("report: {path}").format(path=out))
    sys.exit(EXIT_FAILED if any(c.failed for c in comparisons) else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out", "out", default="trends.html", show_default=True, type=click.Path(path_type=Path),
    help="The HTML page (trends.json, the same points for dashboards, is written beside it).",
)  # fmt: skip
@LANG_OPTION
@ACCEPT_UNVERIFIED
def history(paths: tuple[Path, ...], out: Path, lang: str | None, accept_unverified: bool) -> None:
    """Each journey's friction release by release: charts and a table of clicks, pages, verifications,
    retention pages, pre-ticked boxes, active seconds, accessibility findings and visual changes, marking
    what got worse than the release before. PATHS are folders of runs, one per release or CI build, oldest
    first (or single run folders). Exit status 1 when a journey got worse in its latest release.

    \b
    Examples:
      tuiding history runs/release-1.3/ runs/release-1.4/ runs/release-1.5/ --out trends.html
      tuiding history ci-artifacts/build-*/runs
    """
    from .history import HistoryError, language_of, run_dirs
    from .history import history as gather
    from .receipts import atomic_write
    from .report.compare import METRIC_WORDS
    from .report.trends import render

    try:
        journeys = gather(list(paths))
    except HistoryError as exc:
        fail(str(exc))
    unverified = trusted(run_dirs(journeys), accept_unverified)
    chosen = lang or language_of(journeys)
    page, data = render(journeys, chosen, unverified)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, page)
        atomic_write(out.with_suffix(".json"), data)
    except OSError as exc:
        fail(f"--out {out}: cannot write ({exc.strerror or exc})")
    _ = gettext_for(chosen)
    worse = [j for j in journeys if len(j.points) > 1 and j.points[-1].worse_than(j.points[-2])]
    for j in worse:
        what = ", ".join(_(METRIC_WORDS.get(k, k)) for k in j.points[-1].worse_than(j.points[-2]))
        click.echo(_("worse in {label}: {name} ({what})").format(label=j.points[-1].label, name=j.name, what=what))
    click.echo(_("report: {path}").format(path=out))
    sys.exit(EXIT_FAILED if worse else 0)


@main.command()
@click.argument("url", required=False)
@browser_options
@click.option("--portal", metavar="NAME", help="Record on a fresh embedded mock portal (migu, cloudpc) instead of URL.")
@click.option("--device", metavar="NAME", help="A Playwright device name, e.g. 'iPhone 13' (phone layout, touch).")
@click.option(
    "--out",
    "out_file",
    default="recorded.yaml",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Scenario file to write.",
)
@click.option("--name", "title", metavar="TEXT", help="The scenario's name (default: from the file name).")
@click.option(
    "--headless",
    is_flag=True,
    help="No window: for a script that drives the page itself through --debug-port (how the recorder is tested).",
)
@click.option(
    "--debug-port", type=click.IntRange(1024, 65535), metavar="PORT", help="Expose the browser over CDP on 127.0.0.1:PORT."
)
def record(
    url: str | None,
    headed: bool,
    browser_path: str | None,
    connect: str | None,
    connect_timeout: float,
    portal: str | None,
    device: str | None,
    out_file: Path,
    title: str | None,
    headless: bool,
    debug_port: int | None,
) -> None:
    """Write a scenario by doing the journey once in a browser window.

    Every click, typed value, tick, choice and new page becomes a step with
    the most robust target the page offers (role and name, label, test id,
    text; CSS last) and a caption; anything typed into a password field
    becomes ${password} (never written down); each new page gets a `see:` for
    its main heading. Close the window (or press Ctrl-C) to finish: the file
    is written, validated, and how to run it is printed. Not recorded: file
    pickers, drag and drop, hovering, and what happens inside other tabs.

    \b
    Examples:
      tuiding record --portal migu --out scenarios/my_journey.yaml
      tuiding record http://127.0.0.1:5000/login --device "iPhone 13"
    """
    from contextlib import ExitStack

    from .browser import BrowserNotFound, BrowserSession, BrowserStartFailed, UnknownDevice
    from .portals import PortalUnavailable, get_provider
    from .recorder import record_journey

    if bool(url) == bool(portal):
        fail("record: give a URL or --portal NAME (one of them)")
    check_out_dir(out_file.parent if str(out_file.parent) else Path("."))
    if out_file.is_dir():
        fail(f"--out {out_file}: is a folder; name the scenario file to write")
    extra = (f"--remote-debugging-port={debug_port}",) if debug_port else ()
    with ExitStack() as stack:
        try:
            url = stack.enter_context(get_provider(portal, None)()) + "/" if portal else url
            assert url is not None
            session = stack.enter_context(
                BrowserSession(browser_path=browser_path, headed=not headless, extra_args=extra, connect=connect,
                               connect_timeout=connect_timeout)
            )  # fmt: skip
            start = f"recording {url} — do the journey in the browser; close the window or press Ctrl-C to finish"
            recording = record_journey(session, url, portal=portal, device=device, on_start=lambda: click.echo(start, err=True))
        except (PortalUnavailable, ValueError, BrowserNotFound, BrowserStartFailed, UnknownDevice) as exc:
            fail(str(exc))
    _write_recording(recording, out_file, title or out_file.stem.replace("_", " "))


def _write_recording(recording: Any, out_file: Path, name: str) -> None:
    """The recorded journey as a scenario file, validated, and how to run it."""
    from .recorder import write

    write(recording, out_file, name)
    click.echo(f"wrote {out_file}: {len(recording.steps)} steps")
    try:
        load_scenario(out_file)
    except ScenarioInvalid as exc:
        _report_problems(exc.problems)
        fail(f"{out_file} was written but does not validate yet: fix the lines above", EXIT_FAILED)
    env = " ".join(f"TUIDING_{v.upper()}=…" for v in recording.passwords.values())
    click.echo(f"run it: {env + ' ' if env else ''}tuiding run {out_file}")


SIGNUP_OPTION = click.option(
    "--signup",
    "signups",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="RUN_DIR",
    help="A sign-up journey to compare with; repeat for several sites (each run is compared with its own site's).",
)
RULES_OPTION = click.option(
    "--rules",
    metavar="LIST",
    help="Rule packs, comma-separated: shipped names (cn-price, de, eu-gdpr, uk-dmcc, us-ca, us-mn, us-ny, zh) "
    "or .yaml files, or all (default: the packs the runs' `service.jurisdictions` name, else all).",
)
SERVICE_OPTION = click.option(
    "--service",
    metavar="FACTS",
    help="What the service is, over the scenarios' `service:`, e.g. paid=no,renews=no (facts: paid, renews, "
    "contract, consent = yes/no; signup = online/offline). Rules that cannot apply say so.",
)


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@SIGNUP_OPTION
@RULES_OPTION
@SERVICE_OPTION
@LANG_OPTION
@click.option(
    "--allow-unjudged", is_flag=True, help="Exit 0 even when a run could not be judged (it failed, or no rule applies)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per run instead of the checklist.")
@ACCEPT_UNVERIFIED
def check(
    run_dirs: tuple[Path, ...],
    signups: tuple[Path, ...],
    rules: str | None,
    service: str | None,
    lang: str | None,
    allow_unjudged: bool,
    as_json: bool,
    accept_unverified: bool,
) -> None:
    """Is cancelling as easy as the rules ask? Judge finished runs against rule packs.

    Each rule (docs/qa/rights-check.md) is met, not met, not
    measurable or not applicable, with its evidence: the step, its
    screenshot, the number. A run that stopped before it sent the cancellation is not judged.
    Exit status: 0 every run judged, nothing not met; 1 a rule not met;
    2 unreadable input; 3 a run could not be judged (--allow-unjudged: 0).

    \b
    Examples:
      tuiding check runs/*-web_unsubscribe --signup runs/*-web_subscribe
      tuiding check runs/*-newsletter --service paid=no,renews=no,consent=yes --rules eu-gdpr,my_rules.yaml
    """
    from .checklist import CheckInputError, as_text, run_checks, unjudged_line
    from .checklist import as_json as json_line

    try:
        lists = run_checks(run_dirs, signups, rules, service, lang)
    except CheckInputError as exc:
        fail(str(exc))
    trusted([v.journey.dir for v in lists.verdicts] + [v.signup.dir for v in lists.verdicts if v.signup], accept_unverified)
    for verdict in lists.verdicts:
        if as_json:
            click.echo(json_line(verdict))
        else:
            click.echo("\n".join(as_text(verdict, lists.packs, lang)))
    code = lists.exit_code(allow_unjudged)
    if code == 3:
        click.echo(f"tuiding: {unjudged_line(lists, lang)}", err=True)
    sys.exit(code)


@main.group()
def report() -> None:
    """Reports built from finished runs (no browser)."""


@report.command("friction")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@SIGNUP_OPTION
@RULES_OPTION
@SERVICE_OPTION
@LANG_OPTION
@click.option(
    "--out", default="friction.html", show_default=True, type=click.Path(path_type=Path), help="The HTML file to write."
)
@ACCEPT_UNVERIFIED
def report_friction(
    run_dirs: tuple[Path, ...], signups: tuple[Path, ...], rules: str | None, service: str | None, lang: str | None,
    out: Path, accept_unverified: bool,
) -> None:  # fmt: skip
    """One page people can read: each journey as a strip of screens (retention,
    verification, pre-ticked screens and the end of the cancellation flagged),
    its metrics beside the budget and the sign-up journey, and the rights
    checklist with links to the evidence. Several journeys (e.g. every
    variant) are ranked first.

    \b
    Examples:
      tuiding report friction runs/*-web_unsubscribe --signup runs/*-web_subscribe --out friction.html
    """
    from .checklist import CheckInputError, run_checks
    from .receipts import atomic_write
    from .report.friction import build, render

    try:
        lists = run_checks(run_dirs, signups, rules, service, lang)
    except CheckInputError as exc:
        fail(str(exc))
    unverified = trusted(
        [v.journey.dir for v in lists.verdicts] + [v.signup.dir for v in lists.verdicts if v.signup], accept_unverified
    )
    check_out_dir(out.parent if str(out.parent) else Path("."))
    lang = lang or (lists.verdicts[0].journey.lang if lists.verdicts else "en")
    try:
        atomic_write(out, render(build(lists.verdicts, lang), lists.packs, lang, unverified))
    except OSError as exc:
        fail(f"--out {out}: cannot write ({exc.strerror or exc})")
    click.echo(gettext_for(lang)("report: {path}").format(path=out))


def yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError


@main.command()
@click.argument("keyfile", type=click.Path(path_type=Path))
def keygen(keyfile: Path) -> None:
    """Make an Ed25519 key pair for signing runs: KEYFILE (private, mode 0600) and KEYFILE.pub.

    \b
    Example:
      tuiding keygen release.key && tuiding run scenarios/ --sign release.key
      tuiding verify runs/<run> --key release.key.pub
    """
    from .signing import generate

    if keyfile.exists():
        fail(f"{keyfile}: exists; not overwriting a key")
    try:
        pub = generate(keyfile)
    except OSError as exc:
        fail(f"{keyfile}: cannot write ({exc.strerror})")
    click.echo(f"private key: {keyfile} (keep it secret)\npublic key:  {pub} (give it to whoever verifies)")


@main.command()
@click.argument("portal", default="migu")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--dev", is_flag=True, help="Enable the test-control API under /__mock__/ (reset, SMS inbox, clock, settings).")
@click.option("--db", metavar="FILE", help="SQLite state file (default: a fresh temporary one).")
def serve(portal: str, host: str, port: int, dev: bool, db: str | None) -> None:
    """Serve a mock portal with a production WSGI server (waitress).

    \b
    Examples:
      tuiding serve migu --port 8000
      tuiding serve migu --dev --db migu.db
    """
    try:
        from tuiding_portals.registry import UnknownPortal, get_portal
        from tuiding_portals.server import ServeError, serve_forever
    except ImportError as exc:
        fail(f"the mock portals cannot be loaded ({exc}); install them: pip install 'tuiding[portals]'")
    try:
        spec = get_portal(portal)
    except UnknownPortal as exc:
        fail(str(exc))
    try:
        serve_forever(
            portal,
            host,
            port,
            dev=dev,
            database=db,
            ready=lambda url: click.echo(
                f"{spec.title} ({portal}) on {url}" + ("  test API: /__mock__/" if dev else "") + "  (Ctrl-C stops)"
            ),
        )
    except ServeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(0)


@main.command("list")
@paths_argument
def list_(paths: tuple[Path, ...]) -> None:
    """List scenarios with their step count, portal and tags.

    \b
    Example:
      tuiding list scenarios/
    """
    for s in _scenarios(paths):
        click.echo(f"{s.file}\t{s.name}\t{s.step_count} steps\t{s.portal or s.base_url}\t{','.join(s.tags)}")


@main.command()
@click.argument(
    "name",
    default="scenario",
    type=click.Choice(["scenario", "flow", "rules", "ux-patterns", "run", "step", "result", "summary"]),
)
def schema(name: str) -> None:
    """Print a JSON Schema: of scenario, flow or rule-pack files (for editors), of the detection
    patterns (data/ux_patterns.json), or of the run record (run = manifest.json, step = a
    steps.jsonl line, result = a `run --json` line, summary = merge's summary.json).

    \b
    Examples:
      tuiding schema > tuiding.schema.json
      tuiding schema run > tuiding-run.schema.json
    """
    from .schema import schema as make

    click.echo(json.dumps(make(name), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
