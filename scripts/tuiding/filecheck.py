"""What a downloaded file holds, checked against a download step's `expect:` (CSV and JSON rows,
ZIP entries, PNG size, texts inside). Each problem is one sentence for the step's error."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

from . import model as M


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # the portals write UTF-8 with a BOM for Excel; GBK exports exist
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _rows(path: Path, text: str) -> int | None:
    if path.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
        return max(0, len(rows) - 1)
    if path.suffix.lower() in (".json", ".jsonl"):
        if path.suffix.lower() == ".jsonl":
            return sum(1 for line in text.splitlines() if line.strip())
        data: Any = json.loads(text)
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), None)
        return len(data) if isinstance(data, list) else None
    return None


def check_file(path: Path, expect: M.DownloadExpect) -> list[str]:
    data = path.read_bytes()
    problems: list[str] = []
    name = path.name
    if expect.min_bytes is not None and len(data) < expect.min_bytes:
        problems.append(f"{name} has {len(data)} bytes, expected at least {expect.min_bytes}")
    archive = zipfile.is_zipfile(path)
    if expect.entries is not None:
        if not archive:
            problems.append(f"{name} is not a ZIP file, so it has no entries to count")
        else:
            with zipfile.ZipFile(path) as z:
                n = len([i for i in z.infolist() if not i.is_dir()])
            if n != expect.entries:
                problems.append(f"{name} holds {n} files, expected {expect.entries}")
    if expect.contains:
        if archive:
            with zipfile.ZipFile(path) as z:
                haystack = "\n".join(z.namelist()) + "\n" + "\n".join(_text(z.read(i)) for i in z.infolist() if not i.is_dir())
        else:
            haystack = _text(data)
        missing = [t for t in expect.contains if t not in haystack]
        if missing:
            problems.append(f"{name} does not contain {', '.join(repr(t) for t in missing)}")
    if expect.rows is not None:
        try:
            n_rows = _rows(path, _text(data))
        except (json.JSONDecodeError, csv.Error) as exc:
            problems.append(f"{name} could not be read as {path.suffix.lstrip('.').upper()}: {exc}")
        else:
            if n_rows is None:
                problems.append(f"{name}: rows can be counted in CSV, JSON and JSON Lines files only")
            elif n_rows != expect.rows:
                problems.append(f"{name} has {n_rows} rows, expected {expect.rows}")
    if expect.size is not None:
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{name} is not a PNG image, so it has no size to check")
        else:
            w, h = struct.unpack(">II", data[16:24])
            if (w, h) != tuple(expect.size):
                problems.append(f"{name} is {w}×{h} pixels, expected {expect.size[0]}×{expect.size[1]}")
    return problems
