"""YAML → plain Python data plus the line:col of every key and value, for precise errors.

Hostile input is refused with one `file:line:col` line, well under a second, before anything is
built: only regular files up to MAX_BYTES, nesting up to MAX_DEPTH (checked on the event stream,
which does not recurse), at most MAX_NODES values after aliases are expanded, no alias that
contains itself, and no tag SafeLoader cannot construct. LibYAML (CSafeLoader) when present:
same marks, a tenth of the time.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[Any, ...]
MAX_BYTES = 1_000_000  # a scenario is a few KB; a megabyte is already absurd
MAX_DEPTH = 40  # nested mappings/lists; a scenario needs about 6
MAX_NODES = 50_000  # values after alias expansion ("billion laughs" is refused, not expanded)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.SafeLoader("")  # builds scalars (str, int, float, bool, null, timestamps) from nodes


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Document:
    file: Path
    data: Any
    values: dict[Path_, Pos] = field(default_factory=dict)
    keys: dict[Path_, Pos] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    nodes: int = 0

    def pos(self, path: Path_, *, key: bool = False) -> Pos:
        """Position of the value at `path` (or of its key); falls back to the nearest parent."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Pos(1, 1))


class SourceError(Exception):
    def __init__(self, file: Path, pos: Pos, message: str) -> None:
        super().__init__(f"{file}:{pos.line}:{pos.col}: {message}")
        self.file, self.pos, self.message = file, pos, message


def _mark(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _yaml_pos(exc: yaml.YAMLError, text: str) -> Pos:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if "end of stream" in str(getattr(exc, "problem", "")) and getattr(exc, "context_mark", None) is not None:
        mark = exc.context_mark  # type: ignore[attr-defined]  # where the unclosed thing began, not the end of the file
    if mark is not None:
        return Pos(mark.line + 1, mark.column + 1)
    position = getattr(exc, "position", None)  # a ReaderError knows the character, not the line
    if isinstance(position, int):
        before = text[:position]
        return Pos(before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1)
    return Pos(1, 1)


def _yaml_message(exc: yaml.YAMLError, text: str) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return (
            f"invalid YAML: a control character (#x{exc.character:04x}) is not allowed"
            if isinstance(exc.character, int)
            else "invalid YAML"
        )
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    if "end of stream" in str(problem) and "quoted" in str(getattr(exc, "context", "")):
        return "invalid YAML: this quote is never closed"
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "invalid YAML: a tab character; YAML indents with spaces only"
    return f"invalid YAML: {problem}"


def read_text(file: Path) -> str:
    """The file's text, or one SourceError line: missing, a folder, a FIFO or device, a symlink loop,
    unreadable, too large, not UTF-8."""
    try:
        st = os.stat(file)
    except FileNotFoundError:
        kind = "broken symbolic link" if file.is_symlink() else "file not found"
        raise SourceError(file, Pos(1, 1), kind) from None
    except OSError as exc:
        why = "symbolic link loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc)).lower()
        raise SourceError(file, Pos(1, 1), f"cannot read: {why}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(file, Pos(1, 1), "is a folder, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(file, Pos(1, 1), "not a regular file (a pipe, socket or device): refusing to read it")
    if st.st_size > MAX_BYTES:
        raise SourceError(file, Pos(1, 1), f"file too large ({st.st_size:,} bytes; a scenario may have at most {MAX_BYTES:,})")
    try:
        with open(file, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(file, Pos(1, 1), f"cannot read: {(exc.strerror or str(exc)).lower()}") from None
    if len(raw) > MAX_BYTES:
        raise SourceError(file, Pos(1, 1), f"file too large (a scenario may have at most {MAX_BYTES:,} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        raise SourceError(file, _offset_pos(before, len(before)), f"not UTF-8 text ({exc.reason})") from None
    bad = _CONTROL.search(text)
    if bad:
        raise SourceError(
            file, _offset_pos(text, bad.start()), f"a control character (#x{ord(bad.group()):04x}) is not allowed in YAML"
        )
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _offset_pos(text: str, offset: int) -> Pos:
    before = text[:offset]
    return Pos(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _check_depth(text: str, file: Path) -> None:
    """Walk the event stream (iterative) before composing (recursive): deep nesting is refused early."""
    try:
        _walk_depth(text, file, _Loader)
    except yaml.YAMLError as exc:
        # LibYAML (PyYAML ≥ 6.0.4) refuses 1000 flow levels while scanning ahead, before the events that
        # reach our limit: the pure-Python parser finds where the nesting went past it.
        if "maximum nesting depth" not in str(exc) or _Loader is yaml.SafeLoader:
            raise
        _walk_depth(text, file, yaml.SafeLoader)
        raise


def _walk_depth(text: str, file: Path, loader: Any) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                pos = Pos(mark.line + 1, mark.column + 1) if mark is not None else Pos(1, 1)
                raise SourceError(file, pos, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def load(file: Path) -> Document:
    text = read_text(file)
    try:
        _check_depth(text, file)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SourceError(file, _yaml_pos(exc, text), _yaml_message(exc, text)) from None
    doc = Document(file, None, lines=text.splitlines())
    if node is None:
        raise SourceError(file, Pos(1, 1), "empty file: expected a mapping with 'name' and 'steps'")
    doc.data = _convert(node, (), doc, ())
    return doc


def _scalar(node: yaml.Node, doc: Document) -> Any:
    tag = node.tag.removeprefix("tag:yaml.org,2002:")
    try:
        value = _constructor.construct_object(node)
    except Exception as exc:  # PyYAML's constructors raise whatever their parsing raises (AttributeError for !!timestamp junk)
        detail = (
            ""
            if isinstance(exc, yaml.YAMLError)
            else (str(exc).splitlines()[0] if isinstance(exc, ValueError) and str(exc) else "")
        )
        raise SourceError(
            doc.file, _mark(node), f"invalid YAML: cannot read this value as '{tag}'" + (f" ({detail})" if detail else "")
        ) from None
    if isinstance(value, (bytes, bytearray)):
        raise SourceError(doc.file, _mark(node), "invalid YAML: binary values (!!binary) have no place in a scenario")
    return value


def _convert(node: yaml.Node, path: Path_, doc: Document, active: tuple[int, ...]) -> Any:
    doc.nodes += 1
    if doc.nodes > MAX_NODES:
        raise SourceError(doc.file, _mark(node), f"more than {MAX_NODES:,} values (aliases expanding into each other?)")
    if id(node) in active:
        raise SourceError(doc.file, _mark(node), "an alias refers to a value that contains it (a recursive alias)")
    doc.values.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        inner = (*active, id(node))
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            key = _scalar(k_node, doc) if isinstance(k_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise SourceError(doc.file, _mark(k_node), "expected a plain key (a word), got a complex key")
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise SourceError(doc.file, _mark(k_node), f"duplicate key '{key}'")
            doc.keys[(*path, key)] = _mark(k_node)
            out[key] = _convert(v_node, (*path, key), doc, inner)
        return out
    if isinstance(node, yaml.SequenceNode):
        inner = (*active, id(node))
        return [_convert(item, (*path, i), doc, inner) for i, item in enumerate(node.value)]
    return _scalar(node, doc)
