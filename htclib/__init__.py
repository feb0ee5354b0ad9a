"""htclib: parameter-efficient hierarchical text classification with deep prefix tuning.

Modules (one job each): ``hierarchy`` (taxonomy), ``data`` (loading, splits), ``tokens``
(cached tokenisation), ``encoders``, ``prefix`` (deep prefix injection), ``heads``,
``models`` (CLS-tuning, global SPP), ``local`` (local SPP), ``transfer`` (non/copy/transform),
``contrastive`` (SimCSE), ``train``, ``metrics``, ``artifacts``, ``experiment`` (one run from
a config), ``baselines``, ``profiles``, ``results``, ``plots``, ``widgets``, ``run`` (notebook
runner CLI).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "artifacts",
    "baselines",
    "claims",
    "configs",
    "contrastive",
    "data",
    "encoders",
    "experiment",
    "grid",
    "heads",
    "hierarchy",
    "io",
    "local",
    "metrics",
    "models",
    "plots",
    "prefix",
    "profiles",
    "recipes",
    "records",
    "report",
    "results",
    "stats",
    "tokens",
    "train",
    "transfer",
    "wos",
    "amazon",
    "widgets",
}


def __getattr__(name):
    # Submodules load on first use: `import htclib` stays fast and torch-free.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'htclib' has no attribute {name!r}")
