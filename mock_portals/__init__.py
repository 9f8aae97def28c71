"""Mock portals: Flask imitations of real unsubscribe journeys.

`create_app(portal, database=..., test_api=...)` builds one app serving one
portal at the site root, so scenarios say `goto: /login` whatever the host.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Flask

from . import db, testapi
from .registry import PORTALS, get_portal

__all__ = ["create_app", "PORTALS"]


def create_app(
    portal: str = "migu",
    *,
    database: str | os.PathLike[str] | None = None,
    test_api: bool = False,
    config: dict | None = None,
) -> Flask:
    """Build the app for one portal with its own SQLite state file.

    `database=None` makes a fresh file in a temporary folder (the embedded mode's
    "own state"). `test_api` mounts `/__mock__/` (reset, SMS inbox, clock).
    """
    spec = get_portal(portal)
    app = Flask(__name__)
    if database is None:
        database = Path(tempfile.mkdtemp(prefix=f"tuiding-{portal}-")) / "state.db"
    app.config.update(
        SECRET_KEY=os.urandom(24),
        DATABASE=str(database),
        PORTAL=portal,
        TEST_API=test_api,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if config:
        app.config.update(config)
    db.init_app(app, spec.schema, spec.seed)
    app.extensions["tuiding.settings"] = spec.settings
    app.register_blueprint(spec.blueprint)
    if test_api:
        app.register_blueprint(testapi.bp)
    return app
