"""File downloads served by the portals."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def download(body: bytes | str, mimetype: str, name: str, ascii_name: str | None = None) -> Response:
    """An attachment named `name`. Headers must be latin-1, so a Chinese name goes in filename*
    with `ascii_name` as the plain fallback."""
    fallback = ascii_name or name
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={fallback}; filename*=UTF-8''{quote(name)}"},
    )
