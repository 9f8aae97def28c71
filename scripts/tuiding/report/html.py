"""report.html: a self-contained run report (screenshots inlined), readable offline, in the run's language."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from ..i18n import language
from ..receipts import atomic_write
from ..record import image_or_none, load_manifest, parse_json, read_bounded, receipt
from .env import environment


def _data_uri(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _checks(run_dir: Path) -> tuple[list[dict[str, Any]], str | None]:
    """check.json: a list of verdicts (older folders), or {judged, not_judged, results}."""
    path = run_dir / "check.json"
    if not os.path.lexists(path):
        return [], None
    data = parse_json(read_bounded(path).decode("utf-8", "replace"), str(path))
    if isinstance(data, list):
        return data, None
    if not isinstance(data, dict):
        return [], None
    return list(data.get("results") or []), data.get("not_judged")


def render_report(run_dir: Path, lang: str | None = None) -> str:
    manifest = load_manifest(run_dir)
    steps = [
        {
            **s.model_dump(),
            "image": image_or_none(receipt(run_dir, s.screenshot), _data_uri),
            "baseline_image": image_or_none(receipt(run_dir, s.visual.approved), _data_uri) if s.visual else None,
            "diff_image": image_or_none(receipt(run_dir, s.visual.diff), _data_uri) if s.visual else None,
        }
        for s in manifest.steps
    ]
    checks, not_judged = _checks(run_dir)
    lang = lang or language(manifest.lang or manifest.locale)
    return environment(lang).get_template("run_report.html").render(m=manifest, steps=steps, checks=checks, not_judged=not_judged)


def write_report(run_dir: Path, lang: str | None = None) -> Path:
    path = run_dir / "report.html"
    atomic_write(path, render_report(run_dir, lang))
    return path
