"""YAML → plain Python data plus the line:col of every key and value, for precise errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[Any, ...]


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


def load(file: Path) -> Document:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(file, Pos(1, 1), "file not found") from None
    except UnicodeDecodeError as exc:
        raise SourceError(file, Pos(1, 1), f"not UTF-8 text ({exc.reason})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
        raise SourceError(file, pos, f"invalid YAML: {exc.problem or exc.context}") from None
    doc = Document(file, None, lines=text.splitlines())
    if node is None:
        raise SourceError(file, Pos(1, 1), "empty file: expected a mapping with 'name' and 'steps'")
    doc.data = _convert(node, (), doc)
    return doc


def _convert(node: yaml.Node, path: Path_, doc: Document) -> Any:
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            key = yaml.SafeLoader(" ").construct_object(k_node) if isinstance(k_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise SourceError(doc.file, _mark(k_node), "expected a plain key (a word), got a complex key")
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise SourceError(doc.file, _mark(k_node), f"duplicate key '{key}'")
            doc.keys[path + (key,)] = _mark(k_node)
            out[key] = _convert(v_node, path + (key,), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), doc) for i, item in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)
