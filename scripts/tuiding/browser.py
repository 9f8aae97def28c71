"""Find or launch a browser (explicit path, Playwright-installed, system Chromium, remote ws://)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .grid import Grid, GridError, GridSession

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Quiet on closed networks (no background fetches) and usable as root in containers.
QUIET_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
# A fake camera/microphone. Access still needs the permission (scenario key `permissions: [camera]`),
# so a scenario without it sees the site's "camera denied" path.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream"]


DESKTOP = {"width": 1280, "height": 720}  # the viewport when no device is named


class UnknownDevice(ValueError):
    """A device name this Playwright does not know; one line."""


def context_options(
    devices: dict[str, dict[str, Any]],
    *,
    locale: str,
    timezone: str,
    device: str | None = None,
    base_url: str | None = None,
    permissions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A browser context's options for a journey — the same for running it and for recording it."""
    kwargs: dict[str, Any] = {
        "locale": locale, "timezone_id": timezone, "accept_downloads": True, "viewport": dict(DESKTOP),
        "permissions": list(permissions),
    }  # fmt: skip
    if base_url is not None:
        kwargs["base_url"] = base_url
    if device:
        if device not in devices:
            raise UnknownDevice(f"this Playwright has no device named '{device}'")
        kwargs.update(devices[device])
        kwargs.pop("default_browser_type", None)
    return kwargs


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


def no_display() -> bool:
    """Linux (and the BSDs) without an X or Wayland display: a headed Chromium would die at once, wordlessly."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _not_a_browser(info: BrowserInfo) -> str | None:
    """When a named executable failed to start as a browser: say so if it does not call itself Chromium or
    Chrome (`/bin/true` ends at once and Playwright only sees a closed browser)."""
    if info.source not in ("explicit", "env") or not info.executable:
        return None
    try:
        done = subprocess.run([info.executable, "--version"], capture_output=True, text=True, timeout=10, check=False)
        said = (done.stdout or done.stderr).strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        said = []
    if said and re.search(r"chrom", said[0], re.IGNORECASE):
        return None  # a browser that failed for another reason: Playwright's words are the better ones
    env = os.environ.get("TUIDING_BROWSER")  # click fills --browser-path from it too
    flag = "TUIDING_BROWSER" if env and (shutil.which(env) or env) == info.executable else "--browser-path"
    version = f"'{said[0][:80]}'" if said else "nothing"
    return f"{flag} {info.executable}: not a Chromium or Chrome browser (asked for its --version, it printed {version})"


EXPOSE_NETWORK = "<loopback>"


def expose_network() -> str | None:
    """What a remote browser reaches through this machine (Playwright's `expose_network`): by default its loopback
    (`<loopback>`: localhost, 127.0.0.1, [::1]), where the embedded portals and `tuiding serve` listen, so `portal:`
    scenarios run unchanged on a browser elsewhere. TUIDING_EXPOSE_NETWORK replaces the rules; empty: none."""
    rules = os.environ.get("TUIDING_EXPOSE_NETWORK", EXPOSE_NETWORK).strip()
    return rules or None


def _first_line(exc: BaseException) -> str:
    """Playwright wraps errors in banners and call logs; keep the line that says what went wrong."""
    for line in str(exc).splitlines():
        text = line.strip(" ║╔╗╚╝═")
        if text and not text.startswith(("Call log", "- ", "<")):
            return text[:300]
    return type(exc).__name__


@dataclass
class Endpoint:
    """One `playwright run-server` of a farm (`--connect` given more than once)."""

    url: str
    browser: Any = None
    down: str | None = None  # why it is no longer used
    created: int = 0  # contexts opened on it (ties between equally busy endpoints rotate)


class BrowserSession:
    """One Playwright driver and one browser (launched, or connected with `connect=ws://…`), or a farm of
    remote browsers (several `connect` URLs): each new context goes to the farm's least busy live browser;
    a browser that fails is left out from then on (its running journeys fail, the unstarted ones go to
    the others) and the run says so once.

    with BrowserSession() as session:
        context = session.new_context(locale="zh-CN")
    """

    def __init__(
        self,
        *,
        browser_path: str | None = None,
        headed: bool = False,
        connect: str | tuple[str, ...] | None = None,
        connect_timeout: float = 30.0,
        extra_args: tuple[str, ...] = (),
        grid: str | None = None,
    ) -> None:
        urls = (connect,) if isinstance(connect, str) else tuple(dict.fromkeys(connect or ()))
        self._browser_path, self._headed = browser_path, headed
        self._connect = urls[0] if urls else None
        self.endpoints = [Endpoint(url) for url in urls]
        self._connect_timeout = connect_timeout  # an endpoint that accepts TCP and never speaks must not hang us
        self._extra_args = extra_args  # e.g. the recorder's --remote-debugging-port
        self._pw: Any = None
        self._info: BrowserInfo | None = None
        self.browser: Any = None
        self.description = ""
        self._starting = False
        self.on_notice: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)
        self.grid: Grid | None = Grid(grid, timeout_s=min(connect_timeout, 30.0)) if grid else None

    def __enter__(self) -> BrowserSession:
        from playwright.sync_api import sync_playwright

        if self.grid is not None:
            try:
                self.description = f"chromium via Selenium Grid {self.grid.url} ({self.grid.free_slots()} slot(s) free)"
            except GridError as exc:
                raise BrowserStartFailed(str(exc)) from None
            self.grid.environment()  # read by Playwright's driver when it launches: set before it starts
        elif self._connect is None:
            self._info = find_browser(self._browser_path)  # fail before starting anything
        self._pw = sync_playwright().start()
        try:
            if self.grid is not None:
                pass  # a browser per journey, launched when a context is wanted (_grid_browser)
            elif len(self.endpoints) > 1:
                self._start_farm()
            else:
                self._start_browser()
        except BaseException:
            self._pw.stop()
            raise
        return self

    def _start_farm(self) -> None:
        for ep in self.endpoints:
            try:
                ep.browser = self._connect_to(ep.url)
            except BrowserStartFailed as exc:
                self._lose(ep, str(exc).removeprefix(f"could not connect to {ep.url}: "))
        live = [ep for ep in self.endpoints if ep.down is None]
        if not live:
            raise BrowserStartFailed(
                "could not connect to any --connect endpoint: " + "; ".join(f"{e.url}: {e.down}" for e in self.endpoints)
            )
        self.browser = live[0].browser
        self.description = f"chromium {self.browser.version} via a farm of {len(self.endpoints)} ({len(live)} connected)"

    def _lose(self, ep: Endpoint, why: str) -> None:
        ep.down = why
        others = [e.url for e in self.endpoints if e.down is None]
        self.on_notice(
            f"tuiding: {ep.url} is out of the farm ({why}); "
            + (f"unstarted journeys run on {', '.join(others)}" if others else "no endpoint is left")
        )

    def _connect_to(self, url: str) -> Any:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return self._pw.chromium.connect(
                url,
                headers={"x-playwright-launch-options": json.dumps(self._remote_launch_options())},
                timeout=self._connect_timeout * 1000,
                expose_network=expose_network(),
            )
        except PlaywrightTimeout:
            raise BrowserStartFailed(
                f"could not connect to {url}: no answer within {self._connect_timeout:g} s "
                "(is it a 'playwright run-server'? --connect-timeout waits longer)"
            ) from None
        except PlaywrightError as exc:
            raise BrowserStartFailed(f"could not connect to {url}: {_first_line(exc)}") from None

    def _start_browser(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        if self._headed and not self._connect and no_display():
            raise BrowserStartFailed(
                "a browser window needs a display and this machine has none (DISPLAY is not set): run it on a desktop "
                "or under xvfb-run, or without a window (tuiding record: --headless --debug-port PORT, driven over CDP)"
            )
        if self._connect:
            self.browser = self._connect_to(self._connect)
            self.description = f"chromium {self.browser.version} via {self._connect}"
            return
        try:
            assert self._info is not None
            opts = launch_options(self._info, headed=self._headed)
            opts["args"] = [*opts["args"], *self._extra_args]
            self.browser = self._pw.chromium.launch(**opts)
            self.description = f"chromium {self.browser.version} ({self._info.executable or 'playwright-installed'})"
        except PlaywrightError as exc:
            assert self._info is not None
            raise BrowserStartFailed(_not_a_browser(self._info) or f"could not start Chromium: {_first_line(exc)}") from None

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
        With journeys running concurrently, the first to notice starts it and the others wait for that one.
        In a farm, a lost browser leaves the farm instead (BrowserStartFailed when none is left)."""
        if len(self.endpoints) > 1:
            self._farm_browser()
            return
        if self.grid is not None:
            return  # each journey's browser is launched (or an idle one reused) with its context
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

    def _farm_browser(self) -> Endpoint:
        """The live endpoint with the fewest open contexts (ties: the one used least so far, then the order given)."""
        for ep in self.endpoints:
            if ep.down is None and not ep.browser.is_connected():
                self._lose(ep, "its browser disconnected")
        live = [ep for ep in self.endpoints if ep.down is None]
        if not live:
            raise BrowserStartFailed(
                "every --connect endpoint was lost: " + "; ".join(f"{e.url}: {e.down}" for e in self.endpoints)
            )
        return min(live, key=lambda ep: (len(ep.browser.contexts), ep.created))

    @property
    def remote(self) -> bool:
        """Its browsers run elsewhere (`--connect`, `--grid`): a context is fenced by routes, not by a proxy (guard.py)."""
        return bool(self.endpoints) or self.grid is not None

    def _grid_browser(self) -> GridSession:
        """An idle browser of ours on the Grid, or a new one (one launch at a time: each is told its session)."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        grid = self.grid
        assert grid is not None
        while self._starting:
            self.pause(0.05)
        grid.sessions = [h for h in grid.sessions if h.browser.is_connected()]
        idle = next((h for h in grid.sessions if not h.open_contexts), None)
        if idle is not None:
            return idle.reserve()
        self._starting = True
        try:
            browser = self._pw.chromium.launch(**self._remote_launch_options(), timeout=self._connect_timeout * 1000)
            return grid.launched(browser).reserve()
        except PlaywrightTimeout:
            deleted = grid.clean_up_after_timeout()
            raise BrowserStartFailed(
                f"the Selenium Grid at {grid.url} gave no browser within {self._connect_timeout:g} s (are its slots busy? "
                f"--connect-timeout waits longer){'; the session it queued for us was deleted' if deleted else ''}"
            ) from None
        except PlaywrightError as exc:
            raise BrowserStartFailed(f"the Selenium Grid at {grid.url} gave no browser: {_first_line(exc)}") from None
        finally:
            self._starting = False

    def new_context(self, **kwargs: Any) -> Any:
        if self.grid is not None:
            held = self._grid_browser()
            try:
                return held.opened(held.browser.new_context(**kwargs))
            except Exception:
                held.closed()
                raise
        if len(self.endpoints) > 1:
            from playwright.sync_api import Error as PlaywrightError

            while True:
                ep = self._farm_browser()
                try:
                    context = ep.browser.new_context(**kwargs)
                    ep.created += 1
                    return context
                except PlaywrightError as exc:  # lost between the check and the call: try the next one
                    self._lose(ep, _first_line(exc))
        return self.browser.new_context(**kwargs)

    def describe(self, context: Any) -> str:
        """The browser a context runs in, for its run's manifest."""
        for held in self.grid.sessions if self.grid is not None else []:
            if context in held.browser.contexts:
                return self.grid.describe(held, held.browser.version) if self.grid is not None else ""
        for ep in self.endpoints:
            if ep.browser is not None and context in ep.browser.contexts:
                return f"chromium {ep.browser.version} via {ep.url}"
        return self.description

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        from playwright.sync_api import Error as PlaywrightError

        # After Ctrl-C the browser and driver may already be gone: closing quietly keeps the real outcome.
        held = [h.browser for h in self.grid.sessions] if self.grid is not None else []
        try:
            for b in {id(x): x for x in [self.browser, *held, *(e.browser for e in self.endpoints)] if x is not None}.values():
                try:
                    b.close()
                except PlaywrightError:
                    pass
            if self.grid is not None and self.grid.timed_out:
                # The launch that timed out is still queued: it gets one of the slots just freed. Deleted, or it
                # would hold that slot until the Grid's session timeout.
                self.grid.sessions = []
                self.grid.clean_up_after_timeout(settle_s=5.0)
        finally:
            if self._pw is not None:
                try:
                    self._pw.stop()
                except Exception:
                    pass
