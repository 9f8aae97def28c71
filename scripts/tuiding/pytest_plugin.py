"""pytest plugin: scenario YAML files as pytest items, run on pytest-playwright's fixtures.

Inert unless the project opts in: `tuiding_scenarios = scenarios` in its pytest configuration,
or `--tuiding-scenarios PATH` on the command line. Without that, installing tuiding[pytest]
changes nothing in a project's pytest runs (no collection, no fixture overrides, no markers).

Collection (this module's File/Item) is kept apart from execution (runner.run_scenario).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .options import TRACE_MODES
from .scenario import Scenario, ScenarioInvalid, expand, is_flow_file, load_scenario

_TOP_LEVEL_STEPS = re.compile(r"^steps\s*:", re.M)
_ROOTS = pytest.StashKey[list[Path]]()
_SECRETS = pytest.StashKey[list[tuple[Path, Any]]]()
_LAST_RUN = pytest.StashKey[str]()  # an item's previous run_id, for the run a rerun replaces


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tuiding", "tuiding scenarios")
    group.addoption(
        "--tuiding-scenarios",
        action="append",
        default=[],
        metavar="PATH",
        help="Collect scenario files under PATH as tests (repeatable; or set tuiding_scenarios in the ini file).",
    )
    group.addoption("--tuiding-out", default="runs", metavar="DIR", help="Folder for scenario run folders (default: runs).")
    group.addoption("--tuiding-timeout", default=10.0, type=float, metavar="SECONDS", help="Default step timeout (default: 10).")
    group.addoption(
        "--tuiding-live", action="store_true", help="Allow sites that are not this machine (a scenario there really cancels)."
    )
    group.addoption("--tuiding-sign", default=None, metavar="KEYFILE", help="Sign each run's seal with this Ed25519 private key.")
    group.addoption(
        "--tuiding-update-baselines", action="store_true", help="Approve this run's receipts as the scenarios' visual baselines."
    )
    group.addoption(
        "--tuiding-no-visual", action="store_true", help="Skip comparing receipts with the scenarios' visual baselines."
    )
    group.addoption(
        "--tuiding-trace",
        choices=TRACE_MODES,
        default="on-retry",
        help="Playwright trace.zip in each run folder: on-retry (default) traces a scenario when it is run again "
        "(pytest-rerunfailures: --reruns N), so a passing suite pays nothing; on-failure traces every scenario and "
        "keeps failed ones; on keeps all; off. pytest-playwright's --tracing replaces it.",
    )
    parser.addini("tuiding_scenarios", type="paths", default=[], help="Folders (or files) whose scenario YAML files are tests.")


def pytest_configure(config: pytest.Config) -> None:
    roots = [Path(p).resolve() for p in config.getini("tuiding_scenarios")]
    roots += [Path(p).resolve() for p in config.getoption("--tuiding-scenarios")]
    config.stash[_ROOTS] = roots
    config.stash[_SECRETS] = []
    if not roots:
        return  # not opted in: no side effects
    if config.getoption("--tuiding-no-visual") and config.getoption("--tuiding-update-baselines"):
        raise pytest.UsageError("tuiding: --tuiding-no-visual and --tuiding-update-baselines contradict each other: choose one")
    try:
        import pytest_playwright  # noqa: F401
    except ImportError:
        raise pytest.UsageError(
            "tuiding: scenarios as pytest tests need pytest-playwright: pip install 'tuiding[pytest]'"
        ) from None
    # Registered now, after every entry-point plugin, so this override of pytest-playwright's
    # launch-args fixture is the one used: it adds our browser discovery and Chromium flags.
    from . import pytest_launch

    if not config.pluginmanager.is_registered(pytest_launch):
        config.pluginmanager.register(pytest_launch, "tuiding-launch-args")


def _opted_in(config: pytest.Config, path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved == root or root in resolved.parents for root in config.stash.get(_ROOTS, []))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or is_flow_file(file_path) or not _opted_in(parent.config, file_path):
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not _TOP_LEVEL_STEPS.search(text):  # not a scenario (CI configs, other YAML)
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioInvalid as exc:
            raise self.CollectError(str(exc)) from None
        for variant in expand(scenario):
            name = self.path.stem + (f"[{variant.row}]" if variant.row else "")
            item = ScenarioItem.from_parent(self, name=name, callobj=_scenario_test)
            item.scenario = variant
            for tag in variant.tags:
                self.config.addinivalue_line("markers", f"{tag}: tuiding scenario tag")
                item.add_marker(tag)
            yield item


class ScenarioFailed(AssertionError):
    def __init__(self, result: Any, *, untraced: bool = False) -> None:
        super().__init__(result.failure.message if result.failure else result.status)
        self.result = result
        self.untraced = untraced  # on-retry and never rerun: the report says how to get a trace


class ScenarioItem(pytest.Function):
    scenario: Scenario | None = None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            r = excinfo.value.result
            f = r.failure
            lines = [f"scenario {r.scenario.name!r} {r.status}"]
            if f and f.step:
                shot = r.run_dir / f.screenshot if f.screenshot else "(none)"
                lines += [
                    f"step {f.step} 「{r.records[f.step - 1].name}」 at {f.source}",
                    *[f"  {line}" for line in f.message.splitlines()],
                    f"  screenshot: {shot}",
                ]
            elif f:
                lines.append(f"  {f.message}")
            lines.append(f"  report: {r.run_dir / 'report.html'}")
            if (r.run_dir / "trace.zip").is_file():
                lines.append(f"  trace: {r.run_dir / 'trace.zip'} (playwright show-trace)")
            elif excinfo.value.untraced:
                lines.append(
                    "  no trace.zip was recorded (--tuiding-trace on-retry traces reruns): add --reruns 1 "
                    "(pytest-rerunfailures), or --tuiding-trace on-failure"
                )
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, 0, f"scenario: {self.scenario.name if self.scenario else self.name}"


class PytestBrowser:
    """The runner's ContextFactory over pytest-playwright's fixtures (`new_context`, or `browser.new_context`).

    Options given on pytest's command line (--base-url, --device) win over the scenario's.
    """

    def __init__(self, new_context: Any, devices: dict[str, Any], fixed: dict[str, Any], *, description: str = "") -> None:
        self._new_context, self.devices, self._fixed, self.description = new_context, devices, fixed, description

    def new_context(self, **kwargs: Any) -> Any:
        return self._new_context(**{k: v for k, v in kwargs.items() if k not in self._fixed})


def _scenario_test(
    request: pytest.FixtureRequest,
    playwright: Any,
    new_context: Any,
    browser: Any,
    browser_context_args: dict[str, Any],
    output_path: str,
) -> None:
    from .options import from_flags
    from .outputs import finish, scenario_check
    from .results import RunInterrupted
    from .runner import run_scenario

    config = request.config
    item = request.node
    assert isinstance(item, ScenarioItem) and item.scenario is not None
    tracing_by_pytest = config.getoption("--tracing", default="off") != "off"
    key = None
    if config.getoption("--tuiding-sign"):
        from .signing import load_private

        key = load_private(Path(config.getoption("--tuiding-sign")))
    # pytest-rerunfailures counts an item's runs (1, then 2 on its first rerun); a rerun is traced under on-retry,
    # as `tuiding run --retries` does, and its manifest names the run it replaces.
    attempt = int(getattr(item, "execution_count", 1) or 1)
    opts = from_flags(
        out_dir=Path(config.getoption("--tuiding-out")),
        base_url=browser_context_args.get("base_url"),
        trace="off" if tracing_by_pytest else str(config.getoption("--tuiding-trace")),
        attempt=attempt,
        retry_of=item.stash.get(_LAST_RUN, None) if attempt > 1 else None,
        timeout=config.getoption("--tuiding-timeout"),
        browser=f"{browser.browser_type.name} {browser.version}",
        update_baselines=config.getoption("--tuiding-update-baselines"),
        no_visual=config.getoption("--tuiding-no-visual"),
        live=config.getoption("--tuiding-live"),
        after_run=scenario_check(item.scenario),
    )
    try:
        result = run_scenario(item.scenario, PytestBrowser(new_context, playwright.devices, browser_context_args), opts)
    except RunInterrupted as exc:
        finish(exc.result.run_dir, key=key)
        raise
    item.stash[_LAST_RUN] = result.manifest.run_id
    finish(result.run_dir, key=key)
    if config.getoption("allure_report_dir", default=None):
        _allure_steps(result)
    if tracing_by_pytest:
        # pytest-playwright writes its trace into output_path after the test; scrub it at session end.
        config.stash[_SECRETS].append((Path(output_path), result.secrets))
    if not result.passed:
        raise ScenarioFailed(result, untraced=opts.trace == "on-retry" and attempt == 1)


def _allure_steps(result: Any) -> None:
    """With allure-pytest recording (--alluredir), the journey's steps become the test's Allure steps, each with
    its receipt, and report.html is attached: the same as `tuiding run --results` writes (allure_results.py)."""
    import allure

    for r in result.records:
        step = allure.step(f"{r.index:02d} {r.name}")
        step.__enter__()
        if r.screenshot:
            allure.attach.file(str(result.run_dir / r.screenshot), name=r.name, attachment_type=allure.attachment_type.PNG)
        failed = AssertionError(r.error or r.status) if r.status == "failed" else None
        step.__exit__(type(failed) if failed else None, failed, None)  # a failed step is marked so, nothing raised
    report = result.run_dir / "report.html"
    if report.is_file():
        allure.attach.file(str(report), name="report.html", attachment_type=allure.attachment_type.HTML)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder, secrets in session.config.stash.get(_SECRETS, []):
        if folder.is_dir():
            for trace in folder.rglob("*.zip"):
                secrets.scrub_zip(trace)
