"""What a caller does after a run: the report (and, on request, other readers' outputs), then the seal.

Kept out of the runner so a run's artefacts are written by its caller (CLI, pytest plugin, embedding code),
and so a Ctrl-C during the run still ends in a reported, sealed folder."""

from __future__ import annotations

from pathlib import Path

from .receipts import seal
from .record import Manifest, load_manifest
from .report.html import write_report


def finish(run_dir: Path, *, key: object | None = None) -> Manifest:
    """Write report.html, then seal the folder (every file hashed; signed with `key`)."""
    write_report(run_dir)
    return seal(run_dir, load_manifest(run_dir), key=key)
