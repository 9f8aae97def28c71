"""`tuiding history`: is cancelling getting harder release by release? A reader of run folders.

Each PATH is a run folder, or a folder of runs — one per release or CI build (`runs/release-1.4/`,
`runs/release-1.5/` …), in the order given. Runs are grouped by journey (scenario file and matrix row);
a journey's points are its final attempts (a retried attempt is not a point), oldest first within a
folder, each labelled with its folder's name (a release) or, for a run folder given by itself, its start.
For every point: clicks, pages, verifications, retention pages, pre-ticked boxes, active seconds to the
end of the journey, serious accessibility findings, visual changes, and whether a receipt was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .i18n import language
from .receipts import MANIFEST
from .record import Manifest, RunFolderError, load_manifest

TRACKED = ("clicks", "pages", "verifications", "retention_pages", "preticked", "active_s", "a11y", "visual_changed")
WORSE_WHEN_HIGHER = frozenset(TRACKED)  # every tracked count is friction: more is worse for the person cancelling


class HistoryError(ValueError):
    """Nothing to draw a history from; one line."""


@dataclass
class Point:
    label: str  # the release (the folder's name) or the run's start
    run_dir: Path
    started_at: str
    status: str
    values: dict[str, float]
    receipt: bool
    lang: str  # the language the run was written in

    def worse_than(self, before: Point | None) -> list[str]:
        """The tracked values that grew since the point before (seconds by more than a quarter and 0.5 s)."""
        if before is None:
            return []
        worse = []
        for name in TRACKED:
            now, then = self.values[name], before.values[name]
            grew = now - then > max(0.5, then * 0.25) if name == "active_s" else now > then
            if grew:
                worse.append(name)
        if before.receipt and not self.receipt:
            worse.append("receipt")  # a journey that never handed one out (a pause) is not worse for it
        return worse


@dataclass
class Journey:
    name: str
    file: str
    row: str | None
    points: list[Point] = field(default_factory=list)


def _point(label: str, run_dir: Path, m: Manifest) -> Point:
    values = {name: float(getattr(m.metrics, name)) for name in TRACKED}
    return Point(label, run_dir, m.started_at, m.status, values, m.metrics.receipt.found, language(m.lang or m.locale))


def _runs(path: Path) -> list[tuple[str, Path, Manifest]]:
    """(label, folder, manifest) of the final attempts found at one PATH."""
    if (path / MANIFEST).is_file():
        m = load_manifest(path)
        return [(m.started_at[:16].replace("T", " "), path, m)]
    if not path.is_dir():
        raise HistoryError(f"{path}: not a folder")
    found = []
    for d in sorted(m.parent for m in path.rglob(MANIFEST) if "__baselines__" not in m.parts):
        try:
            found.append((path.name, d, load_manifest(d)))
        except RunFolderError as exc:
            raise HistoryError(str(exc)) from None
    if not found:
        raise HistoryError(f"{path}: no run folders in it (a run folder holds {MANIFEST})")
    retried = {m.retry_of for _, _, m in found if m.retry_of}
    return [r for r in found if r[2].run_id not in retried]


def history(paths: list[Path]) -> list[Journey]:
    """The journeys found, each with its points in the order of the PATHs given (oldest first within one)."""
    journeys: dict[tuple[str, str | None], Journey] = {}
    for path in paths:
        for label, run_dir, m in sorted(_runs(path), key=lambda r: r[2].started_at):
            key = (m.scenario.file, m.scenario.row)
            journey = journeys.setdefault(key, Journey(m.scenario.name, m.scenario.file, m.scenario.row))
            journey.points.append(_point(label, run_dir, m))
    return sorted(journeys.values(), key=lambda j: (j.file, j.row or ""))


def run_dirs(journeys: list[Journey]) -> list[Path]:
    return [p.run_dir for j in journeys for p in j.points]


def language_of(journeys: list[Journey]) -> str:
    """The runs' own language when they share one, else English."""
    langs = {p.lang for j in journeys for p in j.points}
    return langs.pop() if len(langs) == 1 else "en"
