"""The README and docs/cli.md describe what the code does."""

from pathlib import Path

import pytest

from tuiding.cli_docs import render
from tuiding.model import ACTIONS, ScenarioFile, StepBase

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.current_deps  # click's --help layout differs between versions
def test_cli_docs_are_generated_from_help():
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == render(), "run: python -m tuiding.cli_docs"


def test_readme_documents_every_action_and_key():
    for name in ACTIONS:
        assert f"| `{name}` |" in README, name
    for key in StepBase.keys() + ScenarioFile.keys() + ["vars"]:
        assert f"`{key}`" in README, key


def test_readme_lists_the_seed_accounts():
    from tuiding_portals.migu.seed import ACCOUNTS

    for a in ACCOUNTS:
        assert f"| {a.account} | {a.password} |" in README


def test_every_migu_scenario_is_in_the_guide_coverage_table_and_vice_versa():
    import re

    table = README.split("which scenario covers each part of the guide")[1].split("## The cloud PC portal")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    named = {m for row in rows for m in re.findall(r"`([a-z_]+)`", row.rsplit("|", 2)[-2])}  # the scenario column
    on_disk = {p.stem for p in (ROOT / "scenarios" / "migu").glob("*.yaml")}
    assert on_disk <= named, f"scenarios missing from the table: {on_disk - named}"
    assert named <= on_disk, f"table names scenarios that do not exist: {named - on_disk}"


def test_cloudpc_accounts_and_scenarios_are_documented():
    import re

    from tuiding_portals.cloudpc.seed import ACCOUNTS

    for a in ACCOUNTS:
        assert f"| {a.phone} | {a.password} |" in README
    table = README.split("| guide section | portal pages | scenario(s) in `scenarios/cloudpc/` |")[1].split("###")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    named = {m for row in rows for m in re.findall(r"`([a-z_]+)`", row.rsplit("|", 2)[-2])}
    on_disk = {p.stem for p in (ROOT / "scenarios" / "cloudpc").glob("*.yaml")}
    flows = {p.stem for p in (ROOT / "scenarios" / "flows").glob("*.yaml")}
    assert named - flows == on_disk


def test_the_package_version_is_the_distributions():
    import tomllib

    import tuiding

    assert tuiding.__version__ == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
