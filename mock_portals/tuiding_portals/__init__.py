"""Mock portals: Flask imitations of real unsubscribe journeys.

`create_app(portal, database=..., test_api=...)` builds one app serving one
portal at the site root, so scenarios say `goto: /login` whatever the host.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from flask import Flask, request
from flask.typing import ResponseReturnValue

from . import db, faults, testapi
from .registry import PORTALS, SettingError, get_portal
from .security import csrf, init_security

__all__ = ["PORTALS", "SettingError", "create_app"]


LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(host_header: str) -> str:
    """The name in a Host header without its port: `[::1]:8000` → `::1`, `LocalHost.:80` → `localhost`."""
    name = host_header.strip()
    if name.startswith("["):  # an IPv6 literal: the port, if any, follows the bracket
        return name[1:].split("]", 1)[0].lower()
    if name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    return name.rstrip(".").lower()


def init_hosts(app: Flask) -> None:
    """Answer only for the names of this machine (and the host `tuiding serve --host` gave): a web page the
    tester visits cannot reach the portal, and its test API, under a name of its own (DNS rebinding)."""

    @app.before_request
    def _only_this_machine() -> ResponseReturnValue | None:
        host = host_name(request.host or "")
        allowed = LOCAL_NAMES | {host_name(h) for h in app.config.get("EXTRA_HOSTS", ())}
        if host in allowed or host.endswith(".localhost"):
            return None
        return "this portal answers only for 127.0.0.1 / localhost (or the host it was started on)\n", 421

    return None


def create_app(
    portal: str = "migu",
    *,
    database: str | os.PathLike[str] | None = None,
    test_api: bool = False,
    config: dict | None = None,
    clock: str | None = None,
    settings: dict[str, str] | None = None,
) -> Flask:
    """Build the app for one portal with its own SQLite state file.

    `database=None` makes a fresh file in a temporary folder (the embedded mode's
    "own state"). `test_api` mounts `/__mock__/` (reset, SMS inbox, clock, settings, faults).
    `clock`: an ISO date-time the portal's clock stands still at (moved only by the test API),
    or None for real time. `settings`: portal settings (e.g. a UX variant) from the start;
    a bad name or value raises SettingError.
    """
    spec = get_portal(portal)
    start = dict(settings or {})
    for name, value in start.items():
        problem = spec.setting_problem(name, str(value))
        if problem:
            raise SettingError(f"{portal}: setting {name}: {problem}")
    frozen = None
    if clock is not None:
        try:
            frozen = datetime.fromisoformat(clock).isoformat()
        except ValueError:
            raise SettingError(
                f"{portal}: clock: expected an ISO date-time like 2026-11-20T10:00:00+08:00, got '{clock}'"
            ) from None
    app = Flask(__name__)
    temporary = None
    if database is None:
        temporary = tempfile.mkdtemp(prefix=f"tuiding-{portal}-")
        database = Path(temporary) / "state.db"
    app.config.update(
        TEMP_STATE=temporary,  # removed when the server stops (server.py): its state was only ever this run's
        SECRET_KEY=os.urandom(24),
        DATABASE=str(database),
        PORTAL=portal,
        TEST_API=test_api,
        SESSION_COOKIE_SAMESITE="Lax",
        CLOCK=frozen,
        START_SETTINGS={k: str(v) for k, v in start.items()},
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # the test API's JSON shows Chinese as Chinese
    db.init_app(app, spec.schema, spec.seed)
    app.extensions["tuiding.settings"] = spec.settings
    init_security(app)
    init_hosts(app)
    app.register_blueprint(spec.blueprint)
    if test_api:
        csrf.exempt(testapi.bp)  # the test API is for scripts and scenarios' request steps, not for forms
        app.register_blueprint(testapi.bp)
        faults.init_faults(app)
    return app
