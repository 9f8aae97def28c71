"""How much a visual-baseline comparison adds to a step, per 1280×720 receipt (median of N).

Three cases, on a real receipt from the Migu portal (made by running one journey first):
  unchanged   — the screen is what was approved: recognised by its hash, nothing decoded;
  masked      — only a masked region (a receipt number) differs: decode, paint masks, compare;
  changed     — a button moved: decode, then pixelmatch on the changed rectangle only.

    .venv/bin/python benchmarks/visual_compare.py [--reps 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from tuiding.record import Box
from tuiding.visual import Baselines

ROOT = Path(__file__).parents[1]


def receipt(tmp: Path) -> Path:
    out = tmp / "runs"
    subprocess.run(
        [sys.executable, "-m", "tuiding", "run", str(ROOT / "scenarios/migu/web_unsubscribe.yaml"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    shots = sorted(out.glob("*/receipts/*确认退订信息*.png"))
    return shots[0]


def timed(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    reps = ap.parse_args().reps
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        approved = receipt(tmp)
        base = Baselines(tmp / "baselines", browser="chromium 156")
        base.approve(approved)
        with Image.open(approved) as im:
            size = im.size
        masked_png, moved_png = tmp / "masked" / approved.name, tmp / "moved" / approved.name
        for path, box, colour in ((masked_png, (300, 200, 460, 220), "#123456"), (moved_png, (900, 600, 1000, 640), "#d92d20")):
            path.parent.mkdir()
            with Image.open(approved) as im:
                im = im.convert("RGB")
                ImageDraw.Draw(im).rectangle(box, fill=colour)
                im.save(path)
        mask = [Box(x=300, y=200, width=160, height=20)]
        diff = tmp / "diffs" / "d.png"

        def check(path: Path, masks: list[Box]) -> None:
            base.compare(path, masks, diff, threshold=0.2, max_diff_pixels=0, rel_to=tmp)

        rows = [
            ("unchanged (hash)", timed(lambda: check(approved, []), reps)),
            ("masked change", timed(lambda: check(masked_png, mask), reps)),
            ("moved button", timed(lambda: check(moved_png, []), reps)),
        ]
    print(f"visual comparison per {size[0]}×{size[1]} receipt, median of {reps}:")
    print("| case | ms |\n| --- | --- |")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} |")


if __name__ == "__main__":
    main()
