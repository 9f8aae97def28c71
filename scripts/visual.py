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


def _reduced(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    return image.reduce(REDUCE) if image.width >= REDUCE and image.height >= REDUCE else image


def _paint(image: Image.Image, boxes: list[Box]) -> None:
    draw = ImageDraw.Draw(image)
    for b in boxes:
        draw.rectangle([b.x / REDUCE, b.y / REDUCE, (b.x + b.width) / REDUCE, (b.y + b.height) / REDUCE], fill=MASK_FILL)


@dataclass
class Baselines:
    """One baseline folder: the approved images and their full-size hashes."""

    folder: Path

    def _index(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            return dict(data.get("images", {}))
        except (OSError, ValueError):
            return {}

    def approve(self, receipt: Path) -> Path:
        """Store `receipt` (a full-size PNG) as the baseline of its step."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / receipt.name
        with Image.open(receipt) as im:
            size = im.size
            reduced = _reduced(im)
        reduced.save(target, "PNG", optimize=True)
        index = self._index()
        index[receipt.name] = {"sha256": _sha(receipt), "width": size[0], "height": size[1]}
        atomic_write(
            self.folder / MANIFEST,
            json.dumps({"format": 1, "reduce": REDUCE, "images": dict(sorted(index.items()))}, ensure_ascii=False, indent=1)
            + "\n",
        )
        return target

    def prune(self, keep: set[str]) -> None:
        """Drop baselines of steps the scenario no longer has (after --update-baselines)."""
        index = self._index()
        for name in list(index):
            if name not in keep:
                index.pop(name)
                (self.folder / name).unlink(missing_ok=True)
        if self.folder.is_dir():
            atomic_write(
                self.folder / MANIFEST,
                json.dumps({"format": 1, "reduce": REDUCE, "images": dict(sorted(index.items()))}, ensure_ascii=False, indent=1)
                + "\n",
            )

    def compare(
        self, receipt: Path, masks: list[Box], diff_path: Path, *, threshold: float, max_diff_pixels: int, rel_to: Path
    ) -> VisualCheck:
        """Compare a receipt with its baseline; writes `diff_path` when pixels changed. `masks` are in image pixels."""
        baseline = self.folder / receipt.name
        rel = _relative(baseline, rel_to)
        entry = self._index().get(receipt.name)
        if entry is None or not baseline.is_file():
            return VisualCheck(status="new", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        if entry.get("sha256") == _sha(receipt):
            return VisualCheck(status="same", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        with Image.open(receipt) as im:
            current = _reduced(im)
        with Image.open(baseline) as bm:
            approved = bm.convert("RGB")
        if current.size != approved.size:
            return self._size_changed(current, approved, diff_path, rel, threshold, max_diff_pixels)
        _paint(current, masks)
        _paint(approved, masks)
        box = ImageChops.difference(current, approved).getbbox()
        if box is None:
            return VisualCheck(status="same", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        from pixelmatch.contrib.PIL import pixelmatch

        left, top = max(0, box[0] - _PAD), max(0, box[1] - _PAD)
        right, bottom = min(current.width, box[2] + _PAD), min(current.height, box[3] + _PAD)
        crop_a, crop_b = approved.crop((left, top, right, bottom)), current.crop((left, top, right, bottom))
        marked = Image.new("RGBA", crop_a.size)
        changed = pixelmatch(crop_a, crop_b, marked, threshold=threshold)
        if changed == 0:  # anti-aliasing only
            return VisualCheck(status="same", baseline=rel, threshold=threshold, max_diff_pixels=max_diff_pixels)
        diff = Image.blend(current, Image.new("RGB", current.size, "white"), 0.7)
        diff.paste(marked.convert("RGB"), (left, top))
        ImageDraw.Draw(diff).rectangle([left - 3, top - 3, right + 2, bottom + 2], outline=(220, 30, 30), width=2)
        diff_path.parent.mkdir(parents=True, exist_ok=True)
        diff.save(diff_path, "PNG", optimize=True)
        return VisualCheck(
            status="changed" if changed > max_diff_pixels else "same",
            baseline=rel,
            diff=f"{diff_path.parent.name}/{diff_path.name}",
            diff_pixels=changed * REDUCE * REDUCE,
            diff_ratio=round(changed / (current.width * current.height), 6),
            diff_box=Box(x=left * REDUCE, y=top * REDUCE, width=(right - left) * REDUCE, height=(bottom - top) * REDUCE),
            threshold=threshold,
            max_diff_pixels=max_diff_pixels,
        )

    def _size_changed(
        self, current: Image.Image, approved: Image.Image, diff_path: Path, rel: str, threshold: float, max_diff_pixels: int
    ) -> VisualCheck:
        w, h = max(current.width, approved.width), max(current.height, approved.height)
        diff = Image.new("RGB", (w, h), (220, 30, 30))
        diff.paste(Image.blend(current, Image.new("RGB", current.size, "white"), 0.5), (0, 0))
        diff_path.parent.mkdir(parents=True, exist_ok=True)
        diff.save(diff_path, "PNG", optimize=True)
        return VisualCheck(
            status="changed",
            baseline=rel,
            diff=f"{diff_path.parent.name}/{diff_path.name}",
            diff_pixels=w * h * REDUCE * REDUCE,
            diff_ratio=1.0,
            diff_box=Box(x=0, y=0, width=w * REDUCE, height=h * REDUCE),
            threshold=threshold,
            max_diff_pixels=max_diff_pixels,
        )


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
