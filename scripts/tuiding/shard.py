"""`tuiding run --shard i/n`: one machine's part of a suite, the same on every machine.

A scenario (one matrix row) is known by its key — the file as given on the command line plus the row
id — so every machine of a CI matrix, given the same paths, computes the same split. Without
durations the suite is cut into n contiguous parts of (nearly) equal count, like Playwright Test's
`--shard`. With the durations of an earlier run (`--durations`: its run folders, or a merged
summary.json) the longest journeys are placed first, each on the shard with the least work so far;
ties are broken by key, so the split is still identical everywhere.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from .record import RunFolderError, parse_json, read_bounded


class ShardError(ValueError):
    """One line a user can act on (bad --shard or --durations)."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str) -> Shard:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise ShardError(f"--shard must look like 2/5 (this machine's part / how many parts), not '{text}'")
    index, total = int(m[1]), int(m[2])
    if not 1 <= total <= 10_000 or not 1 <= index <= total:
        raise ShardError(f"--shard {text}: the part must be between 1 and the number of parts (1 to 10000)")
    return Shard(index, total)


class Keyed(Protocol):
    @property
    def file(self) -> Path: ...
    @property
    def row(self) -> str | None: ...


T = TypeVar("T", bound=Keyed)


def key_of(file: str | Path, row: str | None) -> str:
    return Path(file).as_posix() + (f"#{row}" if row else "")


def load_durations(path: Path) -> dict[str, float]:
    """Seconds per scenario key from a merged summary.json, or from run folders (a folder of them, or one)."""
    if path.is_file():
        try:
            data = parse_json(read_bounded(path).decode("utf-8"), str(path))
            return {key_of(r["file"], r.get("row")): float(r["duration_s"]) for r in data["runs"]}
        except RunFolderError as exc:
            raise ShardError(str(exc)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ShardError(f"{path}: not a summary.json written by tuiding merge ({exc.__class__.__name__})") from None
    if not path.is_dir():
        raise ShardError(f"{path}: no such file or folder (give a runs folder or a summary.json)")
    found: dict[str, float] = {}
    for manifest in sorted([path / "manifest.json", *path.glob("*/manifest.json")]):
        try:
            data = parse_json(read_bounded(manifest).decode("utf-8"), str(manifest))
            if data.get("duration_ms") is not None:
                found[key_of(data["scenario"]["file"], data["scenario"].get("row"))] = data["duration_ms"] / 1000
        except (RunFolderError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a half-written or foreign folder says nothing about durations
    if not found:
        raise ShardError(f"{path}: no finished runs to take durations from")
    return found


def split(items: Sequence[T], shard: Shard, durations: dict[str, float] | None = None) -> list[T]:
    """The items of `shard`, in their original order."""
    keys = [key_of(it.file, it.row) for it in items]
    if not durations:
        n, k = len(items), shard.total
        start = (shard.index - 1) * n // k
        end = shard.index * n // k
        return list(items[start:end])
    known = [durations[key] for key in keys if key in durations]
    default = statistics.median(known) if known else 1.0  # a new scenario counts as a typical one
    load = [0.0] * shard.total
    mine: set[int] = set()
    for i in sorted(range(len(items)), key=lambda i: (-durations.get(keys[i], default), keys[i], i)):
        target = min(range(shard.total), key=lambda s: (load[s], s))
        load[target] += durations.get(keys[i], default)
        if target == shard.index - 1:
            mine.add(i)
    return [it for i, it in enumerate(items) if i in mine]
