"""The generated pages of the docs site, so the reference cannot drift from the code (tests check each page is
current): `python -m tuiding.docgen` (make docs) writes

- docs/reference/cli.md — every command's --help, as users see it;
- docs/reference/scenario.md — the scenario file's keys, the step keys and the actions, with the arguments of
  each, from the models' docstrings, field descriptions and examples (model.py);
- docs/reference/rules.md — the rule-pack format, each check, and every shipped pack's rules with the
  provisions they read (rules.py, data/rules/);
- docs/schema/*.schema.json — the JSON Schemas (schema.py).
"""

from __future__ import annotations

import datetime
import enum
import json
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from . import model as M
from .cli import main
from .schema import NAMES, schema

GENERATED = "Generated from the code by `python -m tuiding.docgen` (`make docs`); do not edit by hand."

# ---------------------------------------------------------------- types in words


def _named() -> list[tuple[Any, str]]:
    return [
        (M.TargetSpec, "target"), (M.StepTimeout, "duration"), (M.PollEvery, "duration"), (M.PollTimeout, "duration"),
        (M.Pause, "duration"), (M.Regex, "regular expression"), (M.VarName, "variable name"),
    ]  # fmt: skip


def type_words(annotation: Any) -> str:
    """A field's type as a reader needs it: text, number, true/false, a list, `a` | `b`, a mapping…"""
    for named, name in _named():
        if annotation == named:
            return name
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_words(args[0])
    if origin in (Union, types.UnionType):
        alternatives = [type_words(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(alternatives))
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {type_words(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "true/false"
        if issubclass(annotation, datetime.date):
            return "date"
        if issubclass(annotation, (int, float)):
            return "number"
        if issubclass(annotation, str):
            return "text"
        if issubclass(annotation, enum.Enum):
            return " \\| ".join(f"`{m.value}`" for m in annotation)
        if issubclass(annotation, BaseModel):
            return "mapping"
    return "value"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is PydanticUndefined or value is None or value in ([], {}, ()):
        return ""
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def key_table(model: type[BaseModel], skip: tuple[str, ...] = ()) -> str:
    if model is not M.Target and issubclass(model, M.Target):
        skip = (*skip, *M.Target.model_fields)  # a target's keys are in their own table
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in skip or name in skip:
            continue
        meaning = _cell(field.description or "")
        examples = " · ".join(f"`{e}`" for e in (field.examples or []))
        if examples:
            meaning = f"{meaning}<br>{examples}" if meaning else examples
        rows.append(f"| `{key}` | {type_words(field.annotation)} | {_default(field)} | {meaning} |")
    return "\n".join(rows) + "\n"


def undocumented(models: list[type[BaseModel]]) -> list[str]:
    """Fields of documented models without a description (a test keeps this empty)."""
    return [
        f"{m.__name__}.{field.alias or name}"
        for m in models
        for name, field in m.model_fields.items()
        if not (field.description or "").strip() and not _tag(field)
    ]


def _tag(field: FieldInfo) -> bool:
    """A discriminator (`check: receipt`): named by its heading, not described."""
    return get_origin(field.annotation) is Literal and len(get_args(field.annotation)) == 1


# ---------------------------------------------------------------- the scenario reference

# (heading, model, what it is): the arguments and nested keys a reader looks up.
ARGUMENTS: list[tuple[str, type[BaseModel], str]] = [
    ("Targets", M.Target, "A target is text, or a mapping with one way of finding the element and optional `nth`/`exact`."),
    ("`select:`", M.SelectArg, "A target and the option to choose."),
    ("`press:`", M.PressArg, "A target and the key."),
    ("`count:`", M.CountArg, "A target and how many visible matches there must be."),
    ("`expect_url:` as a mapping", M.UrlMatch, "Exactly one of these."),
    ("`wait:` for an element", M.WaitFor, "Wait until the element is in this state."),
    ("`wait:` polling", M.WaitUntil, "Check a condition every so often, reloading the page if asked."),
    ("`if:` and `until:` conditions", M.Condition, "Exactly one of these."),
    ("`save:`", M.SaveArg, "Keep an element's text."),
    ("`request:`", M.RequestArg, "An HTTP call with the browser's cookies."),
    ("`upload:`", M.UploadArg, "A target (the file input) and the files."),
    ("`download:`", M.DownloadArg, "What to click, what to call the file, what it must hold."),
    ("`download: expect:`", M.DownloadExpect, "Checks on the downloaded file."),
    ("`email:`", M.EmailArg, "Which message; every filter given must match."),
    ("`service:`", M.Service, "What the service is (the rights check's applicability)."),
    ("`budget:`", M.Budget, "Maxima for the whole run; exceeding one fails the run."),
    ("`check:` as a mapping", M.CheckOptions, "The scenario's own rights check."),
    ("`mailbox: {smtp: …}`", M.SmtpSink, "An SMTP server on 127.0.0.1 for the run."),
    ("`mailbox: {folder: …}`", M.FolderSpec, "A folder of messages."),
    ("`mailbox: {imap: {…}}`", M.ImapAccount, "A real mailbox over IMAP."),
    ("`ux:`", M.UxPatterns, "Regular expressions (case-insensitive) replacing the defaults of a kind."),
    ("`visual:`", M.VisualOptions, "How different a receipt may be from its baseline."),
]


def actions_table() -> str:
    rows = ["| action | what it does | example |", "| --- | --- | --- |"]
    for name, cls in M.ACTIONS.items():
        examples = "<br>".join(f"`{e}`" for e in cls.EXAMPLES)
        rows.append(f"| `{name}` | {_cell(cls.SUMMARY)} | {examples} |")
    return "\n".join(rows) + "\n"


def render_scenario() -> str:
    parts = [
        "# Scenario reference\n",
        f"{GENERATED} How to write a journey is in [Writing scenarios](../scenarios/writing.md).\n",
        "## Top-level keys\n",
        key_table(M.ScenarioFile),
        "## Step keys\n",
        "Every step is a mapping with **one action** plus any of these keys.\n",
        key_table(M.StepBase, skip=("vars",)) + "| `vars` | mapping |  | with `run:` only: values for the flow's variables |\n",
        "## Actions\n",
        actions_table(),
        "## Arguments and nested keys\n",
    ]
    for heading, model, what in ARGUMENTS:
        parts += [f"### {heading}\n", f"{what}\n", key_table(model)]
    return "\n".join(parts)


def documented_models() -> list[type[BaseModel]]:
    from . import rules as R

    models: list[type[BaseModel]] = [M.ScenarioFile, M.StepBase, R.RulePack, R.AppliesIf, R.AskItem, *_checks()]
    return models + [m for _, m, _ in ARGUMENTS]


def _checks() -> list[type[BaseModel]]:
    from . import rules as R

    return list(get_args(get_args(R.Rule)[0]))


# ---------------------------------------------------------------- the rules reference


def render_rules() -> str:
    from . import rules as R

    checks = _checks()
    parts = [
        "# Rule packs reference\n",
        f"{GENERATED} What the verdicts mean and how runs are judged is in "
        "[Is cancelling easy enough?](../qa/rights-check.md).\n",
        "## A pack\n",
        key_table(R.RulePack),
        "### `applies_if` (of a pack or a rule)\n",
        "A fact nobody stated never stops a rule.\n",
        key_table(R.AppliesIf),
        "## Checks\n",
        "Each rule names one `check` and its parameters; besides them every rule has `id`, `title`, `source`, "
        "`channels` and `applies_if`.\n",
    ]
    common = set(R._RuleBase.model_fields)
    for cls in checks:
        check = get_args(cls.model_fields["check"].annotation)[0]
        parts += [f"### `{check}`\n", f"{' '.join((cls.__doc__ or '').split())}\n"]
        own = tuple(n for n in cls.model_fields if n in common or n == "check")
        if len(cls.model_fields) > len(own):
            parts.append(key_table(cls, skip=own))
    parts.append("## The shipped packs\n")
    for name in R.shipped():
        parts += _pack_section(name)
    return "\n".join(parts)


def _facts(applies: BaseModel | None) -> str:
    facts = applies.model_dump() if applies is not None else {}
    return ", ".join(f"{k}: {str(v).lower()}" for k, v in facts.items() if v is not None)


def _pack_section(name: str) -> list[str]:
    from . import rules as R

    _, pack = R.load_pack(name)
    status = f"in force since {pack.in_force}" if pack.in_force else "no in-force date given"
    if pack.upcoming:
        status = f"**not in force yet**: {pack.upcoming}"
    lines = [
        f"### `{name}` — {R.text_in(pack.name, 'en')}\n",
        f"{pack.jurisdiction or ''} · {status} · applies to: {_facts(pack.applies_if) or 'every service'}\n",
        "| rule | what it asks | check | applies if | channels | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in pack.rules:
        lines.append(
            f"| `{rule.id}` | {_cell(R.text_in(rule.title, 'en'))} | `{rule.check}` | {_facts(rule.applies_if)} | "
            f"{', '.join(rule.channels) or 'all'} | {_cell(R.text_in(rule.source, 'en'))} |"
        )
    return [*lines, ""]


# ---------------------------------------------------------------- the command line


def render_cli() -> str:
    parts = [
        "# Command line reference\n",
        "Generated from `tuiding --help` by `python -m tuiding.docgen`; do not edit by hand.\n",
    ]
    # The same settings as a real invocation (help option names, width), so the text is what users see.
    settings = {**main.context_settings, "terminal_width": 100}
    ctx = click.Context(main, info_name="tuiding", **settings)
    parts.append(f"## tuiding\n\n```\n{main.get_help(ctx)}\n```\n")
    for name, cmd in main.commands.items():
        sub = click.Context(cmd, info_name=name, parent=ctx, **settings)
        parts.append(f"## tuiding {name}\n\n```\n{cmd.get_help(sub)}\n```\n")
    return "\n".join(parts)


def pages() -> dict[str, str]:
    """Every generated file, by its path under docs/."""
    out = {
        "reference/cli.md": render_cli(),
        "reference/scenario.md": render_scenario(),
        "reference/rules.md": render_rules(),
    }
    for name in NAMES:
        out[f"schema/{name}.schema.json"] = json.dumps(schema(name), ensure_ascii=False, indent=2) + "\n"
    return out


def write(docs: Path = Path("docs")) -> None:
    for rel, text in pages().items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {docs}/reference/*.md and {docs}/schema/*.schema.json")


if __name__ == "__main__":
    write()
