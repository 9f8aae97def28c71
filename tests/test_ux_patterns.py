"""The page patterns (data/ux_patterns.json) a receipt is recognised by, on sites that are not our portals:
their own reference and date formats, not only the Migu ones. Python's `re` reads these patterns as the
probe's RegExp does (friction.PROBE_JS: a reference case-sensitively, a date-time case-insensitively)."""

from __future__ import annotations

import re

import pytest

from tuiding.friction import default_patterns


def _found(kind: str, text: str) -> str | None:
    for pattern in default_patterns()[kind]:
        m = re.search(pattern, text, re.I if kind == "datetime" else 0)
        if m:
            return m.group(0)
    return None


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("退订凭证 MG20261120381714", "MG20261120381714"),
        ("Reference CX-20261206-1234", "CX-20261206"),
        ("Order ISO-9001 and COVID-19 and ticket AB-1234567", None),  # too few digits for a receipt number
        ("account no-20261206", None),  # lower-case words before digits are not a receipt number
    ],
)
def test_a_receipt_number_with_or_without_a_hyphen(text: str, reference: str | None) -> None:
    assert _found("reference", text) == reference


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06 16:30",
        "12/6/2026, 4:30",
        "6 December 2026 16:30",
        "6 Dec. 2026, at 16:30",
        "December 6, 2026 at 4:30 PM",
        "6. Dezember 2026, 16:30",
        "6. März 2026 um 16:30",
        "2026年12月6日 16:30",
    ],
)
def test_a_date_and_time_in_the_forms_sites_write_them(text: str) -> None:
    assert _found("datetime", text)


def test_a_date_without_a_time_is_not_a_receipt_s_moment() -> None:
    assert _found("datetime", "Your plan renews on 6 December 2026.") is None
