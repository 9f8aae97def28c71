"""Load scenario and flow files into typed models, reporting every problem as file:line:col.

YAML (source.py, with positions) → pydantic (model.py, one discriminated union of steps) →
the checks types cannot express (variables, flows, matrix rows). Every message is ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import model as M
from .problems import Problem, display_path, problems_from, type_name
from .source import Document, SourceError
from .source import load as load_source
from .variables import RefError, refs_in

FLOW_DIR_NAME = "flows"


PASSWORD_LABEL = re.compile(r"密码|口令|password|passcode", re.IGNORECASE)  # labels of fields whose value is a secret


class ScenarioInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    """One step as validated (variables not yet substituted), where it was written, and its flow for `run:`."""

    model: M.StepBase
    raw: dict[str, Any]  # the mapping as written: substituted and re-validated at run time
    file: Path
    line: int
    col: int
    flow: Flow | None = None

    @property
    def action(self) -> str:
        return self.model.ACTION

    @property
    def where(self) -> str:
        return f"{display_path(self.file)}:{self.line}"


@dataclass(frozen=True)
class Flow:
    file: Path
    name: str | None
    vars: dict[str, Any]
    secrets: tuple[str, ...]
    steps: tuple[Step, ...]
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Scenario:
    file: Path
    header: M.ScenarioFile
    steps: tuple[Step, ...]
    vars: dict[str, Any]
    name: str
    row: str | None = None  # the matrix row this copy runs
    warnings: tuple[Problem, ...] = ()  # validate's warnings (its flows' included)

    # Header values the runner reads often.
    @property
    def description(self) -> str | None:
        return self.header.description

    @property
    def portal(self) -> str | None:
        return self.header.portal

    @property
    def base_url(self) -> str | None:
        return self.header.base_url

    @property
    def device(self) -> str | None:
        return self.header.device

    @property
    def locale(self) -> str:
        return self.header.locale

    @property
    def timezone(self) -> str:
        return self.header.timezone

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.header.tags)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self.header.secrets)

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(self.header.permissions)

    @property
    def budget(self) -> M.Budget | None:
        return self.header.budget

    @property
    def matrix(self) -> list[dict[str, Any]]:
        return list(self.header.matrix or [])

    @property
    def slug(self) -> str:
        return slugify(self.file.stem + (f"-{self.row}" if self.row else ""))

    @property
    def step_count(self) -> int:
        return sum(1 for _ in iter_leaf_steps(self.steps))


def iter_leaf_steps(steps: Iterable[Step]) -> Iterable[Step]:
    for s in steps:
        if s.flow is not None:
            yield from iter_leaf_steps(s.flow.steps)
        else:
            yield s


def slugify(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-")
    return s[:80] or "step"


# ---------------------------------------------------------------- loading


# A flow is read and validated once per process, however many scenarios run it (and `validate` lists it
# too). Keyed by the file's stat, so an edited file is read again; the models are frozen, the YAML data is
# only ever read, so sharing them is safe.
_DOCUMENTS: dict[tuple[Any, ...], tuple[tuple[Document, Any] | None, tuple[Problem, ...]]] = {}

_DOCUMENTS_MAX = 512


def _document_key(file: Path, adapter: Any, portals: tuple[str, ...] | None) -> tuple[Any, ...] | None:
    try:
        st = file.stat()
    except OSError:
        return None  # reading it will say what is wrong
    return (file, st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns, id(adapter), portals)


@dataclass
class _Loader:
    portals: tuple[str, ...] | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def warn(self, doc: Document, path: tuple[Any, ...], message: str) -> None:
        pos = doc.pos(path)
        self.warnings.append(Problem(doc.file, pos.line, pos.col, message, warning=True))

    def check_authoring(self, doc: Document, path: tuple[Any, ...], model: M.StepBase, raw: dict[str, Any]) -> None:
        """What validates but is probably not what the author meant."""
        value = raw.get(model.ACTION)
        pos = doc.pos((*path, model.ACTION))
        line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
        rest = line[pos.col - 1 :]
        if isinstance(value, str) and rest[:1] not in ("'", '"') and " #" in rest:
            comment = rest[rest.index(" #") + 1 :].strip()
            self.warn(
                doc,
                (*path, model.ACTION),
                f"'{comment}' is a YAML comment, so the value is '{value}'; quote the whole text to include it",
            )
        if isinstance(model, M.Fill) and isinstance(value, dict):
            for label, typed in value.items():
                if PASSWORD_LABEL.search(str(label)) and isinstance(typed, str) and "${" not in typed:
                    self.warn(
                        doc,
                        (*path, model.ACTION, label),
                        "a password typed as a literal would be kept in clear; put it in vars and list it under secrets "
                        "(it is masked anyway)",
                    )

    def problem(self, doc: Document, path: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        pos = doc.pos(path, key=key)
        self.problems.append(Problem(doc.file, pos.line, pos.col, message))

    def document(self, file: Path, adapter: Any) -> tuple[Document, Any] | None:
        """The file's YAML and validated model, or None (problems recorded)."""
        key = _document_key(file, adapter, self.portals)
        cached = _DOCUMENTS.get(key) if key is not None else None
        if cached is None:
            cached = self._document(file, adapter)
            if key is not None:
                if len(_DOCUMENTS) >= _DOCUMENTS_MAX:
                    _DOCUMENTS.pop(next(iter(_DOCUMENTS)))
                _DOCUMENTS[key] = cached
        found, problems = cached
        self.problems += problems
        return found

    def _document(self, file: Path, adapter: Any) -> tuple[tuple[Document, Any] | None, tuple[Problem, ...]]:
        try:
            doc = load_source(file)
        except SourceError as exc:
            return None, (Problem(exc.file, exc.pos.line, exc.pos.col, exc.message),)
        if not isinstance(doc.data, dict):
            pos = doc.pos(())
            message = f"expected a mapping with 'name' and 'steps' at the top, got {type_name(doc.data)}"
            return None, (Problem(doc.file, pos.line, pos.col, message),)
        try:
            return (doc, adapter.validate_python(doc.data, context={"portals": self.portals} if self.portals else None)), ()
        except ValidationError as exc:
            return None, tuple(problems_from(exc, doc))

    def check_vars_block(self, doc: Document, vars_: dict[str, Any]) -> None:
        for name, value in vars_.items():
            if not M.VAR_NAME.match(name):
                self.problem(doc, ("vars", name), f"'{name}' is not a valid variable name (letters, digits, _)", key=True)
            try:
                for ref in refs_in(value):
                    if ref.kind == "var":
                        self.problem(
                            doc,
                            ("vars", name),
                            f"vars may use ${{env:…}}, ${{now:…}} and ${{run.id}}, not other variables ('${{{ref.raw}}}')",
                        )
            except RefError as exc:
                self.problem(doc, ("vars", name), str(exc))

    def check_secrets(self, doc: Document, secrets: list[str], known: Iterable[str]) -> None:
        """`secrets:` names variables: from vars, a matrix row, or saved by a step (masked once saved)."""
        names = list(known)
        for i, s in enumerate(secrets):
            if s not in names:
                self.problem(doc, ("secrets", i), f"secret '{s}' is neither in vars nor saved by a step{M.hint(s, names)}")

    def check_refs(self, doc: Document, value: Any, path: tuple[Any, ...], known: set[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self.check_refs(doc, v, (*path, k), known)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_refs(doc, v, (*path, i), known)
        elif isinstance(value, str):
            try:
                refs = refs_in(value)
            except RefError as exc:
                self.problem(doc, path, str(exc))
                return
            for ref in refs:
                if ref.kind == "var" and ref.name not in known:
                    h = M.hint(ref.name, sorted(known))
                    self.problem(
                        doc,
                        path,
                        f"unknown variable '${{{ref.name}}}'" + (h or " (define it under vars, or save it in an earlier step)"),
                    )

    def steps(self, doc: Document, models: list[M.StepBase], known: set[str], stack: tuple[Path, ...]) -> list[Step]:
        out: list[Step] = []
        for i, model in enumerate(models):
            path = ("steps", i)
            raw: dict[str, Any] = doc.data["steps"][i]
            self.check_refs(doc, {k: v for k, v in raw.items() if k != "vars"}, path, known)
            self.check_authoring(doc, path, model, raw)
            pos = doc.pos((*path, model.ACTION), key=True)
            flow = None
            if isinstance(model, M.Run):
                flow = self.flow_call(doc, path, model, known, stack)
                if flow is None:
                    continue
            known.update(saved_names(model))
            out.append(Step(model, raw, doc.file, pos.line, pos.col, flow))
        return out

    def flow_call(
        self, doc: Document, path: tuple[Any, ...], step: M.Run, known: set[str], stack: tuple[Path, ...]
    ) -> Flow | None:
        target = (doc.file.parent / step.run).resolve()
        if target in stack:
            chain = " → ".join(p.name for p in (*stack[stack.index(target) :], target))
            self.problem(doc, (*path, "run"), f"flow includes itself ({chain})")
            return None
        if not target.is_file():
            self.problem(doc, (*path, "run"), f"flow file not found: {step.run} (looked for {display_path(target)})")
            return None
        call_vars = step.vars or {}
        self.check_refs(doc, call_vars, (*path, "vars"), known)
        flow = self.flow(target, (*stack, target), known)
        if flow is None:
            return None
        unknown = [k for k in call_vars if k not in flow.vars]
        for k in unknown:
            self.problem(
                doc,
                (*path, "vars", k),
                f"flow {target.name} has no variable '{k}'"
                + (M.hint(k, list(flow.vars)) or f" (it takes: {', '.join(flow.vars) or 'none'})"),
                key=True,
            )
        for k, default in flow.vars.items():
            if default is None and k not in call_vars and not unknown:  # a misspelt name is the one problem
                self.problem(doc, (*path, "run"), f"flow {target.name} needs a value for '{k}' (pass it under vars)")
        return flow

    def flow(self, file: Path, stack: tuple[Path, ...], known: set[str]) -> Flow | None:
        loaded = self.document(file, M.FLOW_ADAPTER)
        if loaded is None:
            return None
        doc, header = loaded
        self.check_vars_block(doc, header.vars)
        # A flow sees its own variables plus everything saved earlier in the run; what it saves is seen after it.
        scope = set(header.vars) | known
        steps = self.steps(doc, header.steps, scope, stack)
        self.check_secrets(doc, header.secrets, scope)
        known |= scope - set(header.vars)
        return Flow(file, header.name, dict(header.vars), tuple(header.secrets), tuple(steps))

    def scenario(self, file: Path) -> Scenario | None:
        loaded = self.document(file, M.SCENARIO_ADAPTER)
        if loaded is None:
            return None
        doc, h = loaded
        row_keys = self.check_matrix(doc, h.matrix or [], h.secrets)
        self.check_vars_block(doc, {**h.vars, **dict.fromkeys(row_keys, "")})
        for key in ("base_url", "name", "description"):
            self.check_refs(doc, getattr(h, key), (key,), set(row_keys))
        known = set(h.vars) | set(row_keys)
        steps = self.steps(doc, h.steps, known, (file.resolve(),))
        self.check_secrets(doc, h.secrets, [*h.vars, *row_keys, *sorted(known - set(h.vars) - set(row_keys))])
        self.check_packs(doc, h)
        for i, folder in enumerate(h.allow_files):
            if not (doc.file.parent / folder).is_dir():
                self.problem(doc, ("allow_files", i), f"allow_files: {folder} is not a folder next to this scenario")
        return Scenario(file, h, tuple(steps), dict(h.vars), h.name)

    def check_packs(self, doc: Document, h: M.ScenarioFile) -> None:
        """The rule packs `check:` and `service.jurisdictions` name exist and load (a pack of one's own is checked
        line by line, in its own file)."""
        at = ("check", "rules") if isinstance(h.check, M.CheckOptions) else ("check",)
        named = [((*at, i), ref) for i, ref in enumerate(h.check_rules())]
        if h.service is not None:
            named += [(("service", "jurisdictions", i), ref) for i, ref in enumerate(h.service.jurisdictions)]
        if not named:
            return
        from .rules import RulePackInvalid, load_pack, pack_path, shipped, unknown_pack  # only when packs are named

        for path, ref in named:
            if ref not in shipped() and not ref.endswith((".yaml", ".yml")):
                self.problem(doc, path, unknown_pack(ref))
                continue
            target = pack_path(ref, doc.file.parent)
            if ref not in shipped() and not target.exists():
                self.problem(doc, path, f"rule pack file not found: {ref} (looked for {display_path(target)})")
                continue
            try:
                load_pack(ref, doc.file.parent)
            except RulePackInvalid as exc:
                self.problems += [p for p in exc.problems if isinstance(p, Problem)]

    def check_matrix(self, doc: Document, rows: list[dict[str, Any]], secrets: Iterable[str] = ()) -> list[str]:
        """Every row has the same keys (besides 'id'); ids are unique. Returns the variable names rows define."""
        if not rows:
            return []
        keys = [k for k in rows[0] if k != "id"]
        seen: set[str] = set()
        for i, row in enumerate(rows):
            extra = [k for k in row if k != "id" and k not in keys]
            for k in extra:
                self.problem(
                    doc, ("matrix", i, k), f"matrix row {i + 1} has '{k}' but the first row does not{M.hint(k, keys)}", key=True
                )
            for k in keys:
                if k not in row and not extra:  # a misspelt key is the one problem
                    self.problem(doc, ("matrix", i), f"matrix row {i + 1} is missing '{k}' (every row needs: {', '.join(keys)})")
            rid = row_id(row, i, secrets)
            if rid in seen:
                self.problem(doc, ("matrix", i), f"matrix row {i + 1}: duplicate id '{rid}'")
            seen.add(rid)
        return keys


def row_id(row: dict[str, Any], index: int, secrets: Iterable[str] = ()) -> str:
    """The row's `id`, or its values joined — never a secret's value, which would end up in folder names,
    titles, JUnit and the console (a row of nothing but secrets is `row<n>`)."""
    if row.get("id") not in (None, ""):
        return str(row["id"])
    hidden = set(secrets)
    return "-".join(str(v) for k, v in row.items() if k != "id" and k not in hidden) or f"row{index + 1}"


def expand(scenario: Scenario) -> list[Scenario]:
    """One scenario per matrix row (row values override `vars`), or the scenario itself."""
    if not scenario.matrix:
        return [scenario]
    out = []
    for i, row in enumerate(scenario.matrix):
        rid = row_id(row, i, scenario.header.secrets)
        values = {k: v for k, v in row.items() if k != "id"}
        out.append(replace(scenario, name=f"{scenario.name} [{rid}]", vars={**scenario.vars, **values}, row=rid))
    return out


def saved_names(step: M.StepBase) -> list[str]:
    if isinstance(step, M.Save):
        return [step.save.var]
    if isinstance(step, M.Request) and step.request.save:
        return list(step.request.save)
    if isinstance(step, M.Email) and step.email.save:
        return list(step.email.save)
    return []


def load_scenario(file: Path | str, *, portals: Iterable[str] | None = None) -> Scenario:
    """Load and validate one scenario file; raises ScenarioInvalid listing every problem.

    `portals`: the portal names `portal:` may use (default: the installed ones)."""
    loader = _Loader(tuple(portals) if portals is not None else None)
    sc = loader.scenario(Path(file))
    if loader.problems or sc is None:
        raise ScenarioInvalid(loader.problems)
    return replace(sc, warnings=tuple(dict.fromkeys(loader.warnings)))


def load_flow(file: Path | str) -> Flow:
    loader = _Loader()
    path = Path(file)
    flow = loader.flow(path, (path.resolve(),), set())
    if loader.problems or flow is None:
        raise ScenarioInvalid(loader.problems)
    return replace(flow, warnings=tuple(dict.fromkeys(loader.warnings)))


def is_flow_file(path: Path) -> bool:
    return FLOW_DIR_NAME in path.parts[:-1]


def discover(paths: Iterable[Path | str], *, include_flows: bool = False) -> list[Path]:
    """Scenario files in the given files/folders (recursive), sorted; flows/ folders skipped unless asked."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            # Everything named *.yaml is listed — folders, broken links and pipes too — so loading says
            # what is wrong with each instead of skipping it silently.
            for f in sorted(list(p.rglob("*.yaml")) + list(p.rglob("*.yml"))):
                if include_flows or not is_flow_file(f.relative_to(p)):
                    found.append(f)
        else:
            found.append(p)
    return found
