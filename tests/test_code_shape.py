"""The house rules the code keeps, checked on its source: no function over 60 lines, and no import circle
between modules (data flows one way: YAML → model → runner → run folder → readers)."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PACKAGES = {"tuiding": ROOT / "scripts" / "tuiding", "tuiding_portals": ROOT / "mock_portals" / "tuiding_portals"}
MAX_LINES = 60


def sources() -> list[Path]:
    folders = [*PACKAGES.values(), ROOT / "benchmarks", ROOT / "tests"]
    return [p for folder in folders for p in folder.rglob("*.py") if "newsletter_site" not in p.parts]


def test_no_function_is_longer_than_60_lines():
    long = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def module_name(path: Path) -> str:
    for package, folder in PACKAGES.items():
        if folder in path.parents or path.parent == folder:
            parts = path.relative_to(folder).with_suffix("").parts
            return ".".join((package, *parts)).removesuffix(".__init__")
    raise ValueError(path)


def imports(path: Path, name: str) -> set[str]:
    """Every module of ours this one imports — at the top, under TYPE_CHECKING or inside a function."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_no_two_modules_import_each_other_in_a_circle():
    modules = {module_name(p): p for folder in PACKAGES.values() for p in folder.rglob("*.py")}
    graph = {m: {i for i in imports(p, m) if i in modules and i != m and not m.startswith(f"{i}.")} for m, p in modules.items()}
    # A package's __init__ is how its modules are reached, not a module that depends on them.
    graph = {
        m: {i for i in deps if not (modules[i].name == "__init__.py" and m.startswith(f"{i}."))} for m, deps in graph.items()
    }
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" → ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert circles == []
