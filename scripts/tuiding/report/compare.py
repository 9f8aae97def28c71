"""`tuiding compare`: two runs of a journey (or two folders of runs) side by side.

Steps are aligned by caption, then by action + target; metrics are compared with what got worse
named; each aligned pair of screenshots is diffed (visual.diff_images). A reader: it opens run
folders through record.py and never starts a browser."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from ..i18n import gettext_for, language
from ..record import Manifest, Metrics, RunFolderError, StepRecord, image_or_none, load_manifest, receipt
from ..redaction import black_out
from ..visual import diff_images, reduced
from .env import environment

# Counts where more is worse for the person cancelling; seconds compare with their own tolerance.
WORSE_WHEN_HIGHER = (
    "clicks",
    "inputs",
    "keystrokes",
    "pages",
    "navigations",
    "dialogs",
    "verifications",
    "retention_pages",
    "preticked",
    "a11y",
)


def N_(text: str) -> str:  # marks a word for the catalogs (make messages); translated where it is shown
    return text


METRIC_WORDS = {
    "clicks": N_("clicks"), "inputs": N_("inputs"), "keystrokes": N_("keystrokes"), "pages": N_("pages"),
    "navigations": N_("navigations"), "dialogs": N_("dialogs"), "verifications": N_("verifications"),
    "retention_pages": N_("retention pages"), "preticked": N_("preticked"), "a11y": N_("serious a11y problems"),
    "active_s": N_("active seconds"), "waiting_s": N_("waiting seconds"), "steps": N_("steps"), "receipt": N_("receipt"),
    "visual_changed": N_("visual changes"),
}  # fmt: skip
SECONDS_TOLERANCE = 0.25  # active seconds may grow by a quarter (and 0.5 s) before they count as worse
SECONDS_FLOOR = 0.5


class CompareError(ValueError):
    """The inputs cannot be compared (not run folders, nothing in common); one line."""


@dataclass
class MetricDelta:
    name: str
    a: float | str
    b: float | str
    worse: bool

    @property
    def delta(self) -> str:
        if isinstance(self.a, (int, float)) and isinstance(self.b, (int, float)):
            d = self.b - self.a
            return f"{d:+g}" if d else "±0"
        return "" if self.a == self.b else f"{self.a} → {self.b}"


@dataclass
class StepPair:
    kind: Literal["same", "changed", "added", "removed"]
    a: StepRecord | None
    b: StepRecord | None
    diff_pixels: int = 0
    diff_image: str | None = None  # data URI
    a_image: str | None = None
    b_image: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        s = self.b or self.a
        return s.name if s else ""


@dataclass
class Comparison:
    a_dir: Path
    b_dir: Path
    a: Manifest
    b: Manifest
    metrics: list[MetricDelta]
    steps: list[StepPair]

    @property
    def worse(self) -> list[MetricDelta]:
        return [m for m in self.metrics if m.worse]

    @property
    def visual_changes(self) -> list[StepPair]:
        return [p for p in self.steps if p.kind == "changed" and p.diff_pixels]

    @property
    def added(self) -> list[StepPair]:
        return [p for p in self.steps if p.kind == "added"]

    @property
    def removed(self) -> list[StepPair]:
        return [p for p in self.steps if p.kind == "removed"]

    @property
    def failed(self) -> bool:
        return bool(self.worse or self.visual_changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "a": str(self.a_dir),
            "b": str(self.b_dir),
            "scenario": self.b.scenario.name,
            "worse": [m.name for m in self.worse],
            "metrics": {m.name: {"a": m.a, "b": m.b, "worse": m.worse} for m in self.metrics},
            "steps": [
                {
                    "kind": p.kind,
                    "a": p.a.index if p.a else None,
                    "b": p.b.index if p.b else None,
                    "name": p.label,
                    "diff_pixels": p.diff_pixels,
                }
                for p in self.steps
            ],
        }


def _metric_deltas(a: Metrics, b: Metrics, tolerance: int) -> list[MetricDelta]:
    out = [MetricDelta(k, getattr(a, k), getattr(b, k), getattr(b, k) > getattr(a, k) + tolerance) for k in WORSE_WHEN_HIGHER]
    grew = b.active_s - a.active_s
    out.append(MetricDelta("active_s", a.active_s, b.active_s, grew > max(SECONDS_FLOOR, a.active_s * SECONDS_TOLERANCE)))
    out.append(MetricDelta("waiting_s", a.waiting_s, b.waiting_s, False))
    out.append(MetricDelta("steps", a.steps, b.steps, False))
    out.append(MetricDelta("receipt", int(a.receipt.found), int(b.receipt.found), a.receipt.found and not b.receipt.found))
    return out


def _align(
    a: list[StepRecord], b: list[StepRecord], sa: Side | None = None, sb: Side | None = None
) -> list[tuple[StepRecord | None, StepRecord | None]]:
    """Pairs of steps: equal captions first; in the gaps, equal action + target; the rest added/removed.
    Values a run saved (a receipt number) count as their names."""
    sa, sb = sa or Side(Path()), sb or Side(Path())
    out: list[tuple[StepRecord | None, StepRecord | None]] = []
    matcher = SequenceMatcher(a=[sa.plain(s.name) for s in a], b=[sb.plain(s.name) for s in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += list(zip(a[i1:i2], b[j1:j2], strict=True))
            continue
        ga, gb = a[i1:i2], b[j1:j2]
        inner = SequenceMatcher(
            a=[(s.action, sa.plain(s.target)) for s in ga], b=[(s.action, sb.plain(s.target)) for s in gb], autojunk=False
        )
        for op2, k1, k2, l1, l2 in inner.get_opcodes():
            if op2 == "equal":
                out += list(zip(ga[k1:k2], gb[l1:l2], strict=True))
            else:
                out += [(s, None) for s in ga[k1:k2]] + [(None, s) for s in gb[l1:l2]]
    return out


def _uri(image: Image.Image | None) -> str | None:
    if image is None:
        return None
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _image(run_dir: Path, step: StepRecord | None, hide_personal: bool = True) -> Image.Image | None:
    """A step's receipt with what the run hides in published pictures blacked out (redaction.py), reduced;
    None when it has none, or names a file outside its folder or not an image."""
    if step is None:
        return None

    def load(path: Path) -> Image.Image:
        with Image.open(path) as im:
            return reduced(black_out(im.convert("RGB"), step, hide_personal))

    return image_or_none(receipt(run_dir, step.screenshot), load)


@dataclass
class Side:
    """One of the two runs: its folder, whether its pictures hide personal data, and its volatile values."""

    dir: Path
    hide_personal: bool = True
    saved: dict[str, str] = field(default_factory=dict)  # a value the run saved → `${name}`

    @classmethod
    def of(cls, run_dir: Path, m: Manifest) -> Side:
        saved = {v: f"${{{k}}}" for s in m.steps for k, v in s.saved.items() if len(v) >= 3}
        return cls(run_dir, m.hide_personal, dict(sorted(saved.items(), key=lambda kv: -len(kv[0]))))

    def plain(self, text: str) -> str:
        """The text with the values this run saved written as their names: a receipt number differs by design."""
        for value, name in self.saved.items():
            text = text.replace(value, name)
        return text


def _pair(sa: Side, sb: Side, a: StepRecord | None, b: StepRecord | None, threshold: float) -> StepPair:
    if a is None:
        return StepPair("added", None, b, b_image=_uri(_image(sb.dir, b, sb.hide_personal)))
    if b is None:
        return StepPair("removed", a, None, a_image=_uri(_image(sa.dir, a, sa.hide_personal)))
    pair = StepPair("same", a, b)
    if (a.action, sa.plain(a.target)) != (b.action, sb.plain(b.target)):
        pair.kind = "changed"
        pair.notes.append(f"{a.action} {a.target} → {b.action} {b.target}")
    if sa.plain(a.name) != sb.plain(b.name):
        pair.kind = "changed"
        pair.notes.append(f"“{a.name}” → “{b.name}”")
    if a.status != b.status:
        pair.kind = "changed"
        pair.notes.append(f"{a.status} → {b.status}")
    before, after = (
        (_image(sa.dir, a, sa.hide_personal), _image(sb.dir, b, sb.hide_personal)) if a.sha256 != b.sha256 else (None, None)
    )
    if before is not None and after is not None:  # both pictures there, and different: where do they differ?
        masks = [b.shot.to_image(m) for m in b.masks] if b.shot else []
        masks += [a.shot.to_image(m) for m in a.masks] if a.shot else []
        found = diff_images(before, after, masks, threshold)
        if found.pixels:
            pair.kind, pair.diff_pixels = "changed", found.pixels
            pair.diff_image, pair.a_image, pair.b_image = _uri(found.image), _uri(before), _uri(after)
    if pair.kind == "changed" and pair.diff_image is None and a.sha256 != b.sha256:
        # Taken in one run only (a retention page the other run skipped), or a step that failed: its screens.
        pair.a_image, pair.b_image = _uri(_image(sa.dir, a, sa.hide_personal)), _uri(_image(sb.dir, b, sb.hide_personal))
    return pair


def compare_runs(a_dir: Path, b_dir: Path, *, tolerance: int = 0, threshold: float = 0.2) -> Comparison:
    a, b = load_manifest(a_dir), load_manifest(b_dir)
    sa, sb = Side.of(a_dir, a), Side.of(b_dir, b)
    steps = [_pair(sa, sb, x, y, threshold) for x, y in _align(a.steps, b.steps, sa, sb)]
    return Comparison(a_dir, b_dir, a, b, _metric_deltas(a.metrics, b.metrics, tolerance), steps)


def _runs_in(folder: Path) -> dict[tuple[str, str | None], Path]:
    """The newest run of each (scenario file, matrix row) in a folder of run folders."""
    found: dict[tuple[str, str | None], tuple[str, Path]] = {}
    for d in sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file()):
        try:
            m = load_manifest(d)
        except RunFolderError:
            continue
        key = (Path(m.scenario.file).as_posix(), m.scenario.row)
        if key not in found or m.started_at > found[key][0]:
            found[key] = (m.started_at, d)
    return {k: v[1] for k, v in found.items()}


def pairs(a: Path, b: Path) -> list[tuple[Path, Path]]:
    """Run folders to compare: the two given, or the runs of two folders matched by scenario file and row."""
    for p in (a, b):
        if not p.is_dir():
            raise CompareError(f"{p}: not a folder")
    if (a / "manifest.json").is_file() and (b / "manifest.json").is_file():
        return [(a, b)]
    if (a / "manifest.json").is_file() or (b / "manifest.json").is_file():
        raise CompareError("compare two run folders, or two folders of runs (one of each was given)")
    runs_a, runs_b = _runs_in(a), _runs_in(b)
    common = sorted(set(runs_a) & set(runs_b), key=lambda k: (k[0], k[1] or ""))
    if not common:
        raise CompareError(f"no scenario was run in both {a} and {b}")
    return [(runs_a[k], runs_b[k]) for k in common]


def lang_of(comparisons: list[Comparison], lang: str | None) -> str:
    """--lang, else the language the later runs were written in."""
    if lang:
        return lang
    b = comparisons[0].b if comparisons else None
    return language(b.lang or b.locale) if b is not None else "en"


def render(comparisons: list[Comparison], lang: str | None = None, unverified: Sequence[str] = ()) -> str:
    """The comparison page; `unverified` (lines naming folders that fail verify) becomes a banner on top."""
    page = environment(lang_of(comparisons, lang)).get_template("compare.html")
    return page.render(comparisons=comparisons, words=METRIC_WORDS, unverified=list(unverified))


def summary_lines(c: Comparison, lang: str) -> list[str]:
    """The console's account of one comparison."""
    _ = gettext_for(lang)
    verdict = _("WORSE") if c.failed else _("ok")
    lines = [f"{verdict}: {c.b.scenario.name}  ({c.a_dir.name} → {c.b_dir.name})"]
    for m in c.metrics:
        if m.worse or m.delta not in ("", "±0"):
            lines.append(f"  {'✗' if m.worse else '·'} {_(METRIC_WORDS.get(m.name, m.name))}: {m.a} → {m.b} ({m.delta})")
    kinds = {"changed": _("changed"), "added": _("added"), "removed": _("removed")}
    for p in c.steps:
        if p.kind != "same":
            where = f"A{p.a.index}" if p.a else ""
            where += ("→" if p.a and p.b else "") + (f"B{p.b.index}" if p.b else "")
            extra = "; " + _("{n} pixels differ").format(n=p.diff_pixels) if p.diff_pixels else ""
            lines.append(f"  {kinds[p.kind]:8} {where:9} {p.label}{'; ' + '; '.join(p.notes) if p.notes else ''}{extra}")
    return lines
