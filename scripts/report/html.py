"""report.html: a self-contained run report (screenshots inlined), readable offline."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ..receipts import atomic_write
from ..record import load_manifest

_env = Environment(loader=PackageLoader("tuiding", "report"), autoescape=select_autoescape(["html"]))


def _data_uri(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def render_report(run_dir: Path) -> str:
    manifest = load_manifest(run_dir)
    steps = [{**s.model_dump(), "image": _data_uri(run_dir / s.screenshot) if s.screenshot else None} for s in manifest.steps]
    checks_file = run_dir / "check.json"
    checks = json.loads(checks_file.read_text(encoding="utf-8")) if checks_file.is_file() else []
    return _env.get_template("run_report.html").render(m=manifest, steps=steps, checks=checks)


def write_report(run_dir: Path) -> Path:
    path = run_dir / "report.html"
    atomic_write(path, render_report(run_dir))
    return path
