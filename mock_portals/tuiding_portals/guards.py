"""View guards shared by the portals."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue

View = Callable[..., ResponseReturnValue]


def requires(attr: str, login_endpoint: str, *, remember_next: bool = True) -> Callable[[View], View]:
    """Redirect to `login_endpoint` unless `g.<attr>` (the logged-in member or account) is set."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if getattr(g, attr, None) is None:
                return redirect(url_for(login_endpoint, next=request.path) if remember_next else url_for(login_endpoint))
            return view(*args, **kwargs)

        return wrapped

    return decorator
