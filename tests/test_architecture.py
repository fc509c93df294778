"""The package's shape: imports point one way down the data flow, no circle, no module too long.

The import graph is read with ``ast`` from every module of ``netplan/``, imports inside
functions included (a lazy import is still a dependency); only imports under
``if TYPE_CHECKING:`` are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "netplan"
MAX_LINES = 600

# The layer order, lowest first: a module may import its own layer's modules and lower layers',
# never a higher layer's. One entry per layer; a layer lists module prefixes.
LAYERS: list[tuple[str, ...]] = [
    ("netplan._errors", "netplan._version", "netplan._display_hooks"),
    ("netplan.travel",),
    ("netplan.roads",),
    ("netplan.inputs.readers", "netplan.inputs.zones", "netplan.inputs.raster"),
    ("netplan.scenario",),
    ("netplan.inputs",),
    ("netplan.optimize",),
    ("netplan.classic",),
    ("netplan.preparation",),
    ("netplan.phasing",),
    ("netplan.planner", "netplan.roadmap"),
    ("netplan.evaluation",),
    ("netplan.present",),
    ("netplan.outputs",),
    ("netplan.pipeline", "netplan.roadmap_pipeline"),
    ("netplan.compare", "netplan.sweep"),
    ("netplan.demo",),
    ("netplan.cli",),
    ("netplan",),
]

# Neighbours that must not see each other although the layer order alone would allow it:
# the scenario describes, the readers read, and only the input builder imports both.
FORBIDDEN: list[tuple[str, str, str]] = [
    ("netplan.scenario", "netplan.inputs", "the scenario describes; it reads nothing"),
    ("netplan.inputs.readers", "netplan.scenario", "readers take paths and column names"),
    ("netplan.inputs.zones", "netplan.scenario", "zone spreading takes arrays and numbers"),
    ("netplan.inputs.raster", "netplan.scenario", "the raster reader takes a path, bands and a CRS"),
    ("netplan.compare", "netplan.sweep", "compare and sweep are independent workflows"),
    ("netplan.sweep", "netplan.compare", "compare and sweep are independent workflows"),
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """Module → the netplan modules it imports (anywhere in its body)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # "from package import submodule" imports the submodule too
                targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def layer_of(module: str) -> int:
    """Index of the most specific layer prefix that covers ``module``."""
    best, best_len = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_every_module_has_a_layer():
    assert [m for m in _modules() if layer_of(m) < 0] == []


def test_imports_point_down_the_layers():
    upward = [
        f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
        for a, targets in import_graph().items()
        for b in sorted(targets)
        if layer_of(b) > layer_of(a)
    ]
    assert upward == []


def test_forbidden_neighbours():
    graph = import_graph()
    broken = [
        f"{a} imports {b}: {why}"
        for source, target, why in FORBIDDEN
        for a, targets in graph.items()
        if _within(a, source)
        for b in targets
        if _within(b, target) and not _within(b, source)
    ]
    assert broken == []


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_imports_inside_functions():
    graph = import_graph()
    # netplan.pipeline imports the output writer inside write_run only
    assert "netplan.outputs.writer" in graph["netplan.pipeline"]


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_over_600_lines(path: Path):
    if "_assets" in path.parts:
        return
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)}: {lines} lines"
