"""Where a secret could hide in an artefact: the forms a browser, a trace or a report makes of it, searched in
every file, zip member, file name and console text under a folder."""

from __future__ import annotations

import html
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus


def forms(secrets: Iterable[str]) -> list[str]:
    """Written out here, not taken from the code under test: what a browser and a trace make of a secret."""
    return sorted(
        {
            form
            for s in secrets
            for form in (
                s,
                json.dumps(s)[1:-1],
                json.dumps(s, ensure_ascii=False)[1:-1],
                quote_plus(s),
                quote(s, safe=""),
                quote(s),
                quote_plus(s).lower(),
                html.escape(s),
            )
        }
    )


def leaks(folder: Path, secrets: Iterable[str], *texts: str, skip_suffixes: tuple[str, ...] = (".yaml",)) -> list[str]:
    """Every place under `folder` (and in `texts`) where one of the secrets' forms occurs."""
    wanted = forms(secrets)
    found = [f"output contains {form!r}" for text in texts for form in wanted if form in text]
    for path in folder.rglob("*"):
        if path.suffix in skip_suffixes:
            continue  # e.g. the scenario itself, copied into a project, holds the secrets, of course
        found += [f"{path}: name contains {form!r}" for form in wanted if form in path.name]
        if not path.is_file():
            continue
        blobs = [(path.name, path.read_bytes())]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                blobs = [(f"{path.name}:{n}", z.read(n)) for n in z.namelist()]
        for name, data in blobs:
            found += [f"{folder.name}/…/{name} contains {form!r}" for form in wanted if form.encode() in data]
    return found
