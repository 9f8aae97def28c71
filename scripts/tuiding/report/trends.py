"""trends.html and trends.json of `tuiding history` (history.py): each journey's friction release by release,
as charts (pygal, inline SVG: the page stays self-contained and needs no script) and a table marking what got worse."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

from ..history import TRACKED, Journey
from ..i18n import gettext_for
from .compare import METRIC_WORDS
from .env import environment, fonts_for

COUNTS = ("clicks", "pages", "verifications", "retention_pages", "preticked", "a11y", "visual_changed")
COLOURS = ("#3538cd", "#12b76a", "#f79009", "#d92d20", "#7a5af8", "#0e9384", "#5d6570")


def _chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], lang: str, colours: Sequence[str]) -> str:
    style = Style(
        font_family=fonts_for(lang), background="white", plot_background="white", colors=tuple(colours),
        label_font_size=12, major_label_font_size=12, legend_font_size=12, title_font_size=14,
    )  # fmt: skip
    chart = pygal.Line(
        width=760, height=300, js=[], style=style, title=title, x_label_rotation=20 if len(labels) > 6 else 0,
        legend_at_bottom=True, legend_at_bottom_columns=4, show_minor_x_labels=True, dots_size=3,
        min_scale=1, max_scale=6, print_values=False, disable_xml_declaration=True,
    )  # fmt: skip
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    # pygal always writes a <script> setting the config of its tooltip script, which is not included (js=[]):
    # left out, so the page runs nothing.
    return re.sub(r"<script\b[^>]*>.*?</script>", "", str(chart.render(is_unicode=True)), flags=re.S)


def charts(journey: Journey, lang: str) -> list[str]:
    """Two charts: the counts (which move together and small), and the seconds (their own scale)."""
    _ = gettext_for(lang)
    labels = [p.label for p in journey.points]
    counts = [(_(METRIC_WORDS[k]), [p.values[k] for p in journey.points]) for k in COUNTS]
    seconds = [(_(METRIC_WORDS["active_s"]), [p.values["active_s"] for p in journey.points])]
    return [
        _chart(_("Friction per release"), labels, counts, lang, COLOURS),
        _chart(_("Active seconds per release"), labels, seconds, lang, ("#3538cd",)),
    ]


def data(journeys: list[Journey]) -> dict[str, Any]:
    """trends.json: the same points, for dashboards."""
    return {
        "tracked": list(TRACKED),
        "journeys": [
            {"name": j.name, "file": j.file, "row": j.row, "points": [
                {"label": p.label, "run_dir": str(p.run_dir), "started_at": p.started_at, "status": p.status,
                 "receipt": p.receipt, **p.values, "worse": p.worse_than(j.points[i - 1] if i else None)}
                for i, p in enumerate(j.points)
            ]}
            for j in journeys
        ],
    }  # fmt: skip


def render(journeys: list[Journey], lang: str, unverified: Sequence[str] = ()) -> tuple[str, str]:
    """(trends.html, trends.json)."""
    views = [
        {"journey": j, "charts": charts(j, lang),
         "worse": [p.worse_than(j.points[i - 1] if i else None) for i, p in enumerate(j.points)]}
        for j in journeys
    ]  # fmt: skip
    page = (
        environment(lang)
        .get_template("trends.html")
        .render(views=views, tracked=TRACKED, words=METRIC_WORDS, unverified=list(unverified))
    )
    return page, json.dumps(data(journeys), ensure_ascii=False, indent=1) + "\n"
