"""Regenerate data/devices.json from the installed Playwright (`python -m tuiding.devices`).

The device names are shipped so `tuiding validate` can check `device:` without starting Playwright."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        names = sorted(p.devices)
    out = Path(__file__).parent / "data" / "devices.json"
    out.write_text(
        json.dumps({"playwright": version("playwright"), "devices": names}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {out} ({len(names)} devices)")


if __name__ == "__main__":
    main()
