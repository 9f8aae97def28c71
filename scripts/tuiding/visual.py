"""Visual baselines: approve a run's receipts, compare later receipts with them (pixelmatch).

A baseline folder (`<scenario folder>/__baselines__/<scenario>[-row]/<device>/`) holds, per
receipt, a half-size PNG for review in git and, in baselines.json, the full-size receipt's
SHA-256: an unchanged screen is recognised by its hash alone (no decoding). Otherwise both
images are reduced the same way, masked regions painted on both, and only the rectangle where
pixels differ goes through pixelmatch (anti-aliasing detection, colour threshold).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from .receipts import atomic_write, safe_name
from .record import Box, VisualCheck

MANIFEST = "baselines.json"
REDUCE = 2  # baselines are stored at half size: small enough to review in git, fine enough to see a moved button
MASK_FILL = (255, 0, 255)
_PAD = 2  # pixelmatch's anti-aliasing detection looks at neighbours


def baseline_dir(scenario_file: Path, slug: str, device: str | None) -> Path:
    return scenario_file.parent / "__baselines__" / slug / (safe_name(device, 60) if device else "desktop")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reduced(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    return image.reduce(REDUCE) if image.width >= REDUCE and image.height >= REDUCE else image


def _paint(image: Image.Image, boxes: list[Box]) -> None:
    draw = ImageDraw.Draw(image)
    for b in boxes:
        draw.rectangle([b.x / REDUCE, b.y / REDUCE, (b.x + b.width) / REDUCE, (b.y + b.height) / REDUCE], fill=MASK_FILL)


def browser_major(description: str) -> str:
    """'chromium 156.0.8078.73 (/usr/bin/chromium)' → 'chromium 156': what decides how pages render."""
    m = re.search(r"(\w+)\s+(\d+)\.", description)
    return f"{m.group(1)} {m.group(2)}" if m else description


@dataclass
class Baselines:
    """One baseline folder: the approved images and their full-size hashes, and the browser that made them.

    Another browser version renders text a little differently: its differences are shown but do not
    fail (approve new baselines with --update-baselines after looking)."""

    folder: Path
    browser: str = ""

    def _data(self) -> dict[str, object]:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _index(self) -> dict[str, dict[str, object]]:
        images = self._data().get("images", {})
        return dict(images) if isinstance(images, dict) else {}

    def _write(self, index: dict[str, dict[str, object]]) -> None:
        body = {"format": 1, "reduce": REDUCE, "browser": browser_major(self.browser), "images": dict(sorted(index.items()))}
        atomic_write(self.folder / MANIFEST, json.dumps(body, ensure_ascii=False, indent=1) + "\n")

    def approve(self, receipt: Path) -> Path:
        """Store `receipt` (a full-size PNG) as the baseline of its step. Identical screens share one
        image file (named by content), so a `see` after the click that opened the page costs nothing."""
        self.folder.mkdir(parents=True, exist_ok=True)
        sha = _sha(receipt)
        target = self.folder / f"{sha[:20]}.png"
        with Image.open(receipt) as im:
            size = im.size
            if not target.exists():
                reduced(im).save(target, "PNG", optimize=True)
        index = self._index()
        index[receipt.name] = {"image": target.name, "sha256": sha, "width": size[0], "height": size[1]}
        self._write(index)
        return target

    def prune(self, keep: set[str]) -> None:
        """Drop baselines of steps the scenario no longer has, and images no step uses (after --update-baselines)."""
        if not self.folder.is_dir():
            return
        index = {name: e for name, e in self._index().items() if name in keep}
        used = {str(e.get("image")) for e in index.values()}
        for png in self.folder.glob("*.png"):
            if png.name not in used:
                png.unlink()
        self._write(index)

    def compare(
        self, receipt: Path, masks: list[Box], diff_path: Path | None, *, threshold: float, max_diff_pixels: int, rel_to: Path
    ) -> VisualCheck:
        """Compare a receipt with its baseline; writes `diff_path` (if given) when pixels changed. `masks` are in image pixels."""
        entry = self._index().get(receipt.name)
        baseline = self.folder / str((entry or {}).get("image", receipt.name))
        rel = _relative(baseline, rel_to)
        if entry is None or not baseline.is_file():
            return VisualCheck(status="new", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        if entry.get("sha256") == _sha(receipt):
            return VisualCheck(status="same", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        with Image.open(receipt) as im:
            current = reduced(im)
        with Image.open(baseline) as bm:
            approved = bm.convert("RGB")
        found = diff_images(approved, current, masks, threshold)
        if found.pixels == 0:
            return VisualCheck(status="same", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        assert found.image is not None
        made_with = str(self._data().get("browser", ""))
        enforced = not made_with or not self.browser or made_with == browser_major(self.browser)
        approved_copy = None
        if diff_path is not None:
            diff_path.parent.mkdir(parents=True, exist_ok=True)
            found.image.save(diff_path, "PNG", optimize=True)
            # The baseline lives beside the scenario; readers of the run folder read only inside it.
            approved_copy = diff_path.with_name(f"{diff_path.stem}-baseline.png")
            shutil.copyfile(baseline, approved_copy)
        return VisualCheck(
            status="changed" if found.pixels > max_diff_pixels else "same",
            baseline=rel,
            diff=f"{diff_path.parent.name}/{diff_path.name}" if diff_path is not None else None,
            approved=f"{approved_copy.parent.name}/{approved_copy.name}" if approved_copy is not None else None,
            diff_pixels=found.pixels,
            diff_ratio=found.ratio,
            diff_box=found.box,
            threshold=threshold,
            max_diff_pixels=max_diff_pixels,
            enforced=enforced,
        )


@dataclass
class Difference:
    """How two screenshots differ: changed pixels (full-size equivalent), where, and a picture of it."""

    pixels: int = 0
    ratio: float = 0.0
    box: Box | None = None
    image: Image.Image | None = None


def diff_images(before: Image.Image, after: Image.Image, masks: list[Box], threshold: float) -> Difference:
    """Compare two reduced RGB images (masks in full-size image pixels are painted on both first).

    Only the rectangle where any pixel differs goes through pixelmatch, so an unchanged screen with
    one changed button costs little. The diff image is `after` faded, the changed pixels in red and
    the changed rectangle outlined."""
    before, after = before.copy(), after.copy()
    if before.size != after.size:
        w, h = max(before.width, after.width), max(before.height, after.height)
        image = Image.new("RGB", (w, h), (220, 30, 30))
        image.paste(Image.blend(after, Image.new("RGB", after.size, "white"), 0.5), (0, 0))
        return Difference(w * h * REDUCE * REDUCE, 1.0, Box(x=0, y=0, width=w * REDUCE, height=h * REDUCE), image)
    _paint(before, masks)
    _paint(after, masks)
    box = ImageChops.difference(before, after).getbbox()
    if box is None:
        return Difference()
    from pixelmatch.contrib.PIL import pixelmatch

    left, top = max(0, box[0] - _PAD), max(0, box[1] - _PAD)
    right, bottom = min(after.width, box[2] + _PAD), min(after.height, box[3] + _PAD)
    marked = Image.new("RGBA", (right - left, bottom - top))
    changed = pixelmatch(
        before.crop((left, top, right, bottom)), after.crop((left, top, right, bottom)), marked, threshold=threshold
    )
    if changed == 0:  # anti-aliasing only
        return Difference()
    image = Image.blend(after, Image.new("RGB", after.size, "white"), 0.7)
    image.paste(marked.convert("RGB"), (left, top))
    ImageDraw.Draw(image).rectangle([left - 3, top - 3, right + 2, bottom + 2], outline=(220, 30, 30), width=2)
    return Difference(
        pixels=changed * REDUCE * REDUCE,
        ratio=round(changed / (after.width * after.height), 6),
        box=Box(x=left * REDUCE, y=top * REDUCE, width=(right - left) * REDUCE, height=(bottom - top) * REDUCE),
        image=image,
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
