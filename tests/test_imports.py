"""htclib's layers: modules import each other without cycles, and never upward.

The layers, lowest first (``htclib.LAYERS``): io, data, method, training, serve, lab. A module
may import its own layer and the ones below it, function-level imports included."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import htclib

PKG = Path(__file__).resolve().parent.parent / "htclib"


def _module_name(f: Path) -> str:
    parts = f.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(f: Path, text: str | None = None) -> set[str]:
    """htclib modules that ``f`` imports (relative or absolute, anywhere in the file)."""
    name = _module_name(f)
    package = name if f.stem == "__init__" else name.rpartition(".")[0]
    out = set()
    for n in ast.walk(ast.parse(text if text is not None else f.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level:
                base = package.split(".")[: len(package.split(".")) - (n.level - 1)]
                mod = ".".join(base + ([n.module] if n.module else []))
            else:
                mod = n.module or ""
            targets = [mod] if n.module else [f"{mod}.{a.name}" for a in n.names]
        elif isinstance(n, ast.Import):
            targets = [a.name for a in n.names]
        else:
            continue
        out |= {t for t in targets if t == "htclib" or t.startswith("htclib.")}
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself
    old = parts[1]
    first = htclib.MOVED[old].split(".")[0] if old in htclib.MOVED else old
    return first if first in htclib.LAYERS else None


def _graph() -> dict[str, set[str]]:
    return {_module_name(f): _imports(f) for f in PKG.rglob("*.py")}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    rank = {layer: i for i, layer in enumerate(htclib.LAYERS)}
    bad = []
    for mod, deps in graph.items():
        here = _layer(mod)
        if here is None:
            continue
        for dep in sorted(deps):
            there = _layer(dep)
            if there is not None and rank[there] > rank[here]:
                bad.append(f"{mod} ({here}) imports {dep} ({there})")
    return bad


def test_no_import_cycles():
    graph = {m: {d for d in deps if d in _graph_modules()} for m, deps in _graph().items()}
    cycles = []

    def visit(mod, path):
        for dep in sorted(graph.get(mod, ())):
            if dep in path:
                cycles.append(path[path.index(dep) :] + [dep])
            else:
                visit(dep, path + [dep])

    for mod in graph:
        visit(mod, [mod])
    assert not cycles, f"import cycles: {cycles[:5]}"
    # the scan sees lazy imports too: models imports local inside a function
    assert "htclib.method.local" in graph["htclib.method.models"]


def _graph_modules() -> set[str]:
    return {_module_name(f) for f in PKG.rglob("*.py")}


def test_no_layer_imports_a_higher_one():
    graph = _graph()
    assert set(htclib.LAYERS) - {"io"} <= {m.split(".")[1] for m in graph if m.count(".") >= 1}
    assert upward_imports(graph) == []


@pytest.mark.parametrize(
    "module, line",
    [
        ("htclib.method.prefix", "    from ..training.train import fit\n"),  # lazy, relative
        ("htclib.data.hierarchy", "from htclib.lab import plots\n"),  # absolute
        ("htclib.serve.predict", "from ..lab.results import Paths\n"),  # serve imports no lab
        ("htclib.method.heads", "import htclib.experiment\n"),  # an old flat name
    ],
)
def test_an_upward_import_fails_the_layer_check(module, line):
    f = PKG.parent / (module.replace(".", "/") + ".py")
    graph = _graph()
    text = f.read_text() + "\n\ndef _upward():\n    " + line.strip() + "\n"
    graph[module] = _imports(f, text)
    bad = upward_imports(graph)
    assert len(bad) == 1 and bad[0].startswith(module), bad


def test_old_flat_names_are_the_same_modules():
    code = (
        "import htclib.train as a, htclib.training.train as b; assert a is b; "
        "from htclib import grid; import htclib.lab.grid as g; assert grid is g; "
        "assert g.__spec__.name == 'htclib.lab.grid'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-m", "htclib.report", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "--profile" in out.stdout, out.stderr


def test_import_htclib_stays_light():
    code = "import sys, htclib; import htclib.data.hierarchy; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
