"""The docs describe what the code does: the reference pages are generated and current, every key has a
description, every example validates, the README stays short and reaches every page, and the pages the
tests cannot generate (seed accounts, coverage tables) match the portals and scenarios."""

import re
from pathlib import Path

import pytest
import yaml

from tuiding import model as M
from tuiding.docgen import documented_models, pages, undocumented

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def page(rel: str) -> str:
    return (DOCS / rel).read_text(encoding="utf-8")


@pytest.mark.current_deps  # click's --help layout and pydantic's schemas differ between versions
def test_the_generated_pages_are_current():
    stale = [rel for rel, text in pages().items() if not (DOCS / rel).is_file() or page(rel) != text]
    assert stale == [], "run: make docs"


def test_every_documented_key_says_what_it_is():
    assert undocumented(documented_models()) == []


@pytest.mark.parametrize("name", list(M.ACTIONS))
def test_each_action_has_examples_that_validate(name):
    cls = M.ACTIONS[name]
    assert cls.EXAMPLES, name
    for example in cls.EXAMPLES:
        step = yaml.safe_load(example)
        assert M.step_adapter(name).validate_python(step).ACTION == name


def test_every_step_key_example_is_that_key():
    for key, field in M.StepBase.model_fields.items():
        for example in field.examples or []:
            assert next(iter(yaml.safe_load(example))) == (field.alias or key), example


def test_the_readme_is_short_and_reaches_every_page():
    assert len(README.encode("utf-8")) < 16 * 1024
    linked = set(re.findall(r"\]\(docs/([^)#]+\.md)", README))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")} - {"index.md"}
    assert on_disk - linked == set(), "pages the README does not link to"
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert {p for p in on_disk if f": {p}" not in nav} == set(), "pages missing from mkdocs.yml's nav"


def test_yaml_examples_in_the_docs_are_valid_scenarios_or_steps():
    """A reader copies them: whole scenarios validate as scenarios, lists of steps as steps."""
    checked = 0
    for path in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for block in re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            data = yaml.safe_load(block)
            if isinstance(data, dict) and "steps" in data and "name" in data:
                M.SCENARIO_ADAPTER.validate_python(data)
            elif isinstance(data, list) and all(isinstance(s, dict) and len(set(s) & set(M.ACTIONS)) == 1 for s in data):
                for step in data:
                    action = next(k for k in step if k in M.ACTIONS)
                    M.step_adapter(action).validate_python(step)
            else:
                continue
            checked += 1
    assert checked >= 8


def test_the_seed_accounts_are_documented():
    from tuiding_portals.cloudpc.seed import ACCOUNTS as CLOUDPC
    from tuiding_portals.migu.seed import ACCOUNTS as MIGU

    migu, cloudpc = page("portals/migu.md"), page("portals/cloudpc.md")
    for a in MIGU:
        assert f"| {a.account} | {a.password} |" in migu
    for c in CLOUDPC:
        assert f"| {c.phone} | {c.password} |" in cloudpc


def _scenario_column(table: str) -> set[str]:
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return {m for row in rows for m in re.findall(r"`([a-z_]+)`", row.rsplit("|", 2)[-2])}


def test_every_migu_scenario_is_in_the_guide_coverage_table_and_vice_versa():
    table = page("portals/migu.md").split("which scenario covers each part of the guide")[1]
    named = _scenario_column(table)
    on_disk = {p.stem for p in (ROOT / "scenarios" / "migu").glob("*.yaml")}
    assert on_disk <= named, f"scenarios missing from the table: {on_disk - named}"
    assert named <= on_disk, f"table names scenarios that do not exist: {named - on_disk}"


def test_every_cloudpc_scenario_is_in_its_coverage_table():
    table = page("portals/cloudpc.md").split("| guide section | portal pages | scenario(s) in `scenarios/cloudpc/` |")[1]
    named = _scenario_column("| header |\n" + table.split("\n#")[0])
    on_disk = {p.stem for p in (ROOT / "scenarios" / "cloudpc").glob("*.yaml")}
    flows = {p.stem for p in (ROOT / "scenarios" / "flows").glob("*.yaml")}
    assert named - flows == on_disk


def test_the_package_version_is_the_distributions():
    import tomllib

    import tuiding

    assert tuiding.__version__ == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_public_api_resolves_and_import_stays_light():
    import subprocess
    import sys

    import tuiding

    assert sorted(tuiding.__all__) == sorted(["__version__", *tuiding._WHERE])
    for name in tuiding.__all__:
        assert getattr(tuiding, name) is not None, name
    code = "import sys, tuiding; assert not [m for m in ('playwright', 'pydantic', 'flask') if m in sys.modules]"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
