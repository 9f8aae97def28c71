"""`make bootstrap`: make sure a Chromium and CJK fonts are present, installing them when we can.

Order (DESIGN.md): a browser that is already there; else `playwright install chromium`
where downloads work; else Debian's chromium + fonts-noto-cjk via apt (as root).
Anything we cannot do ends with one line saying what to run. pytest-playwright's --video
also needs Playwright's ffmpeg: downloaded where possible, else Debian's ffmpeg is linked in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    return (
        ok and subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, stdout=subprocess.DEVNULL).returncode == 0
    )


def try_playwright_install() -> bool:
    say("no browser found; trying 'playwright install chromium' …")
    try:
        r = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def playwright_ffmpeg_path() -> Path | None:
    """Where Playwright looks for its video encoder (Linux), from the driver's browsers.json."""
    import playwright

    if not sys.platform.startswith("linux"):
        return None
    manifest = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    try:
        revision = next(b["revision"] for b in json.loads(manifest.read_text())["browsers"] if b["name"] == "ffmpeg")
    except (OSError, StopIteration, KeyError, ValueError):
        return None
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return root / f"ffmpeg-{revision}" / "ffmpeg-linux"


def ensure_video_encoder() -> str | None:
    """pytest --video needs Playwright's ffmpeg: download it, or link Debian's ffmpeg in its place.

    Returns a problem line, or None when video recording is available."""
    target = playwright_ffmpeg_path()
    if target is None or target.exists():
        return None
    r = subprocess.run([sys.executable, "-m", "playwright", "install", "ffmpeg"], capture_output=True, text=True, timeout=300)
    if r.returncode == 0 and target.exists():
        return None
    if not shutil.which("ffmpeg"):
        if not can_apt() or not apt_install(["ffmpeg"]):
            return "no video encoder (pytest --video): run 'apt-get install ffmpeg' or '.venv/bin/playwright install ffmpeg'"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(shutil.which("ffmpeg"))  # type: ignore[arg-type]
    say(f"video encoder: linked {shutil.which('ffmpeg')} for Playwright")
    return None


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
    # The test suite reads generated PDFs back with poppler, and redacted pictures and video frames with OCR
    # (tesseract: they must not show what was hidden); spoken narration (NARRATION=1, as CI asks) needs espeak-ng.
    if not shutil.which("pdftotext"):
        missing.append("poppler-utils")
    if not shutil.which("tesseract"):
        missing.append("tesseract-ocr")
    if not shutil.which("socat"):  # bridges a run-server in a network namespace of its own (tests/test_remote_network.py)
        missing.append("socat")
    if not shutil.which("chromedriver"):  # the Selenium Grid node of tests/test_grid.py drives chromium with it
        missing.append("chromium-driver")
    if os.environ.get("NARRATION") == "1" and not shutil.which("espeak-ng"):
        missing.append("espeak-ng")
    # The test suite's IMAP server (tests/test_mail.py starts its own instance on a loopback port), asked for
    # with IMAP=1 as CI does: on a machine with systemd the package would also start the distribution's service.
    if os.environ.get("IMAP") == "1" and not (shutil.which("dovecot") or Path("/usr/sbin/dovecot").exists()):
        missing.append("dovecot-imapd")
    if missing:
        if not can_apt():
            say(
                f"cannot install {' and '.join(missing)} (needs root and apt-get); run: sudo apt-get install -y {' '.join(missing)}"
            )
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
    problem = ensure_video_encoder()
    if problem:
        say(problem)
        return 1
    fetch_result_tools()
    extras = "; spoken narration ready" if shutil.which("espeak-ng") else "; no espeak-ng (narration: make bootstrap NARRATION=1)"
    say(
        f"browser ready ({info.source}: {info.executable or 'playwright-installed chromium'}); CJK fonts, video encoder and PDF tools ready{extras}"
    )
    return 0


# What the test suite checks tuiding against: the published CTRF schema (npm package `ctrf`), Allure's own report
# generator (npm `allure-commandline`, a Java program) and a Selenium Grid 4 (the jar npm's
# `@nightwatch/selenium-server` ships; with Debian's chromium-driver and the Java runtime).
TOOLS = Path("build/tools")
RESULT_TOOLS = {
    "ctrf": "ctrf@0.3.0",
    "allure": "allure-commandline@2.46.1",
    "selenium": "@nightwatch/selenium-server@4.20.0",
}


def fetch_result_tools(tools: Path = TOOLS) -> None:
    """npm packages unpacked under build/tools/<name>/ (once); without npm the tests that need them say so and skip."""
    npm = shutil.which("npm")
    for name, spec in RESULT_TOOLS.items():
        target = tools / name
        if (target / "package.json").is_file():
            continue
        if npm is None:
            say(f"no npm: {spec} (checks tuiding's {name} results in the tests) not fetched")
            continue
        work = tools / f".{name}-download"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        packed = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(work)], capture_output=True, text=True)
        tarballs = sorted(work.glob("*.tgz"))
        if packed.returncode != 0 or not tarballs:
            say(f"npm pack {spec} failed (the tests that need it skip): {packed.stderr.strip()[:200]}")
            continue
        subprocess.run(["tar", "-xzf", str(tarballs[0]), "-C", str(work)], check=True)
        shutil.rmtree(target, ignore_errors=True)
        (work / "package").rename(target)
        shutil.rmtree(work, ignore_errors=True)
        say(f"fetched {spec} into {target}")


if __name__ == "__main__":
    sys.exit(main())
