"""View guards shared by the portals."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g, redirect, request, url_for


def requires(attr: str, login_endpoint: str, *, remember_next: bool = True) -> Callable[[Callable], Callable]:
    """Redirect to `login_endpoint` unless `g.<attr>` (the logged-in member or account) is set."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if getattr(g, attr, None) is None:
                return redirect(url_for(login_endpoint, next=request.path) if remember_next else url_for(login_endpoint))
            return view(*args, **kwargs)
        return wrapped
    return decorator
