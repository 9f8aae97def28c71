"""Accessibility audits with axe-core (shipped by the axe-playwright-python package), recorded per step."""

from __future__ import annotations

from typing import Any

from .record import A11yViolation

# WCAG 2.2 target size (24×24 CSS px) is off by default in axe; a cancellation flow is tapped on phones.
AXE_OPTIONS: dict[str, Any] = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}


def _axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return str(AXE_SCRIPT)


def audit(page: Any) -> list[A11yViolation]:
    """axe-core's violations on the page as it is now (axe is injected once per document)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_script())
    result = page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)
    return [
        A11yViolation(
            rule=v["id"],
            impact=v.get("impact"),
            help=v.get("help", ""),
            help_url=v.get("helpUrl", ""),
            targets=[" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])][:20],
        )
        for v in result.get("violations", [])
    ]


def serious(violations: list[A11yViolation] | None) -> list[A11yViolation]:
    return [v for v in violations or [] if v.impact in ("serious", "critical")]
