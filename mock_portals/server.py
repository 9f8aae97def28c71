"""Serve a portal app with waitress: in the foreground (`tuiding serve`) or embedded in a thread."""
from __future__ import annotations

import threading
from types import TracebackType

from waitress.server import create_server

from . import create_app


class EmbeddedPortal:
    """A fresh portal (own SQLite file, own free port) for one scenario run.

        with EmbeddedPortal("migu") as portal:
            print(portal.url)
    """

    def __init__(self, portal: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.portal = portal
        self.app = create_app(portal, test_api=True)
        self._server = create_server(self.app, host=host, port=port, threads=4, ident="tuiding-mock")
        self.url = f"http://{host}:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name=f"portal-{portal}", daemon=True)

    def __enter__(self) -> "EmbeddedPortal":
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)


def serve_forever(portal: str, host: str, port: int, *, dev: bool, database: str | None) -> None:
    from waitress import serve

    app = create_app(portal, test_api=dev, database=database)
    serve(app, host=host, port=port, threads=8, ident="tuiding-mock")
