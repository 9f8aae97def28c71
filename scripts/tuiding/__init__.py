"""tuiding: YAML unsubscribe journeys in a real browser, one screenshot receipt per step.

The public API — what embedding code, the pytest plugin and other tools may use; the rest may change:

    from tuiding import load_scenario, run_scenario, RunOptions, BrowserSession
    with BrowserSession() as browser:
        result = run_scenario(load_scenario("scenarios/migu/web_pause.yaml"), browser, RunOptions(out_dir=Path("runs")))
    manifest = load_manifest(result.run_dir)

Names are imported when first used, so `import tuiding` stays cheap (the pytest plugin is loaded in every
pytest run of a project that installs tuiding[pytest]).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # kept equal to pyproject.toml's version by tests/test_docs.py

_WHERE = {
    "load_scenario": "scenario", "load_flow": "scenario", "Scenario": "scenario", "ScenarioInvalid": "scenario",
    "expand": "scenario", "RunOptions": "options", "from_flags": "options", "run_scenario": "runner",
    "RunResult": "results", "RunInterrupted": "results", "BrowserSession": "browser", "load_manifest": "record",
    "load_steps": "record", "Manifest": "record", "StepRecord": "record", "verify": "verify",
    "check_run": "check", "load_packs": "rules", "schema": "schema",
}  # fmt: skip
__all__ = [
    "__version__", "load_scenario", "load_flow", "Scenario", "ScenarioInvalid", "expand", "RunOptions", "from_flags",
    "run_scenario", "RunResult", "RunInterrupted", "BrowserSession", "load_manifest", "load_steps", "Manifest",
    "StepRecord", "verify", "check_run", "load_packs", "schema",
]  # fmt: skip

if TYPE_CHECKING:
    from .browser import BrowserSession
    from .check import check_run
    from .options import RunOptions, from_flags
    from .record import Manifest, StepRecord, load_manifest, load_steps
    from .results import RunInterrupted, RunResult
    from .rules import load_packs
    from .runner import run_scenario
    from .scenario import Scenario, ScenarioInvalid, expand, load_flow, load_scenario
    from .schema import schema
    from .verify import verify


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'tuiding' has no attribute '{name}'")
