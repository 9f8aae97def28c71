"""pytest plugin: every scenario YAML file is one test, run on pytest-playwright's fixtures.

Collection (this module's File/Item) is kept apart from execution (runner.run_scenario).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .scenario import ScenarioInvalid, expand, is_flow_file, load_scenario

_TOP_LEVEL_STEPS = re.compile(r"^steps\s*:", re.M)
_SECRETS_KEY = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tuiding", "tuiding scenarios")
    group.addoption("--tuiding-out", default="runs", metavar="DIR", help="Folder for scenario run folders (default: runs).")
    group.addoption("--tuiding-timeout", default=10.0, type=float, metavar="SECONDS", help="Default step timeout.")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SECRETS_KEY] = []
    # Registered now, after every entry-point plugin, so this override of pytest-playwright's
    # launch-args fixture is the one used: it adds our browser discovery and Chromium flags.
    from . import pytest_launch

    if not config.pluginmanager.is_registered(pytest_launch):
        config.pluginmanager.register(pytest_launch, "tuiding-launch-args")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or is_flow_file(file_path):
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not _TOP_LEVEL_STEPS.search(text):  # not a scenario (CI configs, other YAML)
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self):
        try:
            scenario = load_scenario(self.path)
        except ScenarioInvalid as exc:
            raise self.CollectError(str(exc)) from None
        for variant in expand(scenario):
            name = self.path.stem + (f"[{variant.variant}]" if variant.variant else "")
            item = ScenarioItem.from_parent(self, name=name, callobj=_scenario_test)
            item.scenario = variant
            for tag in variant.tags:
                self.config.addinivalue_line("markers", f"{tag}: tuiding scenario tag")
                item.add_marker(tag)
            yield item


class ScenarioFailed(AssertionError):
    def __init__(self, result: Any) -> None:
        super().__init__(result.failure.message if result.failure else result.status)
        self.result = result


class ScenarioItem(pytest.Function):
    scenario: Any = None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            r = excinfo.value.result
            f = r.failure
            shot = r.run_dir / f.step.screenshot if f and f.step.screenshot else "(none)"
            lines = [f"scenario {r.scenario.name!r} failed"]
            if f:
                lines += [f"step {f.step.index} 「{f.step.name}」 at {f.step.source}", f"  {f.message}", f"  screenshot: {shot}"]
            lines.append(f"  report: {r.run_dir / 'report.html'}")
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, 0, f"scenario: {self.scenario.name if self.scenario else self.name}"


class _PytestBrowser:
    """The runner's ContextFactory over pytest-playwright's `new_context` fixture.

    Options given on pytest's command line (--base-url, --device) win over the scenario's.
    """

    def __init__(self, new_context: Any, devices: dict, fixed: dict) -> None:
        self._new_context, self.devices, self._fixed = new_context, devices, fixed

    def new_context(self, **kwargs: Any) -> Any:
        return self._new_context(**{k: v for k, v in kwargs.items() if k not in self._fixed})


def _scenario_test(request: pytest.FixtureRequest, playwright: Any, new_context: Any, browser: Any,
                   browser_context_args: dict, output_path: str) -> None:
    from .runner import RunOptions, run_scenario

    config = request.config
    item = request.node
    tracing_by_pytest = config.getoption("--tracing", default="off") != "off"
    opts = RunOptions(
        out_dir=Path(config.getoption("--tuiding-out")),
        base_url=browser_context_args.get("base_url"),
        trace="off" if tracing_by_pytest else "on-failure",
        timeout=config.getoption("--tuiding-timeout"),
        browser=f"{browser.browser_type.name} {browser.version}",
    )
    result = run_scenario(item.scenario, _PytestBrowser(new_context, playwright.devices, browser_context_args), opts)
    if tracing_by_pytest:
        # pytest-playwright writes its trace into output_path after the test; scrub it at session end.
        config.stash[_SECRETS_KEY].append((Path(output_path), result.secrets))
    if not result.passed:
        raise ScenarioFailed(result)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder, secrets in session.config.stash.get(_SECRETS_KEY, []):
        if folder.is_dir():
            for trace in folder.rglob("*.zip"):
                secrets.scrub_zip(trace)
