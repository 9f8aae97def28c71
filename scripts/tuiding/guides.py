"""Guide manifests (guides/*.yaml): which scenarios, in which order, under which headings, with the
intro, before/after and FAQ text — `tuiding guide` runs them and writes one illustrated guide.

load_guide reads a manifest; plan_guide resolves its scenarios (each scenario, or matrix row, runs once however
many parts show it); run_guide runs them; assemble puts the parts together from the runs (report/guide.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from . import model as M
from .problems import Problem, problems_from
from .record import load_manifest
from .report.guide import Guide, Part, only_sections, part_from_run
from .scenario import Scenario, ScenarioInvalid, expand, load_scenario
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
    redact: list[M.TargetSpec] = Field(
        [], description="targets blacked out in every part's pictures and video, added to each scenario's own `redact:`"
    )
    personal_data: M.PersonalData | None = Field(
        None, description="replaces each scenario's `personal_data:` for this guide's runs, e.g. `{hide: false}`"
    )
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


class GuideError(ValueError):
    """A manifest names what is not there (a matrix row); one line."""


GuideKey = tuple[str, str | None]  # a scenario file (relative to here) and its matrix row


@dataclass
class GuidePlan:
    """What a guide needs run: each scenario (and matrix row) once, and which of them are recorded as video."""

    manifest: Path
    spec: GuideManifest
    scenarios: dict[GuideKey, Scenario] = field(default_factory=dict)
    video: set[GuideKey] = field(default_factory=set)

    def key_of(self, part: GuidePart) -> GuideKey:
        assert part.scenario is not None
        return (os.path.relpath((self.manifest.parent / part.scenario).resolve()), part.row)


def with_guide_policy(sc: Scenario, spec: GuideManifest) -> Scenario:
    """The scenario as this guide runs it: the guide's `redact:` added to its own, the guide's `personal_data:`."""
    update: dict[str, Any] = {}
    if spec.redact:
        update["redact"] = [*sc.header.redact, *(t for t in spec.redact if t not in sc.header.redact)]
    if spec.personal_data is not None:
        update["personal_data"] = spec.personal_data
    return replace(sc, header=sc.header.model_copy(update=update)) if update else sc


def plan_guide(manifest: Path, spec: GuideManifest, formats: tuple[str, ...]) -> GuidePlan:
    """ScenarioInvalid for a scenario that does not validate, GuideError for a matrix row it does not have."""
    plan = GuidePlan(manifest, spec)
    for part in spec.parts:
        if part.scenario:
            key = plan.key_of(part)
            variants = {s.row: s for s in expand(load_scenario(Path(key[0])))}
            if part.row not in variants:
                rows = ", ".join(map(str, variants))
                raise GuideError(
                    f"{manifest}: part '{part.heading}': {part.scenario} has no matrix row '{part.row}' (rows: {rows})"
                )
            plan.scenarios.setdefault(key, with_guide_policy(variants[part.row], spec))
            if part.video and "video" in formats:
                plan.video.add(key)
    return plan


def run_guide(plan: GuidePlan, session: Any, out_dir: Path, progress: Any, narrate: bool) -> tuple[dict[GuideKey, Path], bool]:
    """Run each scenario of the plan once: its run folder by key, and whether any of them failed."""
    from .options import RunOptions
    from .outputs import finish
    from .runner import run_scenario

    runs: dict[GuideKey, Path] = {}
    failed = False
    for n, (key, sc) in enumerate(plan.scenarios.items(), 1):
        video = key in plan.video
        opts = RunOptions(
            out_dir=out_dir, browser=session.description, baselines="off", walkthrough=("video",) if video else (),
            narrate=narrate and video,
        )  # fmt: skip
        session.ensure_connected()
        result = run_scenario(sc, session, opts, progress.scenario(sc, n, len(plan.scenarios)))
        finish(result.run_dir)
        runs[key] = result.run_dir
        failed = failed or not result.passed
    return runs, failed


def assemble(plan: GuidePlan, runs: dict[GuideKey, Path]) -> Guide:
    """The guide: each part's prose, and the steps of its run (or of some of its sections)."""
    spec = plan.spec
    parts: list[Part] = []
    for p in spec.parts:
        if p.scenario:
            run_dir = runs[plan.key_of(p)]
            built = part_from_run(run_dir, load_manifest(run_dir), spec.lang, p.heading, p.level)
            if p.sections is not None:
                built = only_sections(built, p.sections)
                built.before, built.after, built.description = [], [], None
        else:
            built = Part(p.heading, p.level)
        built.text, built.bullets, built.faq = p.text, list(p.bullets), [qa.model_dump() for qa in p.faq]
        built.want_video = p.video
        parts.append(built)
    dates = [load_manifest(d).started_at[:10] for d in runs.values()]
    return Guide(spec.title, parts, spec.lang, spec.subtitle, spec.intro, date=min(dates) if dates else "", runs=len(runs))
