"""Load scenario and flow files into typed models, reporting every problem as file:line:col.

YAML (source.py, with positions) → pydantic (model.py, one discriminated union of steps) →
the checks types cannot express (variables, flows, matrix rows). Every message is ours.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import model as M
from .source import Document, SourceError
from .source import load as load_source
from .variables import RefError, refs_in

FLOW_DIR_NAME = "flows"


PASSWORD_LABEL = re.compile(r"密码|口令|password|passcode", re.IGNORECASE)  # labels of fields whose value is a secret


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    col: int
    message: str
    warning: bool = False  # looks wrong but runs: printed, never fails validation

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{display_path(self.file)}:{self.line}:{self.col}: {kind}{self.message}"


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


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (shorter, and the same on every machine).
    Symbolic links are not followed: the path a user gave is the one they recognise."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(Path.cwd()))))
    except (ValueError, OSError):
        return str(path)


def slugify(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-")
    return s[:80] or "step"


# ---------------------------------------------------------------- pydantic errors → problems

TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "target_type": "a target (text, or a mapping like {role: button, name: Log in})",
    "fill_type": "{label: value, …} or {target…, value}",
    "wait_type": "a duration (2s), {for: target} or {until: condition}",
    "screenshot_type": "true, false, full, viewport or a target",
    "url_spec": "text or {contains|glob|regex: …}",
    "lang_text": "a text, or one per language {en: …, zh: …, de: …}",
    "lang_patterns": "a list of patterns, or lists per language {en: […], de: […]}",
    "check_spec": "a list of rule packs, or {rules: […], fail: true}",
    "mailbox_spec": "smtp, {smtp: PORT}, {folder: PATH} or {imap: {host, user, password}}",
}
OWN_MESSAGES = {
    "one_of", "duration", "duration_range", "quote_number", "target_kind", "condition", "var_name", "regex", "timezone", "count_bound",
    "url_match", "rule_pack", "instant",
}  # fmt: skip


def type_name(v: Any) -> str:
    return {
        dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number",
        type(None): "nothing (null)",
    }.get(type(v), type(v).__name__)  # fmt: skip


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _data_path(doc: Document, base: tuple[Any, ...], loc: tuple[Any, ...]) -> list[Any]:
    """pydantic's loc mixes data keys with union tags and model names; keep the parts that are in the data.

    A step's tag is its action name, which is also a key of the step: the loc element right after a
    step's index is that tag, not the key."""
    path, node = list(base), _at(doc.data, base)
    skip_tag = False
    for part in loc:
        if skip_tag:
            skip_tag = False
            if isinstance(node, dict) and part == M._action_of(node):
                continue
        inside = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if inside:
            skip_tag = isinstance(node, list) and len(path) >= 1 and path[-1] == "steps"
            path.append(part)
            node = node[part]
    return path


def _step_problems(doc: Document, path: list[Any]) -> list[tuple[tuple[Any, ...], bool, str]]:
    """Why a step has no single action: (path, at the key?, message) for each thing wrong."""
    raw = _at(doc.data, tuple(path))
    actions = list(M.ACTIONS)
    if not isinstance(raw, dict):
        guess = M.closest(str(raw).split()[0], actions) if isinstance(raw, str) and raw.split() else None
        return [
            (
                tuple(path),
                False,
                f"expected a step mapping like '- click: Log in', got {type_name(raw)}"
                + (f"; did you mean '{guess}: …'?" if guess else ""),
            )
        ]
    found = [k for k in raw if k in M.ACTIONS]
    if len(found) > 1:
        return [
            (
                (*path, found[1]),
                True,
                f"a step takes one action, got '{found[0]}' and '{found[1]}': put each in its own step",
            )
        ]
    unknown = [k for k in raw if k not in M.common_keys()]
    if unknown:
        return [(tuple([*path, k]), True, _unknown_step_key(k)) for k in unknown]
    return [(tuple(path), False, f"step has no action (expected one of: {', '.join(actions)})")]


def _unknown_step_key(key: str) -> str:
    if key == "vars":
        return "'vars' goes with 'run:' (values for a flow's variables)"
    h = M.closest(key, list(M.ACTIONS) + M.common_keys())
    return f"unknown action or key '{key}'" + (f"; did you mean '{h}'?" if h else f" (actions: {', '.join(M.ACTIONS)})")


def problems_from(exc: ValidationError, doc: Document, base: tuple[Any, ...] = ()) -> list[Problem]:
    out: dict[tuple[int, int], Problem] = {}

    def add(path: tuple[Any, ...], at_key: bool, message: str) -> None:
        pos = doc.pos(path, key=at_key)
        out.setdefault((pos.line, pos.col), Problem(doc.file, pos.line, pos.col, message))

    for err in exc.errors():
        t, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
        path = _data_path(doc, base, loc)
        if t == "step_action":
            for p, at_key, msg in _step_problems(doc, path):
                add(p, at_key, msg)
            continue
        if t == "unknown_key":
            for k in ctx["keys"].split(M.SEP):
                if ctx["scope"] == "step":
                    add((*path, k), True, _unknown_step_key(k))
                else:
                    allowed = ctx["allowed"].split(M.SEP)
                    add((*path, k), True, f"unknown key '{k}' (expected one of: {', '.join(allowed)}){M.hint(k, allowed)}")
            continue
        if t == "missing":
            add(tuple(path), False, f"missing required key '{loc[-1]}'")
            continue
        key: str | None = path[-1] if path and isinstance(path[-1], str) and not (len(path) >= 2 and path[-2] == "vars") else None
        if t in TYPE_WORDS:
            msg = f"expected {TYPE_WORDS[t]}, got {type_name(err['input'])}"
            if err["input"] is None and _in_flow_mapping(doc, tuple(path)):
                msg += " (a ',' inside {…} separates keys: quote text that contains commas)"
        elif t == "literal_error":  # a closed set without its own check (the values come from ctx, not a message)
            msg = f"expected {ctx.get('expected', 'one of the listed values')}, got {err['input']!r}"
        elif t == "union_tag_not_found":  # a mapping without the key that says what it is (a rule's `check`)
            disc = str(ctx.get("discriminator", "")).strip("'")
            node = _at(doc.data, tuple(path))
            near = M.closest(disc, [k for k in node if k != disc]) if isinstance(node, dict) else None
            msg = f"missing key '{disc}'" + (f"; did you mean '{disc}' instead of '{near}'?" if near else "")
        elif t == "union_tag_invalid":
            disc = str(ctx.get("discriminator", "")).strip("'")
            expected = str(ctx.get("expected_tags", "")).replace("'", "")
            msg = f"unknown {disc} {ctx.get('tag')!r} (expected one of: {expected}){M.hint(ctx.get('tag'), expected.split(', '))}"
            node = _at(doc.data, tuple(path))
            if isinstance(node, dict) and disc in node:
                path = [*path, disc]
        elif t == "string_pattern_mismatch":
            pattern = str(ctx.get("pattern", ""))
            msg = (
                f"'{err['input']}' is not a language code (two or three letters, e.g. en, zh, de)"
                if "[a-z]{2,3}" in pattern
                else f"'{err['input']}' does not have the expected form ({pattern})"
            )
        elif t == "too_short":
            msg = "expected a non-empty list"
        elif t == "greater_than_equal":
            msg = f"must be at least {ctx['ge']}, got {err['input']}"
        elif t == "less_than_equal":
            msg = f"must be at most {ctx['le']}, got {err['input']}"
        elif t == "quote_number":  # show the number as written (YAML already turned 289.60 into 289.6)
            written = _token(doc, tuple(path)) or ctx["value"]
            msg = f'{written} is a number to YAML: write it in quotes ("{written}") so it is matched as text exactly as written'
        elif t in OWN_MESSAGES:
            msg = err["msg"]
        else:  # a pydantic error this table does not know yet: still one line, with its type
            msg = f"invalid value ({t})"
        if key is not None and key not in msg and key in M.field_keys() and key not in M.ACTIONS:
            msg = f"{key}: {msg}"
        add(tuple(path), bool(loc) and loc[-1] == "[key]", msg)  # a bad key is pointed at itself
    return sorted(out.values(), key=lambda p: (p.line, p.col))


def _token(doc: Document, path: tuple[Any, ...]) -> str:
    pos = doc.pos(path)
    line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
    m = re.match(r"[^,}\]\s#]+", line[pos.col - 1 :])
    return m.group(0) if m else ""


def _in_flow_mapping(doc: Document, path: tuple[Any, ...]) -> bool:
    pos = doc.pos(path)
    line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
    return "{" in line[: pos.col]


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
        return Scenario(file, h, tuple(steps), dict(h.vars), h.name)

    def check_packs(self, doc: Document, h: M.ScenarioFile) -> None:
        """The rule packs `check:` and `service.jurisdictions` name exist and load (a pack of one's own is checked
        line by line, in its own file)."""
        from .rules import RulePackInvalid, load_pack, pack_path, shipped, unknown_pack

        at = ("check", "rules") if isinstance(h.check, M.CheckOptions) else ("check",)
        named = [((*at, i), ref) for i, ref in enumerate(h.check_rules())]
        if h.service is not None:
            named += [(("service", "jurisdictions", i), ref) for i, ref in enumerate(h.service.jurisdictions)]
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
