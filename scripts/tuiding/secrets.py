"""Secret values known during a run, and scrubbing them out of text and trace files."""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "••••••"


def encodings(value: str) -> set[str]:
    """Every form a secret takes on its way through a browser and into a trace: as typed, JSON-escaped
    (also twice, and ASCII-only \\uXXXX), percent-encoded as a form body or URL sends it (`+` or `%20` for a
    space, either case of hex digits), and HTML-escaped."""
    forms = {value, html.escape(value), html.escape(value, quote=False)}
    for once in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms |= {once, json.dumps(once)[1:-1]}
    for encoded in (quote_plus(value), quote(value, safe=""), quote(value)):
        forms |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)}
    return {f for f in forms if len(f) >= 3}


class SecretValues:
    """The run's secrets: declared ones (`secrets:`), and values saved during the run that a scenario marks
    secret. Those the site has seen — typed into it, or saved from it — are also painted over where a page
    shows them (capture.SECRET_TEXT_JS); the others never reach a page, not even to be looked for."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._site: set[str] = set()
        self._cached: list[str] | None = None
        self._site_cached: list[str] | None = None

    def add(self, value: Any, *, site: bool = False) -> None:
        """A secret; `site`: it came from the site (a saved token), so pages may show it."""
        text = str(value)
        if len(text) >= 3:  # masking 1–2 characters would shred ordinary text
            self._values.add(text)
            self._cached = None
            if site:
                self.seen_by_site(text)

    def seen_by_site(self, text: str) -> None:
        """`text` went to the site (typed into a field): every secret in it may come back on its pages."""
        found = {v for v in self._values if v in text} - self._site
        if found:
            self._site |= found
            self._site_cached = None

    def known_to_site(self) -> list[str]:
        """Every form (see `encodings`) of the secrets the site has seen, longest first."""
        if self._site_cached is None:
            self._site_cached = sorted({f for v in self._site for f in encodings(v)}, key=len, reverse=True)
        return self._site_cached

    def __contains__(self, text: str) -> bool:
        return text in self._values

    def within(self, text: str) -> bool:
        """Does `text` contain any secret (a field typed "note ${password} end" shows it too)?"""
        return any(v in text for v in self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def _forms(self) -> list[str]:
        """Every encoding of every secret, longest first (a longer form may contain a shorter one)."""
        if self._cached is None:
            self._cached = sorted({f for v in self._values for f in encodings(v)}, key=len, reverse=True)
        return self._cached

    def mask(self, text: str | None) -> str | None:
        if text is None:
            return None
        for form in self._forms():
            text = text.replace(form, MASK)
        return text

    def mask_data(self, data: Any, skip: frozenset[str] = frozenset()) -> Any:
        """Mask every string inside JSON-like data (a step's argument, a whole step record); the top-level
        keys in `skip` are kept as they are (a record's status, hashes and file paths)."""
        if not self._values:
            return data
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, dict):
            return {k if k in skip else self.mask_data(k): v if k in skip else self.mask_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.mask_data(v) for v in data]
        return data

    def scrub_zip(self, path: Path) -> None:
        """Rewrite a Playwright trace.zip with every secret, in every encoding (`encodings`), replaced."""
        if not self._values or not path.is_file():
            return
        forms = [(f.encode(), MASK.encode()) for f in self._forms()]
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".zip")
        os.close(fd)
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item)
                for old, new in forms:
                    data = data.replace(old, new)
                dst.writestr(item, data)
        os.replace(tmp, path)
