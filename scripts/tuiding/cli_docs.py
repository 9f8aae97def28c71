"""Write docs/cli.md from the CLI's own --help texts and docs/schema/*.json from the models,
so the docs never drift (checked by tests): `python -m tuiding.cli_docs`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import main
from .schema import NAMES, schema


def render() -> str:
    parts = [
        "# tuiding command line\n",
        "Generated from `tuiding --help` by `python -m tuiding.cli_docs`; do not edit by hand.\n",
    ]
    # The same settings as a real invocation (help option names, width), so the text is what users see.
    settings = {**main.context_settings, "terminal_width": 100}
    ctx = click.Context(main, info_name="tuiding", **settings)
    parts.append(f"## tuiding\n\n```\n{main.get_help(ctx)}\n```\n")
    for name, cmd in main.commands.items():
        sub = click.Context(cmd, info_name=name, parent=ctx, **settings)
        parts.append(f"## tuiding {name}\n\n```\n{cmd.get_help(sub)}\n```\n")
    return "\n".join(parts)


def write(docs: Path = Path("docs")) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "cli.md").write_text(render(), encoding="utf-8")
    (docs / "schema").mkdir(exist_ok=True)
    for name in NAMES:
        text = json.dumps(schema(name), ensure_ascii=False, indent=2) + "\n"
        (docs / "schema" / f"{name}.schema.json").write_text(text, encoding="utf-8")
    print(f"wrote {docs}/cli.md and {docs}/schema/*.schema.json")


if __name__ == "__main__":
    write()
