"""`make bootstrap`: make sure a Chromium and CJK fonts are present, installing them when we can.

Order (DESIGN.md): a browser that is already there; else `playwright install chromium`
where downloads work; else Debian's chromium + fonts-noto-cjk via apt (as root).
Anything we cannot do ends with one line saying what to run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .browser import BrowserNotFound, find_browser


def say(msg: str) -> None:
    print(f"bootstrap: {msg}", flush=True)


def has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    return bool(out.strip())


def can_apt() -> bool:
    return shutil.which("apt-get") is not None and hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(packages: list[str]) -> bool:
    say(f"installing {' '.join(packages)} with apt-get (this takes a minute) …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    ok = subprocess.run(["apt-get", "update", "-qq"], env=env).returncode == 0
    return ok and subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env,
                                 stdout=subprocess.DEVNULL).returncode == 0


def try_playwright_install() -> bool:
    say("no browser found; trying 'playwright install chromium' …")
    try:
        r = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def main() -> int:
    try:
        info = find_browser()
    except BrowserNotFound:
        info = None
    missing: list[str] = []
    if info is None and not try_playwright_install():
        missing.append("chromium")
    if not has_cjk_font():
        missing.append("fonts-noto-cjk")
    if missing:
        if not can_apt():
            say(f"cannot install {' and '.join(missing)} (needs root and apt-get); run: sudo apt-get install -y {' '.join(missing)}")
            return 1
        if not apt_install(missing):
            say(f"apt-get could not install {' '.join(missing)}; run: apt-get update && apt-get install -y {' '.join(missing)}")
            return 1
    try:
        info = find_browser()
    except BrowserNotFound as exc:
        say(str(exc))
        return 1
    if not has_cjk_font():
        say("no CJK font after installing fonts-noto-cjk; Chinese text would render as boxes")
        return 1
    say(f"browser ready ({info.source}: {info.executable or 'playwright-installed chromium'}); CJK fonts ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
