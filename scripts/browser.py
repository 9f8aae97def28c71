"""Find or launch a browser (explicit path, Playwright-installed, system Chromium, remote ws://)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Quiet on closed networks (no background fetches) and usable as root in containers.
QUIET_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
# A fake camera/microphone. Access still needs the permission (scenario key `permissions: [camera]`),
# so a scenario without it sees the site's "camera denied" path.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream"]


class BrowserNotFound(RuntimeError):
    pass


class BrowserStartFailed(RuntimeError):
    """Launching or connecting failed; the message is one line a user can act on."""


@dataclass(frozen=True)
class BrowserInfo:
    executable: str | None  # None: let Playwright use the browser it installed
    source: str  # "explicit" | "env" | "playwright" | "system"


def playwright_installed_chromium() -> str | None:
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    for pattern in (
        "chromium-*/chrome-linux*/chrome",
        "chromium_headless_shell-*/chrome-*/headless_shell",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
    ):
        for hit in sorted(root.glob(pattern), reverse=True):
            if os.access(hit, os.X_OK):
                return str(hit)
    return None


def find_browser(explicit: str | None = None) -> BrowserInfo:
    """Explicit path, then $TUIDING_BROWSER, then a Playwright-installed Chromium, then a system one."""
    for value, source in ((explicit, "explicit"), (os.environ.get("TUIDING_BROWSER"), "env")):
        if value:
            path = shutil.which(value) or value
            if not (Path(path).is_file() and os.access(path, os.X_OK)):
                raise BrowserNotFound(
                    f"browser not found or not executable: {value} (from {'--browser-path' if source == 'explicit' else 'TUIDING_BROWSER'})"
                )
            return BrowserInfo(path, source)
    if playwright_installed_chromium():
        return BrowserInfo(None, "playwright")
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return BrowserInfo(found, "system")
    raise BrowserNotFound(
        "no Chromium found: run 'make bootstrap', or install one (apt-get install chromium fonts-noto-cjk, "
        "or .venv/bin/playwright install chromium), or set TUIDING_BROWSER=/path/to/chrome"
    )


def launch_options(info: BrowserInfo, *, headed: bool = False) -> dict[str, Any]:
    args = list(QUIET_ARGS) + FAKE_MEDIA_ARGS
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start sandboxed as root
    opts: dict[str, Any] = {"headless": not headed, "args": args}
    if info.executable:
        opts["executable_path"] = info.executable
    return opts


def _first_line(exc: BaseException) -> str:
    """Playwright wraps errors in banners and call logs; keep the line that says what went wrong."""
    for line in str(exc).splitlines():
        text = line.strip(" ║╔╗╚╝═")
        if text and not text.startswith(("Call log", "- ", "<")):
            return text[:300]
    return type(exc).__name__


class BrowserSession:
    """One Playwright driver and one browser (launched, or connected with `connect=ws://…`).

    with BrowserSession() as session:
        context = session.new_context(locale="zh-CN")
    """

    def __init__(
        self,
        *,
        browser_path: str | None = None,
        headed: bool = False,
        connect: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self._browser_path, self._headed, self._connect = browser_path, headed, connect
        self._extra_args = extra_args  # e.g. the recorder's --remote-debugging-port
        self._pw: Any = None
        self._info: BrowserInfo | None = None
        self.browser: Any = None
        self.description = ""
        self._starting = False

    def __enter__(self) -> BrowserSession:
        from playwright.sync_api import sync_playwright

        if self._connect is None:
            self._info = find_browser(self._browser_path)  # fail before starting anything
        self._pw = sync_playwright().start()
        try:
            self._start_browser()
        except BaseException:
            self._pw.stop()
            raise
        return self

    def _start_browser(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            if self._connect:
                self.browser = self._pw.chromium.connect(
                    self._connect, headers={"x-playwright-launch-options": json.dumps(self._remote_launch_options())}
                )
                self.description = f"chromium {self.browser.version} via {self._connect}"
            else:
                assert self._info is not None
                opts = launch_options(self._info, headed=self._headed)
                opts["args"] = [*opts["args"], *self._extra_args]
                self.browser = self._pw.chromium.launch(**opts)
                self.description = f"chromium {self.browser.version} ({self._info.executable or 'playwright-installed'})"
        except PlaywrightError as exc:
            where = f"connect to {self._connect}" if self._connect else "start Chromium"
            raise BrowserStartFailed(f"could not {where}: {_first_line(exc)}") from None

    def _remote_launch_options(self) -> dict[str, Any]:
        """What `playwright run-server` should launch: our flags, and an executable only if one was named
        (--browser-path / TUIDING_BROWSER), since paths on the remote machine are its own."""
        explicit = self._browser_path or os.environ.get("TUIDING_BROWSER")
        if explicit and "/" not in explicit:
            explicit = shutil.which(explicit) or explicit
        opts: dict[str, Any] = {"headless": not self._headed, "args": QUIET_ARGS + FAKE_MEDIA_ARGS + ["--no-sandbox"]}
        if explicit:
            opts["executablePath"] = explicit
        return opts

    def ensure_connected(self) -> None:
        """Start a new browser if the last one died (killed, crashed, connection lost): the suite goes on.
        With journeys running concurrently, the first to notice starts it and the others wait for that one."""
        while self._starting:
            self.pause(0.05)
        if self.browser is not None and self.browser.is_connected():
            return
        self._starting = True
        try:
            self._start_browser()
        finally:
            self._starting = False

    def pause(self, seconds: float) -> None:
        """Wait without blocking other journeys on this driver (a sync Playwright call yields to them)."""
        from .parallel import wait

        impl = self._pw._impl_obj
        future = impl._loop.create_future()
        impl._loop.call_later(seconds, lambda: future.done() or future.set_result(None))
        wait(impl._loop, impl._dispatcher_fiber, future)

    @property
    def playwright(self) -> Any:
        return self._pw

    @property
    def devices(self) -> dict[str, dict[str, Any]]:
        return self._pw.devices

    def new_context(self, **kwargs: Any) -> Any:
        return self.browser.new_context(**kwargs)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        from playwright.sync_api import Error as PlaywrightError

        # After Ctrl-C the browser and driver may already be gone: closing quietly keeps the real outcome.
        try:
            if self.browser is not None:
                self.browser.close()
        except PlaywrightError:
            pass
        finally:
            if self._pw is not None:
                try:
                    self._pw.stop()
                except Exception:
                    pass
