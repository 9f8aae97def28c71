"""Guide manifests (guides/*.yaml): which scenarios, in which order, under which headings, with the
intro, before/after and FAQ text — `tuiding guide` runs them and writes one illustrated guide."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, TypeAdapter, ValidationError

from . import model as M
from .problems import Problem, problems_from
from .scenario import ScenarioInvalid
from .source import SourceError
from .source import load as load_source


class QA(M.Strict):
    q: str
    a: str


class GuidePart(M.Strict):
    """One heading of the guide: prose, a list, questions and answers, and/or a scenario's illustrated steps."""

    heading: str
    level: Literal[2, 3] = 2
    text: str | None = None
    bullets: list[str] = []
    faq: list[QA] = []
    scenario: str | None = Field(None, description="a scenario file, relative to the manifest; its run illustrates this part")
    row: str | None = Field(None, description="which matrix row of the scenario to run (its id)")
    sections: list[str] | None = Field(None, description="only these `section:` headings of the run (default: all of it)")
    video: bool = Field(False, description="record this part's run as a video walkthrough")


class GuideManifest(M.Strict):
    title: str
    subtitle: str | None = None
    intro: str | None = None
    lang: Literal["zh", "en", "de"] = "zh"
    formats: list[Literal["md", "html", "pdf", "video"]] = ["md", "html", "pdf"]
    parts: list[GuidePart] = Field(min_length=1)


ADAPTER: TypeAdapter[GuideManifest] = TypeAdapter(GuideManifest)


def load_guide(path: Path) -> GuideManifest:
    """The manifest, or ScenarioInvalid with file:line:col problems (the same messages as scenarios)."""
    try:
        doc = load_source(path)
    except SourceError as exc:
        raise ScenarioInvalid([Problem(exc.file, exc.pos.line, exc.pos.col, exc.message)]) from None
    try:
        guide = ADAPTER.validate_python(doc.data)
    except ValidationError as exc:
        raise ScenarioInvalid(problems_from(exc, doc)) from None
    problems = []
    for i, part in enumerate(guide.parts):
        if part.scenario and not (path.parent / part.scenario).is_file():
            pos = doc.pos(("parts", i, "scenario"))
            problems.append(Problem(path, pos.line, pos.col, f"scenario file not found: {part.scenario}"))
    if problems:
        raise ScenarioInvalid(problems)
    return guide
