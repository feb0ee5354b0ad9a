"""htclib's modules import each other without cycles (function-level imports included)."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "htclib"


def _graph() -> dict[str, set[str]]:
    out = {}
    for f in PKG.glob("*.py"):
        tree = ast.parse(f.read_text())
        out[f.stem] = {
            (n.module or "").split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module
        }
    return out


def test_no_import_cycles():
    graph, cycles = _graph(), []

    def visit(mod, path):
        for dep in sorted(graph.get(mod, ())):
            if dep in path:
                cycles.append(path[path.index(dep) :] + [dep])
            else:
                visit(dep, path + [dep])

    for mod in graph:
        visit(mod, [mod])
    assert not cycles, f"import cycles: {cycles[:5]}"
    assert "models" in graph and "local" in graph["models"]  # the scan sees lazy imports too
