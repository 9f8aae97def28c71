"""Write docs/cli.md from the CLI's own --help texts, so the docs never drift (checked by a test)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import main


def render() -> str:
    parts = ["# tuiding command line\n", "Generated from `tuiding --help` by `python -m scripts.cli_docs`; do not edit by hand.\n"]
    ctx = click.Context(main, info_name="tuiding", max_content_width=100, terminal_width=100)
    parts.append(f"## tuiding\n\n```\n{main.get_help(ctx)}\n```\n")
    for name, cmd in main.commands.items():
        sub = click.Context(cmd, info_name=name, parent=ctx, max_content_width=100, terminal_width=100)
        parts.append(f"## tuiding {name}\n\n```\n{cmd.get_help(sub)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/cli.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
