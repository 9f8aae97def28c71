"""Load scenario and flow files into a typed model, reporting every problem as file:line:col."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from . import args as A
from .source import Document, SourceError, load as load_source
from .steps import ACTIONS
from .variables import RefError, refs_in

COMMON_KEYS = tuple(f.alias or n for n, f in A.StepOptions.model_fields.items())
FLOW_DIR_NAME = "flows"


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}:{self.col}: {self.message}"


class ScenarioInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    action: str
    raw: Any                       # the argument as written (variables not yet substituted)
    options: A.StepOptions
    file: Path
    line: int
    col: int
    flow: "Flow | None" = None     # for `run:`

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


@dataclass(frozen=True)
class Scenario:
    file: Path
    name: str
    description: str | None
    portal: str | None
    base_url: str | None
    device: str | None
    locale: str
    timezone: str
    permissions: tuple[str, ...]
    tags: tuple[str, ...]
    vars: dict[str, Any]
    secrets: tuple[str, ...]
    budget: A.Budget | None
    steps: tuple[Step, ...]
    matrix: tuple[dict[str, Any], ...] = ()
    variant: str | None = None          # the matrix row this copy runs

    @property
    def slug(self) -> str:
        return slugify(self.file.stem + (f"-{self.variant}" if self.variant else ""))

    @property
    def step_count(self) -> int:
        return sum(1 for _ in iter_leaf_steps(self.steps))


def iter_leaf_steps(steps: Iterable[Step]) -> Iterable[Step]:
    for s in steps:
        if s.flow is not None:
            yield from iter_leaf_steps(s.flow.steps)
        else:
            yield s


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (shorter, and the same on every machine)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def slugify(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-")
    return s[:80] or "step"


@lru_cache(maxsize=1)
def device_names() -> tuple[str, ...]:
    """Playwright's device names, read from its bundled type declarations (no browser, no driver process)."""
    import playwright
    types = Path(playwright.__file__).parent / "driver" / "package" / "types" / "types.d.ts"
    try:
        text = types.read_text(encoding="utf-8")
    except OSError:
        return ()
    return tuple(re.findall(r'^\s*"([^"]+)": DeviceDescriptor;', text, re.M))


def _portals() -> tuple[str, ...]:
    from mock_portals.registry import PORTALS
    return PORTALS


# ---------------------------------------------------------------- pydantic errors → problems

def _type_name(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number",
            float: "a number", type(None): "nothing (null)"}.get(type(v), type(v).__name__)


def _problems_from(exc: ValidationError, doc: Document, base: tuple) -> list[Problem]:
    out: dict[tuple, Problem] = {}
    for err in exc.errors():
        path, node = list(base), _at(doc.data, base)
        loc = list(err["loc"])
        for i, part in enumerate(loc):
            inside = (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
            if inside:
                path.append(part)
                node = node[part]
            elif i == len(loc) - 1 and err["type"] == "missing":
                pass
            # else: a union tag ('map', 'str', …) or a model name: not part of the data
        t = err["type"]
        key_pos = False
        if t == "unknown_key":
            path.append(err["ctx"]["key"])
            key_pos, msg = True, err["msg"]
        elif t == "missing":
            msg = f"missing required key '{loc[-1]}'"
        elif t == "literal_error":
            expected = re.findall(r"'([^']*)'", err["ctx"]["expected"])
            hint = A.closest(str(err["input"]), expected)
            msg = f"expected one of {', '.join(expected)}, got '{err['input']}'" + (f"; did you mean '{hint}'?" if hint else "")
        elif t in ("too_short",) and isinstance(err["input"], list):
            msg = "expected a non-empty list"
        elif t.endswith("_type") or t in ("model_attributes_type", "dict_type", "model_type"):
            msg = f"{err['msg'].replace('Input should be', 'expected')}, got {_type_name(err['input'])}"
            if err["input"] is None and _in_flow_mapping(doc, tuple(path)):
                msg += " (a ',' inside {…} separates keys: quote text that contains commas)"
        else:
            msg = err["msg"].replace("Value error, ", "").replace("Input should be", "expected")
            if path and isinstance(path[-1], str) and path[-1] not in msg:
                msg = f"{path[-1]}: {msg}"
        pos = doc.pos(tuple(path), key=key_pos)
        out.setdefault((pos.line, pos.col), Problem(doc.file, pos.line, pos.col, msg))
    return list(out.values())


def _in_flow_mapping(doc: Document, path: tuple) -> bool:
    pos = doc.pos(path)
    line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
    return "{" in line[:pos.col]


def _at(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


# ---------------------------------------------------------------- loading

@dataclass
class _Loader:
    problems: list[Problem] = field(default_factory=list)

    def problem(self, doc: Document, path: tuple, message: str, *, key: bool = False) -> None:
        pos = doc.pos(path, key=key)
        self.problems.append(Problem(doc.file, pos.line, pos.col, message))

    def header(self, doc: Document, model: type[BaseModel]) -> BaseModel | None:
        if not isinstance(doc.data, dict):
            self.problem(doc, (), f"expected a mapping with 'name' and 'steps' at the top, got {_type_name(doc.data)}")
            return None
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            self.problems += _problems_from(exc, doc, ())
            return None

    def check_vars_block(self, doc: Document, vars_: dict[str, Any], secrets: list[str]) -> None:
        for name, value in vars_.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                self.problem(doc, ("vars", name), f"'{name}' is not a valid variable name (letters, digits, _)", key=True)
            try:
                for ref in refs_in(value):
                    if ref.kind == "var":
                        self.problem(doc, ("vars", name), f"vars may use ${{env:…}}, ${{now:…}} and ${{run.id}}, not other variables ('${{{ref.raw}}}')")
            except RefError as exc:
                self.problem(doc, ("vars", name), str(exc))
        for i, s in enumerate(secrets):
            if s not in vars_:
                hint = A.closest(s, list(vars_))
                self.problem(doc, ("secrets", i), f"secret '{s}' is not a variable in vars" + (f"; did you mean '{hint}'?" if hint else ""))

    def check_refs(self, doc: Document, value: Any, path: tuple, known: set[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self.check_refs(doc, v, path + (k,), known)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_refs(doc, v, path + (i,), known)
        elif isinstance(value, str):
            try:
                refs = refs_in(value)
            except RefError as exc:
                self.problem(doc, path, str(exc))
                return
            for ref in refs:
                if ref.kind == "var" and ref.name not in known:
                    hint = A.closest(ref.name, sorted(known))
                    self.problem(doc, path, f"unknown variable '${{{ref.name}}}'" + (f"; did you mean '{hint}'?" if hint else " (define it under vars, or save it in an earlier step)"))

    def steps(self, doc: Document, raw_steps: list[Any], known: set[str], stack: tuple[Path, ...]) -> list[Step]:
        out: list[Step] = []
        for i, raw in enumerate(raw_steps):
            path = ("steps", i)
            if not isinstance(raw, dict):
                hint = A.closest(str(raw), list(ACTIONS)) if isinstance(raw, str) else None
                self.problem(doc, path, f"expected a step mapping like '- click: 登录', got {_type_name(raw)}" + (f"; did you mean '{hint}: …'?" if hint else ""))
                continue
            actions = [k for k in raw if k in ACTIONS]
            unknown = [k for k in raw if k not in ACTIONS and k not in COMMON_KEYS]
            for k in unknown:
                hint = A.closest(k, list(ACTIONS) + list(COMMON_KEYS))
                self.problem(doc, path + (k,), f"unknown action or key '{k}'" + (f"; did you mean '{hint}'?" if hint else f" (actions: {', '.join(ACTIONS)})"), key=True)
            if not actions:
                if not unknown:
                    self.problem(doc, path, f"step has no action (expected one of: {', '.join(ACTIONS)})")
                continue
            if len(actions) > 1:
                self.problem(doc, path + (actions[1],), f"a step takes one action, got '{actions[0]}' and '{actions[1]}': put each in its own step", key=True)
                continue
            name = actions[0]
            opts_raw = {k: v for k, v in raw.items() if k in COMMON_KEYS}
            try:
                options = A.StepOptions.model_validate(opts_raw)
            except ValidationError as exc:
                self.problems += _problems_from(exc, doc, path)
                continue
            if options.vars is not None and name != "run":
                self.problem(doc, path + ("vars",), "'vars' goes with 'run:' (values for a flow's variables)", key=True)
            try:
                ACTIONS[name].adapter.validate_python(raw[name])
            except ValidationError as exc:
                self.problems += _problems_from(exc, doc, path + (name,))
                continue
            self.check_refs(doc, {k: v for k, v in raw.items() if k != "vars"}, path, known)
            pos = doc.pos(path + (name,), key=True)
            flow = None
            if name == "run":
                flow = self.flow_call(doc, path, raw, options, known, stack)
                if flow is None:
                    continue
            for var in _saved_names(name, raw[name]):
                known.add(var)
            out.append(Step(name, raw[name], options, doc.file, pos.line, pos.col, flow))
        return out

    def flow_call(self, doc: Document, path: tuple, raw: dict, options: A.StepOptions, known: set[str], stack: tuple[Path, ...]) -> Flow | None:
        target = (doc.file.parent / str(raw["run"])).resolve()
        if target in stack:
            chain = " → ".join(p.name for p in stack[stack.index(target):] + (target,))
            self.problem(doc, path + ("run",), f"flow includes itself ({chain})")
            return None
        if not target.is_file():
            self.problem(doc, path + ("run",), f"flow file not found: {raw['run']} (looked for {display_path(target)})")
            return None
        call_vars = options.vars or {}
        self.check_refs(doc, call_vars, path + ("vars",), known)
        flow = self.flow(target, stack + (target,), known)
        if flow is None:
            return None
        unknown = [k for k in call_vars if k not in flow.vars]
        for k in unknown:
            hint = A.closest(k, list(flow.vars))
            self.problem(doc, path + ("vars", k), f"flow {target.name} has no variable '{k}'" + (f"; did you mean '{hint}'?" if hint else f" (it takes: {', '.join(flow.vars) or 'none'})"), key=True)
        for k, default in flow.vars.items():
            if default is None and k not in call_vars and not unknown:  # a misspelt name is the one problem
                self.problem(doc, path + ("run",), f"flow {target.name} needs a value for '{k}' (pass it under vars)")
        return flow

    def document(self, file: Path, model: type[BaseModel]) -> tuple[Document, Any] | None:
        """The file's YAML and validated top-level keys, or None (problems recorded)."""
        try:
            doc = load_source(file)
        except SourceError as exc:
            self.problems.append(Problem(exc.file, exc.pos.line, exc.pos.col, exc.message))
            return None
        header = self.header(doc, model)
        return None if header is None else (doc, header)

    def flow(self, file: Path, stack: tuple[Path, ...], known: set[str]) -> Flow | None:
        loaded = self.document(file, A.FlowHeader)
        if loaded is None:
            return None
        doc, header = loaded
        self.check_vars_block(doc, header.vars, header.secrets)
        # A flow sees its own variables plus everything saved earlier in the run; what it saves is seen after it.
        scope = set(header.vars) | known
        steps = self.steps(doc, doc.data["steps"], scope, stack)
        known |= scope - set(header.vars)
        return Flow(file, header.name, dict(header.vars), tuple(header.secrets), tuple(steps))

    def scenario(self, file: Path) -> Scenario | None:
        loaded = self.document(file, A.Header)
        if loaded is None:
            return None
        doc, h = loaded
        if h.portal is not None and h.portal not in _portals():
            hint = A.closest(h.portal, _portals())
            self.problem(doc, ("portal",), f"unknown portal '{h.portal}' (expected one of: {', '.join(_portals())})" + (f"; did you mean '{hint}'?" if hint else ""))
        if h.device is not None and device_names() and h.device not in device_names():
            hint = A.closest(h.device, device_names())
            self.problem(doc, ("device",), f"unknown device '{h.device}'" + (f"; did you mean '{hint}'?" if hint else " (see Playwright's device list)"))
        row_keys = self.check_matrix(doc, h.matrix or [])
        self.check_vars_block(doc, {**h.vars, **{k: "" for k in row_keys}}, h.secrets)
        for key in ("base_url", "name", "description"):
            self.check_refs(doc, getattr(h, key), (key,), set(row_keys))
        steps = self.steps(doc, doc.data["steps"], set(h.vars) | set(row_keys), (file.resolve(),))
        return Scenario(file, h.name, h.description, h.portal, h.base_url, h.device, h.locale, h.timezone,
                        tuple(h.permissions), tuple(h.tags), dict(h.vars), tuple(h.secrets), h.budget, tuple(steps), tuple(h.matrix or ()))

    def check_matrix(self, doc: Document, rows: list[dict[str, Any]]) -> list[str]:
        """Every row has the same keys (besides 'id'); ids are unique. Returns the variable names rows define."""
        if not rows:
            return []
        keys = [k for k in rows[0] if k != "id"]
        seen: set[str] = set()
        for i, row in enumerate(rows):
            extra = [k for k in row if k != "id" and k not in keys]
            for k in extra:
                hint = A.closest(k, keys)
                self.problem(doc, ("matrix", i, k), f"matrix row {i + 1} has '{k}' but the first row does not" + (f"; did you mean '{hint}'?" if hint else ""), key=True)
            for k in keys:
                if k not in row and not extra:  # a misspelt key is the one problem
                    self.problem(doc, ("matrix", i), f"matrix row {i + 1} is missing '{k}' (every row needs: {', '.join(keys)})")
            rid = row_id(row, i)
            if rid in seen:
                self.problem(doc, ("matrix", i), f"matrix row {i + 1}: duplicate id '{rid}'")
            seen.add(rid)
        return keys


def row_id(row: dict[str, Any], index: int) -> str:
    return str(row["id"]) if row.get("id") not in (None, "") else "-".join(str(v) for k, v in row.items() if k != "id") or f"row{index + 1}"


def expand(scenario: Scenario) -> list[Scenario]:
    """One scenario per matrix row (row values override `vars`), or the scenario itself."""
    if not scenario.matrix:
        return [scenario]
    out = []
    for i, row in enumerate(scenario.matrix):
        rid = row_id(row, i)
        values = {k: v for k, v in row.items() if k != "id"}
        out.append(replace(scenario, name=f"{scenario.name} [{rid}]", vars={**scenario.vars, **values}, variant=rid))
    return out


def _saved_names(action: str, arg: Any) -> list[str]:
    if action == "save" and isinstance(arg, dict) and isinstance(arg.get("var"), str):
        return [arg["var"]]
    if action == "request" and isinstance(arg, dict) and isinstance(arg.get("save"), dict):
        return [k for k in arg["save"] if isinstance(k, str)]
    return []


def load_scenario(file: Path | str) -> Scenario:
    """Load and validate one scenario file; raises ScenarioInvalid listing every problem."""
    loader = _Loader()
    sc = loader.scenario(Path(file))
    if loader.problems or sc is None:
        raise ScenarioInvalid(loader.problems)
    return sc


def load_flow(file: Path | str) -> Flow:
    loader = _Loader()
    path = Path(file)
    flow = loader.flow(path, (path.resolve(),), set())
    if loader.problems or flow is None:
        raise ScenarioInvalid(loader.problems)
    return flow


def is_flow_file(path: Path) -> bool:
    return FLOW_DIR_NAME in path.parts[:-1]


def discover(paths: Iterable[Path | str], *, include_flows: bool = False) -> list[Path]:
    """Scenario files in the given files/folders (recursive), sorted; flows/ folders skipped unless asked."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(list(p.rglob("*.yaml")) + list(p.rglob("*.yml"))):
                if include_flows or not is_flow_file(f.relative_to(p)):
                    found.append(f)
        else:
            found.append(p)
    return found
