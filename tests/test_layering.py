"""The import graph of ``src/iadsim`` keeps its layers: no import of a higher layer, no cycle
between modules, and no function-local import of an iadsim module without a reason.

Every module is parsed with ``ast`` (module-level imports, including ``if TYPE_CHECKING:``
blocks, and imports inside functions) and assigned the layer of its top-level package or
module (``iadsim.sim.sensors`` -> ``sim``). ``from iadsim.pkg import name`` is an import of
``iadsim.pkg.name`` when that is a module, else of ``iadsim.pkg`` (its ``__init__``).

A function-local import of an iadsim module is allowed only with a ``# lazy: <why>`` comment
on one of its lines (e.g. ``# lazy: CLI start-up``): deferring an import hides a dependency
from readers and from this test's cycle check, so it has to be worth it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "iadsim"

#: layer of each top-level unit of the package, lowest first; a unit may import its own and
#: lower layers only. "" is the root package (``iadsim/__init__.py``, the lazy public facade).
LAYERS: dict[str, int] = {
    # foundations: no simulation or analysis logic
    "_version": 0,
    "errors": 0,
    "fileio": 0,
    "memory": 0,
    "yamlpos": 0,
    "examples": 0,
    "geo": 0,
    "catalog": 0,
    # the inputs: a scenario and where its sites stand
    "scenario": 1,
    "deployment": 1,
    "uncertainty": 1,
    # the two computations, side by side
    "coverage": 2,
    "sim": 2,
    # many runs and their store
    "montecarlo": 3,
    "results": 3,
    "sensitivity": 3,
    "sensitivity_run": 3,
    "checks": 3,
    # drawings and exports of results
    "report": 4,
    "export": 4,
    # the functions the front ends call
    "api": 5,
    "sweeps": 5,
    "comparison": 5,
    # front ends
    "cli": 6,
    "web": 6,
    "": 6,
}

#: units of one layer that must not import each other either
SIDE_BY_SIDE = [{"coverage", "sim"}]

LAZY_COMMENT = re.compile(r"#\s*lazy:\s*\S")


def _module_name(path: Path) -> str:
    parts = ("iadsim", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The iadsim modules an import statement loads (explicitly, not their parent packages)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "iadsim"]
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        pkg = module.split(".") if _is_package(module) else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([base] if base else []))
    if base.split(".")[0] != "iadsim":
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _comments(source: str) -> dict[int, str]:
    return {
        tok.start[0]: tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }


class _Imports(ast.NodeVisitor):
    """Collects (import node, inside a function?) for every import statement of a module."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
        self._depth = 0

    def _function(self, node) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self._depth > 0))

    visit_ImportFrom = visit_Import  # type: ignore[assignment]


def _imports():
    """(importer, imported module, line, function-local?, has a lazy comment) for every
    import of an iadsim module in the package."""
    rows = []
    for module, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        comments = _comments(source)
        visitor = _Imports()
        visitor.visit(ast.parse(source, filename=str(path)))
        for node, local in visitor.found:
            lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            lazy = any(LAZY_COMMENT.search(comments.get(i, "")) for i in lines)
            for target in dict.fromkeys(_targets(node, module)):
                rows.append((module, target, node.lineno, local, lazy))
    return rows


IMPORTS = _imports()


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(SRC.parent)}:{line}"


def test_every_module_has_a_layer():
    missing = sorted({_unit(m) for m in MODULES} - set(LAYERS))
    assert not missing, f"assign a layer in LAYERS to: {missing}"


def test_imported_modules_exist():
    unknown = [f"{_where(m, line)}: {t}" for m, t, line, _, _ in IMPORTS if t not in MODULES]
    assert not unknown, "imports of iadsim modules that do not exist:\n" + "\n".join(unknown)


def test_no_import_of_a_higher_layer():
    bad = []
    for module, target, line, _, _ in IMPORTS:
        a, b = _unit(module), _unit(target)
        if a == b or a not in LAYERS or b not in LAYERS:
            continue
        if LAYERS[b] > LAYERS[a]:
            bad.append(f"{_where(module, line)}: {a or 'iadsim'} (layer {LAYERS[a]}) imports "
                       f"{target} ({b or 'iadsim'}, layer {LAYERS[b]})")  # fmt: skip
        elif any({a, b} <= pair for pair in SIDE_BY_SIDE):
            bad.append(f"{_where(module, line)}: {a} imports {target}; {a} and {b} sit side "
                       "by side and must not import each other")  # fmt: skip
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import), by
    Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_cycle_between_modules():
    edges: dict[str, set[str]] = {}
    for module, target, _, local, _ in IMPORTS:
        if not local:
            edges.setdefault(module, set()).add(target)
    cycles = _cycles(edges)
    assert not cycles, "module-level import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_function_local_imports_of_iadsim_say_why():
    bad = [f"{_where(m, line)}: {t}" for m, t, line, local, lazy in IMPORTS if local and not lazy]
    assert not bad, (
        "function-local imports of iadsim modules without a '# lazy: <why>' comment (import "
        "at module level unless it keeps start-up fast):\n" + "\n".join(bad)
    )


def test_the_checks_see_what_they_guard():
    """The parser finds the kinds of import the other tests rely on (so a silent parser bug
    cannot make them pass vacuously)."""
    assert any(local for *_, local, _ in IMPORTS)  # the CLI's lazy imports
    assert ("iadsim.sim.engine", "iadsim.sim.prepared") in {(m, t) for m, t, *_ in IMPORTS}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    src = "def f():\n    from iadsim import catalog  # lazy: start-up\n"
    visitor = _Imports()
    visitor.visit(ast.parse(src))
    [(node, local)] = visitor.found
    assert local and _targets(node, "iadsim.x") == ["iadsim.catalog"]
    assert LAZY_COMMENT.search(_comments(src)[2])


@pytest.mark.parametrize("unit", sorted(LAYERS))
def test_layer_table_names_real_or_planned_units(unit):
    # units in the table that do not exist yet are the planned ones (deployment, export, web)
    planned = {"deployment", "export", "web"}
    assert unit in {_unit(m) for m in MODULES} | planned
