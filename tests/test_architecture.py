"""The layout of ``src/cnncalc``: no import cycles, a core free of front-ends and frameworks, no huge files.

The import graph is read with ``ast`` from every module under ``src/cnncalc`` -- nothing is imported.  It has
an edge ``a -> b`` when ``a`` imports ``b`` anywhere: at module level or inside a function (a lazy import
is a dependency all the same).  Relative imports are resolved; ``from pkg import x`` where ``x`` is a
submodule is an import of ``pkg.x``; imports under ``if TYPE_CHECKING:`` are not counted (they never run).
Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``: those implicit parent edges are not counted,
every module would otherwise be in a cycle with its package's ``__init__``.

The core -- the arithmetic on shapes and the reports -- is what the front-ends (torch, ONNX, Keras), the
exporters, the CLI and the web app are built on; it imports none of them and no framework, so
``cnncalc.analyze('input(3, 8, 8) | conv2d(4, 3)')`` works with only the standard library, rich and PyYAML.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

# --------------------------------------------------------------------------------------------------------
# PENDING: known problems that other work in progress removes.  The tests pass while these remain; whoever
# removes one deletes its entry here (test_pending_allow_list_is_current says when an entry is stale).
# Nothing new may be added: a new cycle or a new big file is to be fixed, not listed.
PENDING_CYCLES: set[frozenset[str]] = set()
PENDING_BIG_FILES: set[str] = set()
# --------------------------------------------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "cnncalc"
MAX_LINES = 500

CORE = ("cnncalc.ops", "cnncalc.conventions", "cnncalc.analysis", "cnncalc.report", "cnncalc.formulas",
        "cnncalc.rf", "cnncalc.errors", "cnncalc.spec")
NOT_IN_CORE = ("cnncalc.frontends", "cnncalc.web", "cnncalc.cli", "cnncalc.export")
FRAMEWORKS = ("torch", "onnx", "keras", "tensorflow", "fastapi", "numpy")


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every .py under src/cnncalc (a package is its __init__.py)."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ("cnncalc",) + path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _module_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _existing(name: str) -> str | None:
    """The cnncalc module ``name`` loads (itself, or the nearest enclosing module that exists)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, source: str | None = None, is_package: bool | None = None) -> tuple[set[str], set[str]]:
    """(cnncalc modules, top-level names of other packages) that ``module`` imports (its file, or ``source``)."""
    path = MODULES.get(module)
    if source is None:
        source = path.read_text(encoding="utf-8")
    if is_package is None:
        is_package = path.name == "__init__.py"
    tree = ast.parse(source, filename=str(path or module))
    package = module if is_package else module.rpartition(".")[0]
    internal, external = set(), set()

    def add(name: str):
        if _under(name, ("cnncalc",)):
            target = _existing(name)
            if target is not None and target != module:
                internal.add(target)
        else:
            external.add(name.split(".")[0])

    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
            continue
        if node.level:
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            add(sub if sub in MODULES else source)
    return internal, external


GRAPH: dict[str, set[str]] = {}
EXTERNAL: dict[str, set[str]] = {}
for _name in MODULES:
    GRAPH[_name], EXTERNAL[_name] = _imports(_name)


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = set()
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.add(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        found.append(comp)
    return found


def _path(graph, start: str, goal_test, within=None) -> list[str] | None:
    """Shortest import chain from ``start`` to a module passing ``goal_test`` (breadth first)."""
    prev = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if within is not None and child not in within:
                continue
            if goal_test(child):
                chain = [child, node]
                while prev[chain[-1]] is not None:
                    chain.append(prev[chain[-1]])
                return chain[::-1]
            if child not in prev:
                prev[child] = node
                queue.append(child)
    return None


def _chain(names) -> str:
    return " → ".join(n.removeprefix("cnncalc.") for n in names)


def _cycle_text(comp: set[str]) -> str:
    """One cycle through the component's first module, as 'a → b → a', and the members."""
    start = min(comp)
    cycle = _path(GRAPH, start, lambda m: m == start, within=comp)
    return f"{_chain(cycle)}   (modules in the cycle: {', '.join(sorted(comp))})"


def _pending(comp: set[str]) -> bool:
    return any(comp <= known for known in PENDING_CYCLES)


# --------------------------------------------------------------------------------------------------------
def test_the_graph_is_read():
    source = """
from typing import TYPE_CHECKING
from . import rf as rfmod                       # a submodule, by a relative import
from .report.model import Report                # a name from a module
from .spec import load                          # a name from a package's __init__
import cnncalc.ops.registry
if TYPE_CHECKING:
    from .frontends.torch import analyze_module     # hints only: not counted

def f():
    import numpy                                # inside a function: counted
    from .frontends import keras                # a submodule, inside a function
"""
    internal, external = _imports("cnncalc.analysis", source, is_package=False)
    assert internal == {"cnncalc.rf", "cnncalc.report.model", "cnncalc.spec", "cnncalc.ops.registry",
                        "cnncalc.frontends.keras"}
    assert "numpy" in external and "typing" in external
    assert _imports("cnncalc.report", "from . import units\nfrom .model import Report\n", is_package=True)[0] == \
        {"cnncalc.report.units", "cnncalc.report.model"}
    assert "cnncalc.report.model" in GRAPH["cnncalc.analysis"]


def test_no_import_cycles():
    cycles = [c for c in _components(GRAPH) if not _pending(c)]
    assert not cycles, "import cycles in src/cnncalc:\n" + "\n".join(_cycle_text(c) for c in cycles)


def test_the_core_imports_no_front_end_and_no_framework():
    core = sorted(m for m in GRAPH if _under(m, CORE))
    assert "cnncalc.analysis" in core and "cnncalc.report.model" in core
    problems = []
    for module in core:
        chain = _path(GRAPH, module, lambda m: _under(m, NOT_IN_CORE))
        if chain:
            problems.append(f"{_chain(chain)}   (the core must not import front-ends, exporters, CLI or web)")
        for framework in FRAMEWORKS:
            if framework in EXTERNAL[module]:
                problems.append(f"{_chain([module])} imports {framework}")
                continue
            chain = _path(GRAPH, module, lambda m: framework in EXTERNAL[m])
            if chain:
                problems.append(f"{_chain(chain)} imports {framework}")
    assert not problems, "the core reaches beyond itself:\n" + "\n".join(sorted(set(problems)))


def test_no_source_file_over_500_lines():
    big = []
    for path in MODULES.values():
        rel = path.relative_to(SRC).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in PENDING_BIG_FILES:
            big.append(f"src/cnncalc/{rel}: {n} lines")
    assert not big, f"source files over {MAX_LINES} lines (split them into cohesive modules):\n" + "\n".join(big)


def test_pending_allow_list_is_current():
    """An entry whose problem is gone must be deleted, so that it cannot hide a new one."""
    comps = _components(GRAPH)
    stale = [sorted(known) for known in PENDING_CYCLES if not any(c <= known for c in comps)]
    for rel in PENDING_BIG_FILES:
        path = SRC / rel
        if not path.exists() or len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES:
            stale.append(rel)
    assert not stale, f"fixed: delete these PENDING entries at the top of {Path(__file__).name}: {stale}"


BLOCKER = """
import sys
BLOCKED = {blocked!r}

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: the core must work without it")
        return None

sys.meta_path.insert(0, Blocker())
for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]
"""


@pytest.mark.parametrize("spec", ["input(3, 8, 8) | conv2d(4, 3)"])
def test_the_core_runs_without_any_framework(spec):
    code = BLOCKER.format(blocked=set(FRAMEWORKS) | {"onnxruntime", "jax"}) + f"""
import cnncalc
report = cnncalc.analyze({spec!r})
assert report.layers[-1].output_shape == (1, 4, 6, 6), report.layers[-1].output_shape
assert report.totals.params == 4 * 3 * 9 + 4
for text in (str(report), report.explain(), report.to_csv(), report.to_markdown(), report.to_json()):
    assert text
loaded = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
assert not loaded, loaded
# a text spec needs no front-end: the Keras and ONNX ones are not even imported (start-up time)
front_ends = sorted(n for n in sys.modules if n.startswith(("cnncalc.frontends.keras", "cnncalc.frontends.onnx")))
assert not front_ends, front_ends
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=SRC.parents[1])
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr
