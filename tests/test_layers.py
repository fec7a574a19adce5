"""The layers of humanlib (the book's "Architecture" section): no import cycle, and no library module
imports the command line. Read from the code's imports (module level and inside functions), nothing run."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "humanlib"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The humanlib modules that ``name`` imports (``from humanlib.x import y``: ``humanlib.x.y`` when y is a module)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    return found - {name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = _graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the graph was read
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_library_module_imports_the_command_line():
    graph = _graph()
    line = {n for n in graph if n in ("humanlib.cli", "humanlib.__main__") or n.startswith("humanlib.commands")}
    offenders = {n: sorted(graph[n] & line) for n in graph if n not in line and graph[n] & line}
    assert offenders == {}


# --------------------------------------------------------------------------- sizes (issue 18)

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60  # code lines, the docstring not counted

#: Modules still over MAX_MODULE_LINES, each with the reason. Remove an entry when its module is split.
LONG_MODULES: dict[str, str] = {
}

#: Functions over MAX_FUNCTION_LINES whose docstring does not say why (``Long:``), each with the reason.
LONG_FUNCTIONS: dict[str, str] = {
    "humanlib.priors.humor_fit.fit_humor": "not split yet (issue 18)",
}


def _code_lines(node: ast.AST) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1 if body else 0


def _long_functions(module: str, source: str, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """``module.function`` (``module.Class.method``) -> code lines, for those over ``limit`` without a ``Long:`` reason."""
    out = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(child)
                doc = (ast.get_docstring(child) or "").lower()
                if n > limit and "long:" not in doc and "not split" not in doc:
                    out[f"{prefix}.{child.name}"] = n
                visit(child, f"{prefix}.{child.name}")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}.{child.name}")

    visit(ast.parse(source), module)
    return out


def test_no_module_over_600_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert len(sizes) > 50
    over = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES and name not in LONG_MODULES}
    assert over == {}, f"modules over {MAX_MODULE_LINES} lines: split them along their concepts: {over}"
    stale = sorted(name for name in LONG_MODULES if sizes.get(name, 0) <= MAX_MODULE_LINES)
    assert stale == [], f"LONG_MODULES names modules that are no longer long (remove them): {stale}"


def test_no_function_over_60_lines_without_a_reason():
    found = {}
    for name, path in _modules().items():
        found.update(_long_functions(name, path.read_text()))
    over = {name: n for name, n in found.items() if name not in LONG_FUNCTIONS}
    assert over == {}, f"functions over {MAX_FUNCTION_LINES} code lines: split them, or say why in the docstring (Long: ...): {over}"
    stale = sorted(set(LONG_FUNCTIONS) - set(found))
    assert stale == [], f"LONG_FUNCTIONS names functions that are no longer long (remove them): {stale}"
    assert all(len(why.split()) >= 3 for why in {**LONG_MODULES, **LONG_FUNCTIONS}.values())


def test_the_length_checks_find_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    assert _long_functions("m", f"def f():\n    '''Short.'''\n{body}\n") == {"m.f": 61}
    method = body.replace("    x", "        x")
    assert _long_functions("m", f"class C:\n    def g(self):\n{method}\n") == {"m.C.g": 61}
    assert _long_functions("m", f"def f():\n    '''Long: one table.'''\n{body}\n") == {}
    assert _long_functions("m", "def f():\n    '''Short.'''\n    return 1\n") == {}
