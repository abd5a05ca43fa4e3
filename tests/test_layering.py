"""The package's layers, checked from its import statements (docs/design.rst draws them).

* the bottom layer -- the generated schemas ``smarkets.proto``, ``smarkets.errors`` and
  ``smarkets.redact`` -- imports only itself;
* ``smarkets.protocol`` (sans-I/O, shared by both ends) imports nothing above it: only
  itself and the bottom layer;
* the sandbox imports no client module: only itself, the protocol and the bottom layer;
* no module imports, directly or through others, a module that imports it: no cycles.

Every ``import`` counts, at module level or inside a function. Importing a submodule also
runs its parents' ``__init__``; that implicit step is not an edge (the root package's
``__init__`` gathers the public names of every layer on purpose).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "smarkets"
BOTTOM = ("smarkets.proto", "smarkets.errors", "smarkets.redact")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if not path.name.endswith(("_pb2.py", "_pb2.pyi"))
}


def resolve(name: str) -> str | None:
    """The project module ``name`` stands for (itself, or the package holding it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The project modules ``module`` imports: ``import a.b`` is ``a.b``; ``from a import
    x`` is ``a.x`` when that is a module, else ``a`` (the package whose ``__init__`` gives
    ``x``)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            candidates = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in candidates:
            target = resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_violations(prefix: str, allowed: tuple[str, ...]) -> list[str]:
    bad = []
    for module, targets in GRAPH.items():
        if module != prefix and not module.startswith(prefix + "."):
            continue
        for target in sorted(targets):
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                bad.append(f"{module} imports {target}")
    return bad


def test_the_module_list_is_complete() -> None:
    assert "smarkets.protocol.core" in MODULES and "smarkets.sandbox.server" in {
        resolve(m) for m in MODULES
    }
    assert not [m for m in MODULES if m.startswith("smarkets.proto.") and "pb2" in m]


def test_protocol_imports_nothing_above_it() -> None:
    assert layer_violations("smarkets.protocol", ("smarkets.protocol", *BOTTOM)) == []


def test_the_sandbox_imports_no_client_module() -> None:
    allowed = ("smarkets.sandbox", "smarkets.protocol", *BOTTOM)
    assert layer_violations("smarkets.sandbox", allowed) == []


def test_the_bottom_layer_imports_only_itself() -> None:
    for bottom in BOTTOM:
        assert layer_violations(bottom, BOTTOM) == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert strongly_connected(GRAPH) == []


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"a"}}, [["a"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], cycles: list) -> None:
    assert strongly_connected(graph) == cycles


# -- sizes ---------------------------------------------------------------------------------

MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300


def oversized() -> list[str]:
    """Modules over 500 lines and classes over 300 whose docstring does not say why."""
    found = []
    for name, path in MODULES.items():
        if name.startswith("smarkets.proto."):
            continue  # generated
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines = len(source.splitlines())
        doc = (ast.get_docstring(tree) or "").lower()
        if lines > MAX_MODULE_LINES and f"over {MAX_MODULE_LINES} lines" not in doc:
            found.append(f"module {name}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                reason = (ast.get_docstring(node) or "").lower()
                if size > MAX_CLASS_LINES and f"over {MAX_CLASS_LINES} lines" not in reason:
                    found.append(f"class {name}.{node.name}: {size} lines")
    return found


def test_no_module_or_class_is_oversized_without_a_stated_reason() -> None:
    """Over 500 lines (module) or 300 (class), the docstring says why ("over N lines")."""
    assert oversized() == []
