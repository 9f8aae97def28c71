"""Secret values known during a run, and scrubbing them out of text and trace files."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

MASK = "••••••"


class SecretValues:
    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: Any) -> None:
        text = str(value)
        if len(text) >= 3:  # masking 1–2 characters would shred ordinary text
            self._values.add(text)

    def __contains__(self, text: str) -> bool:
        return text in self._values

    def within(self, text: str) -> bool:
        """Does `text` contain any secret (a field typed "note ${password} end" shows it too)?"""
        return any(v in text for v in self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def mask(self, text: str | None) -> str | None:
        if text is None:
            return None
        for v in sorted(self._values, key=len, reverse=True):
            text = text.replace(v, MASK)
        return text

    def mask_data(self, data: Any) -> Any:
        """Mask every string inside JSON-like data (a step's argument)."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, dict):
            return {self.mask_data(k): self.mask_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.mask_data(v) for v in data]
        return data

    def scrub_zip(self, path: Path) -> None:
        """Rewrite a Playwright trace.zip with every secret (plain and JSON-escaped) replaced."""
        if not self._values or not path.is_file():
            return
        forms: list[tuple[bytes, bytes]] = []
        for v in sorted(self._values, key=len, reverse=True):
            for enc in {v, json.dumps(v)[1:-1]}:
                forms.append((enc.encode(), MASK.encode()))
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".zip")
        os.close(fd)
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item)
                for old, new in forms:
                    data = data.replace(old, new)
                dst.writestr(item, data)
        os.replace(tmp, path)
