"""Serve a portal app with waitress: in the foreground (`tuiding serve`) or embedded in a thread.

`migu` and `cloudpc` are the providers the runner finds through the `tuiding.portals` entry points:
each starts a fresh portal (own SQLite file, own free port) and yields its base URL."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any

from waitress.server import create_server

from . import create_app

# Embedded portals stand still at this instant (the test API moves it): every run sees the same
# dates, so receipts compare with their visual baselines. `settings: {clock: real}` gives real time.
EMBEDDED_CLOCK = "2026-11-20T10:00:00+08:00"


def _not_shutdown_noise(record: logging.LogRecord) -> bool:
    """A request still being answered while its embedded portal closes finds waitress's sockets gone
    (EBADF). That is the portal stopping on purpose (end of run, Ctrl-C), not an error to print."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (isinstance(exc, OSError) and exc.errno in (errno.EBADF, errno.EPIPE))


logging.getLogger("waitress").addFilter(_not_shutdown_noise)


class ServeError(RuntimeError):
    """The server cannot start (address in use, no permission); the message is one line."""


def _server(app: Any, host: str, port: int, threads: int) -> object:
    app.config["EXTRA_HOSTS"] = (host,)  # the name it listens on answers too (guards in create_app)
    try:
        return create_server(app, host=host, port=port, threads=threads, ident="tuiding-mock")
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    except ValueError:  # waitress: "Invalid host/port specified."
        raise ServeError(f"cannot listen on {host}:{port} (not a host name or address of this machine)") from None


def remove_state(app: Any) -> None:
    """The temporary folder holding a portal's state.db, when it made one (not a --db file the user named)."""
    folder = app.config.get("TEMP_STATE")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


class EmbeddedPortal:
    """A fresh portal (own SQLite file, own free port) for one scenario run.

    with EmbeddedPortal("migu") as portal:
        print(portal.url)
    """

    def __init__(self, portal: str, *, host: str = "127.0.0.1", port: int = 0, settings: dict[str, object] | None = None) -> None:
        self.portal = portal
        start = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (settings or {}).items()}
        clock = start.pop("clock", EMBEDDED_CLOCK)
        self.app = create_app(portal, test_api=True, clock=None if clock == "real" else clock, settings=start)
        self._server = _server(self.app, host, port, threads=4)
        self.url = f"http://{host}:{self._server.effective_port}"  # type: ignore[attr-defined]
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name=f"portal-{portal}", daemon=True)

    def _serve(self) -> None:
        try:
            self._server.run()  # type: ignore[attr-defined]
        except (OSError, ValueError):
            # close() pulls the sockets from under waitress's select(); that is how it stops, not news.
            if not self._closing:
                raise

    def __enter__(self) -> EmbeddedPortal:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True
        server: Any = self._server

        def shut_down() -> None:  # in the server's own thread: the sockets and the map are its to close
            for dispatcher in list(server._map.values()):
                try:
                    dispatcher.close()
                except OSError:
                    pass

        # Closing sockets from this thread does not wake waitress's select(), which sleeps up to its 1 s
        # loop timeout before it notices: every run paid that second at its end. The trigger wakes it.
        try:
            server.trigger.pull_trigger(shut_down)
        except OSError:
            server.close()
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            server.close()
        # Its worker threads too: a suite starts a portal per journey, and idle ones would pile up.
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)
        remove_state(self.app)  # its SQLite state was this run's only (a --db file is never a temporary one)


@contextmanager
def _provide(name: str, settings: dict[str, object]) -> Iterator[str]:
    with EmbeddedPortal(name, settings=settings) as portal:
        yield portal.url


def migu(**settings: object) -> AbstractContextManager[str]:
    """The 咪咕会员 portal, embedded (entry point tuiding.portals: migu); settings as /__mock__/settings takes them."""
    return _provide("migu", settings)


def cloudpc(**settings: object) -> AbstractContextManager[str]:
    """The 移动云电脑软件版 portal, embedded (entry point tuiding.portals: cloudpc)."""
    return _provide("cloudpc", settings)


def serve_forever(
    portal: str, host: str, port: int, *, dev: bool, database: str | None, ready: Callable[[str], None] = print
) -> None:
    """`tuiding serve`: bind first (a busy port is one line), say where, then serve until Ctrl-C."""
    app = create_app(portal, test_api=dev, database=database)
    try:
        server = _server(app, host, port, threads=8)
    except ServeError:
        remove_state(app)
        raise
    ready(f"http://{host}:{server.effective_port}/")  # type: ignore[attr-defined]
    try:
        server.run()  # type: ignore[attr-defined]
    finally:
        server.close()  # type: ignore[attr-defined]
        remove_state(app)
