"""htclib: parameter-efficient hierarchical text classification with deep prefix tuning.

Layers, each importing only the ones listed before it (``tests/test_imports.py``):

- ``io``: files written atomically, manifests, claims on run folders.
- ``data``: the label hierarchy, data sets and splits, tokenisation.
- ``method``: the paper's method (prefix, heads, global and local models, transfer, SimCSE).
- ``training``: the loop, checkpoints, top-down and contrastive training, metrics, one run.
- ``serve``: trained models as predictors, the ``htclib`` command.
- ``lab``: profiles, the grid, records, statistics, claims, tables, figures, widgets.

The modules' earlier flat names (``htclib.training.train``, ``python -m htclib.grid``, ...) stay as
aliases of their new homes (:data:`MOVED`).
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

LAYERS = ("io", "data", "method", "training", "serve", "lab")

# Each module's flat name before the layers (2026-12) -> its home now.
MOVED = {
    **{m: f"data.{m}" for m in ("hierarchy", "wos", "amazon", "frames", "tokens")},
    **{
        m: f"method.{m}"
        for m in (
            "prefix",
            "heads",
            "transfer",
            "models",
            "local",
            "contrastive",
            "dropout",
            "encoders",
            "recipes",
            "configs",
            "keydefaults",
        )
    },
    **{
        m: f"training.{m}"
        for m in (
            "train",
            "metrics",
            "artifacts",
            "experiment",
            "baselines",
            "provenance",
            "records",
        )
    },
    **{
        m: f"lab.{m}"
        for m in (
            "profiles",
            "grid",
            "ray_engine",
            "run",
            "results",
            "report",
            "stats",
            "method_stats",
            "claims",
            "plots",
            "widgets",
            "analysis",
            "workbook",
            "banner",
        )
    },
    **{m: f"serve.{m}" for m in ("predict", "cli")},
}


class _AliasLoader(importlib.abc.Loader):
    """Loads ``htclib.<old>`` as the module object of its new home (one module, two names)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system set the alias spec; keep the real one

    def get_code(self, fullname):
        # `python -m htclib.grid`: run the new home as __main__, as `-m htclib.lab.grid` would
        src = f"import runpy\nrunpy.run_module({self.target!r}, run_name='__main__', alter_sys=True)\n"
        return compile(src, f"<htclib: {fullname} is {self.target}>", "exec")


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        old = fullname.partition("htclib.")[2] if fullname.startswith("htclib.") else None
        if old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(f"htclib.{MOVED[old]}"))


if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
    sys.meta_path.append(_AliasFinder())


def __getattr__(name):
    # Subpackages and the old flat names load on first use: `import htclib` stays torch-free.
    if name in LAYERS or name in MOVED:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'htclib' has no attribute {name!r}")
