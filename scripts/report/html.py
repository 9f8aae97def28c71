"""report.html: a self-contained run report (screenshots inlined), readable offline."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..receipts import atomic_write

_env = Environment(loader=PackageLoader("scripts", "report"), autoescape=select_autoescape(["html"]))


def _data_uri(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def render_report(run_dir: Path) -> str:
    manifest: dict[str, Any] = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    steps = [{**s, "image": _data_uri(run_dir / s["screenshot"]) if s.get("screenshot") else None}
             for s in manifest.get("steps", [])]
    return _env.get_template("run_report.html").render(m=manifest, steps=steps)


def write_report(run_dir: Path) -> Path:
    path = run_dir / "report.html"
    atomic_write(path, render_report(run_dir))
    return path
