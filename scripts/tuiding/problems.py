"""Every problem with a file as one line, `file:line:col: message`: pydantic's validation errors worded in our
words and pointed at the YAML token they are about (scenarios, flows, rule packs, guide manifests).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import model as M
from .source import Document


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


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (shorter, and the same on every machine).
    Symbolic links are not followed: the path a user gave is the one they recognise."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(Path.cwd()))))
    except (ValueError, OSError):
        return str(path)


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
        elif t == "unknown_key":
            for k in ctx["keys"].split(M.SEP):
                if ctx["scope"] == "step":
                    add((*path, k), True, _unknown_step_key(k))
                else:
                    allowed = ctx["allowed"].split(M.SEP)
                    add((*path, k), True, f"unknown key '{k}' (expected one of: {', '.join(allowed)}){M.hint(k, allowed)}")
        elif t == "missing":
            add(tuple(path), False, f"missing required key '{loc[-1]}'")
        else:
            key: str | None = (
                path[-1] if path and isinstance(path[-1], str) and not (len(path) >= 2 and path[-2] == "vars") else None
            )
            msg, path = _worded(doc, err, path)
            if key is not None and key not in msg and key in M.field_keys() and key not in M.ACTIONS:
                msg = f"{key}: {msg}"
            add(tuple(path), bool(loc) and loc[-1] == "[key]", msg)  # a bad key is pointed at itself
    return sorted(out.values(), key=lambda p: (p.line, p.col))


def _worded(doc: Document, err: Any, path: list[Any]) -> tuple[str, list[Any]]:
    """One pydantic error in our words, and where it points (a tag error points at the tag)."""
    t, ctx = err["type"], err.get("ctx") or {}
    if t in TYPE_WORDS:
        msg = f"expected {TYPE_WORDS[t]}, got {type_name(err['input'])}"
        if err["input"] is None and _in_flow_mapping(doc, tuple(path)):
            msg += " (a ',' inside {…} separates keys: quote text that contains commas)"
        return msg, path
    if t == "literal_error":  # a closed set without its own check (the values come from ctx, not a message)
        return f"expected {ctx.get('expected', 'one of the listed values')}, got {err['input']!r}", path
    if t == "union_tag_not_found":  # a mapping without the key that says what it is (a rule's `check`)
        disc = str(ctx.get("discriminator", "")).strip("'")
        node = _at(doc.data, tuple(path))
        near = M.closest(disc, [k for k in node if k != disc]) if isinstance(node, dict) else None
        return f"missing key '{disc}'" + (f"; did you mean '{disc}' instead of '{near}'?" if near else ""), path
    if t == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "")).strip("'")
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        msg = f"unknown {disc} {ctx.get('tag')!r} (expected one of: {expected}){M.hint(ctx.get('tag'), expected.split(', '))}"
        node = _at(doc.data, tuple(path))
        return msg, [*path, disc] if isinstance(node, dict) and disc in node else path
    if t == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if "[a-z]{2,3}" in pattern:
            return f"'{err['input']}' is not a language code (two or three letters, e.g. en, zh, de)", path
        return f"'{err['input']}' does not have the expected form ({pattern})", path
    if t == "quote_number":  # show the number as written (YAML already turned 289.60 into 289.6)
        written = _token(doc, tuple(path)) or ctx["value"]
        return (
            f'{written} is a number to YAML: write it in quotes ("{written}") so it is matched as text exactly as written',
            path,
        )
    bounds = {
        "too_short": "expected a non-empty list",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, got {err['input']}",
        "less_than_equal": f"must be at most {ctx.get('le')}, got {err['input']}",
    }
    if t in bounds:
        return bounds[t], path
    # Our own messages as they are; a pydantic error this table does not know yet: still one line, with its type.
    return (err["msg"] if t in OWN_MESSAGES else f"invalid value ({t})"), path


def _token(doc: Document, path: tuple[Any, ...]) -> str:
    pos = doc.pos(path)
    line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
    m = re.match(r"[^,}\]\s#]+", line[pos.col - 1 :])
    return m.group(0) if m else ""


def _in_flow_mapping(doc: Document, path: tuple[Any, ...]) -> bool:
    pos = doc.pos(path)
    line = doc.lines[pos.line - 1] if 0 < pos.line <= len(doc.lines) else ""
    return "{" in line[: pos.col]
