"""Run folders as the runner writes them, without a browser: for tests of the record, verify and the readers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tuiding.receipts import RunFolder, seal
from tuiding.record import Manifest, Metrics, PageFacts, ScenarioInfo, StepRecord
from tuiding.report.html import write_report


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    """A real PNG of one colour at `path`; its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "PNG")
    return path.read_bytes()


def make_run(
    base: Path,
    n: int = 3,
    *,
    name: str = "demo",
    status: str = "passed",
    sealed: bool = True,
    images: bool = False,
    report: bool = False,
    locale: str = "zh-CN",
    metrics: dict[str, Any] | None = None,
    started: datetime = datetime(2026, 11, 22, 10, 0, 0),
) -> Path:
    """A run folder of `n` clicked steps named 第1步…: receipts that are real PNGs with `images` (else a few
    bytes — enough for hashing), report.html with `report`, sealed unless `sealed=False`; `metrics` and
    `started` for readers that compare runs over time."""
    folder = RunFolder(base, name, started)
    manifest = folder.write_manifest(
        Manifest(tool="tuiding test", run_id=folder.path.name, uuid=folder.path.name, locale=locale,
                 scenario=ScenarioInfo(name="示例", file=f"{name}.yaml", tags=["web"]), started_at="t")
    )  # fmt: skip
    for i in range(1, n + 1):
        shot = folder.screenshot_path(i, f"第{i}步")
        if images:
            png(shot, (200, 200 - 40 * i, 200))
        else:
            shot.write_bytes(b"\x89PNG fake " + bytes([i]))
        folder.append(
            StepRecord(
                index=i,
                name=f"第{i}步",
                action="click",
                target="x",
                source="s.yaml:1",
                started_at="t",
                duration_ms=1,
                status="passed",
                screenshot=shot.relative_to(folder.path).as_posix(),
                page=PageFacts(path=f"/p{i}", in_flow=i > 1),
            )  # fmt: skip
        )
    manifest.status = status  # type: ignore[assignment]
    if metrics is not None:
        manifest.metrics = Metrics(**metrics)
        manifest.started_at = started.isoformat()
    manifest = folder.write_manifest(manifest)
    folder.close()
    if report:
        write_report(folder.path)
    if sealed:
        seal(folder.path, manifest)
    return folder.path
