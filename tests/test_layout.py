"""The package's layout is its pipeline: a stage imports only stages below it, and no module
imports itself back through others.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import
still ties the two modules' designs together, which is what the order is about.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import modules of its own layer or of any layer before it.
LAYERS: list[tuple[str, ...]] = [
    ("tais", "tais.errors", "tais.io", "tais.records"),
    ("tais.config",),
    ("tais.models",),
    ("tais.battery",),
    ("tais.generate",),
    ("tais.judge",),
    ("tais.analysis",),
    ("tais.report",),
    ("tais.publish",),
    ("tais.verify",),
    ("tais.paper",),
    ("tais.bench",),
    ("tais.pipeline", "tais.plan", "tais.cli"),
]


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "tais").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The tais modules `path` imports. `from pkg import sub` names the submodule, not pkg,
    so that a package's __init__ re-exporting its modules is not a cycle with them."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module in modules:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found |= subs
            if len(subs) < len(node.names):
                found.add(node.module)
    return found


def layer_of(module: str) -> int:
    best = None
    for rank, layer in enumerate(LAYERS):
        for prefix in layer:
            inside = module == prefix or (prefix != "tais" and module.startswith(prefix + "."))
            if inside and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{module} is in no layer: add its folder to LAYERS"
    return best[0]


def graph() -> dict[str, set[str]]:
    files = module_files()
    names = set(files)
    return {name: imports_of(path, names) - {name} for name, path in files.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_module_has_a_layer() -> None:
    for module in module_files():
        layer_of(module)


def test_imports_run_one_way() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    """The detectors themselves: a made-up upward edge and a made-up cycle are found."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("tais.verify.verify") > layer_of("tais.analysis.stats")
    module = tmp_path / "m.py"
    module.write_text("from tais.battery.benchmarks import advbench\nfrom tais.io import x\n")
    modules = {"tais.battery.benchmarks", "tais.battery.benchmarks.advbench", "tais.io"}
    assert imports_of(module, modules) == {"tais.battery.benchmarks.advbench", "tais.io"}
