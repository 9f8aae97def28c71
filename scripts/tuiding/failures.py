"""How a failed step is worded: Playwright's errors in the words click's and see's own failures use."""

from __future__ import annotations

import re
from typing import Any

from . import model as M

BROWSER_GONE = "the browser closed during this step (it crashed or was killed)"

_READY_TO = {
    "click": "click",
    "fill": "fill in",
    "select": "choose from",
    "check": "tick",
    "uncheck": "untick",
    "press": "press keys in",
    "upload": "upload files to",
    "download": "click for the download",
    "save": "read",
    "wait": "wait for",
}


def short_error(exc: BaseException) -> str:
    """Playwright errors carry a long call log; keep the first two meaningful lines."""
    lines = [l.strip() for l in str(exc).splitlines() if l.strip() and not set(l.strip()) <= {"=", " "}]
    lines = [l for l in lines if not l.startswith(("Call log:", "logs"))]
    text = " — ".join(lines[:2]) or type(exc).__name__
    for prefix in ("Locator.", "Page.", "LocatorAssertions.", "PageAssertions.", "BrowserContext.", "Tracing."):
        if text.startswith(prefix):
            text = text.split(": ", 1)[-1]
    return text[:400]


def describe(arg: Any) -> str:
    """A step's argument in words, as the record's `target` keeps it."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, dict):
        return ", ".join(f"{k}={v}" for k, v in arg.items())
    if isinstance(arg, M.Target):
        return arg.describe()
    if hasattr(arg, "model_dump"):
        return ", ".join(f"{k}={v}" for k, v in arg.model_dump(by_alias=True, exclude_none=True).items())
    return str(arg)


def jsonable(arg: Any) -> Any:
    return (
        arg.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
        if hasattr(arg, "model_dump")
        else arg
    )


def _target_words(arg: Any) -> str:
    """The element a step looks for, as its failures name it: 'text' or {role=button name=OK}."""
    target = getattr(arg, "for_", None) or getattr(arg, "click", None) or getattr(arg, "from_", None) or arg
    if isinstance(target, str):
        return f"'{target}'"
    return f"{{{target.describe()}}}" if isinstance(target, M.Target) else describe(target)


def timeout_message(model: M.StepBase, timeout_ms: float) -> str:
    """A timed-out step in the words click's and see's failures use, not Playwright's locator dump."""
    after = f"{round(timeout_ms / 1000, 1):g}s"
    arg = model.arg
    if model.ACTION == "goto":
        return f"the page {arg} did not finish loading within {after}"
    if model.ACTION == "request":
        return f"{arg.method} {arg.url} did not answer within {after}"
    return f"no element {_target_words(arg)} ready to {_READY_TO.get(model.ACTION, model.ACTION)} on the page after {after}"


def ambiguous_message(model: M.StepBase, raw: str) -> str:
    """Playwright refuses to act on a target that matches several elements; say so, and what to add."""
    found = re.search(r"resolved to (\d+) elements", raw)
    n = found.group(1) if found else "several"
    return (
        f"{_target_words(model.arg)} matches {n} elements on the page; "
        "add `exact: true` or `nth: 0` (the first), or scope the step with `within:`"
    )
