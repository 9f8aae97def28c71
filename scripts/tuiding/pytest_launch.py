"""Override of pytest-playwright's `browser_type_launch_args`: our browser discovery and Chromium flags.

Registered by pytest_plugin.pytest_configure, i.e. after every entry-point plugin, so it wins.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, browser_name: str) -> dict:
    from .browser import find_browser, launch_options

    if browser_name != "chromium" or "channel" in browser_type_launch_args or "executable_path" in browser_type_launch_args:
        return browser_type_launch_args
    ours = launch_options(find_browser(), headed=not browser_type_launch_args.get("headless", True))
    merged = {**ours, **browser_type_launch_args}
    merged["args"] = ours["args"] + list(browser_type_launch_args.get("args", []))
    return merged
