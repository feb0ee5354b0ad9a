"""The committed notebooks: executed from a profile's committed records, outputs deterministic.

``python -m htclib.workbook`` runs every notebook of ``notebooks/`` in place with the
parameters it ships (profile ``cpu``, ``train = False``: nothing trains), so that opening one
in JupyterLab or on a code host's viewer shows the current results without running anything.
Outputs are made to depend on the records and the code alone: papermill's timings, widget
model ids and kernel state are stripped, figures and styled tables have stable bytes
(:func:`htclib.lab.results.figure_bytes`, :func:`htclib.lab.results.styled`). Each notebook carries
in its metadata a digest of what it was executed from: the records of its profile, the
package's source and its own cells. ``--check`` (and ``tests/test_workbook.py``, in CI) fails
when a committed notebook's digest no longer matches: records landed or code changed since,
and the notebook must be executed again (``make notebooks``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

from ..training.provenance import source_hash
from .profiles import NOTEBOOKS

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
PROFILE = "cpu"  # what the committed notebooks show
RECORD_FILES = ("result.json", "test_pred.json")
# outputs a static viewer cannot show and whose ids change every run
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def records_digest(results_dir: Path) -> str:
    """SHA-256 (16 hex) over the records a profile's notebooks read."""
    h = hashlib.sha256()
    runs = results_dir / "runs"
    for f in sorted(runs.glob("*/*.json")) if runs.exists() else []:
        if f.name in RECORD_FILES:
            h.update(f"{f.parent.name}/{f.name}".encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cells_digest(nb: dict) -> str:
    h = hashlib.sha256()
    for c in nb["cells"]:
        h.update(c["cell_type"].encode())
        h.update(
            "".join(c["source"]).encode() if isinstance(c["source"], list) else c["source"].encode()
        )
    return h.hexdigest()[:16]


def digest(nb: dict, repo: Path = REPO) -> dict:
    """What a committed notebook was executed from."""
    return {
        "profile": PROFILE,
        "records": records_digest(repo / "results" / PROFILE),
        "source": source_hash(),
        "cells": cells_digest(nb),
    }


def normalise(nb: dict) -> dict:
    """``nb`` without the volatile parts of an executed notebook."""
    nb["metadata"].pop("papermill", None)
    nb["metadata"].pop("widgets", None)
    for c in nb["cells"]:
        c["metadata"].pop("papermill", None)
        c["metadata"].pop("execution", None)
        if c["cell_type"] != "code":
            continue
        outs = []
        for o in c.get("outputs", []):
            data = o.get("data", {})
            if WIDGET_MIME in data:
                continue  # a live widget: Run All shows it; a static view cannot
            if "text/plain" in data:  # an object's repr carries its memory address
                text = data["text/plain"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/plain"] = _ADDRESS.sub(">", text)
            outs.append(o)
        c["outputs"] = outs
    return nb


def stderr_cells(nb: dict) -> list[int]:
    """Indices of code cells that wrote to stderr (a warning or a progress bar left in)."""
    return [
        i
        for i, c in enumerate(nb["cells"])
        if any(o.get("name") == "stderr" for o in c.get("outputs", []))
    ]


def execute(name: str) -> float:
    import os

    import papermill as pm

    os.environ["HTCLIB_PROGRESS"] = "0"  # the notebooks' kernels inherit it: no text bars

    path = NOTEBOOK_DIR / f"{name}.ipynb"
    tmp = path.with_name(f".executing.{path.name}")
    t0 = time.perf_counter()
    pm.execute_notebook(
        str(path),
        str(tmp),
        kernel_name="python3",
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
        # the kernel's "running over TCP without encryption" warning, once per notebook, says
        # nothing about the notebook: only errors from the kernel process itself
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    nb = normalise(json.loads(tmp.read_text()))
    nb["metadata"]["htclib"] = digest(nb)
    tmp.unlink()
    bad = stderr_cells(nb)
    if bad:
        print(f"[workbook] {name}: stderr output in cell(s) {bad}", file=sys.stderr)
    text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return time.perf_counter() - t0


def stale(repo: Path = REPO) -> list[str]:
    """The committed notebooks whose digest does not match the records, code and cells now."""
    out = []
    for name in NOTEBOOKS:
        nb = json.loads((repo / "notebooks" / f"{name}.ipynb").read_text())
        got = nb["metadata"].get("htclib")
        if got != digest(nb, repo):
            out.append(name)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m htclib.workbook", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--only", action="append", help="notebook number(s), e.g. 03")
    ap.add_argument("--check", action="store_true", help="only say which notebooks are stale")
    args = ap.parse_args(argv)
    if args.check:
        bad = stale()
        for name in bad:
            print(
                f"notebooks/{name}.ipynb is stale: records, code or cells changed since it was "
                "executed; run `make notebooks`",
                file=sys.stderr,
            )
        return 1 if bad else 0
    for name in NOTEBOOKS:
        if args.only and name[:2] not in {o[:2] for o in args.only}:
            continue
        print(f"[workbook] {name} ...", flush=True)
        print(f"[workbook] {name} done in {execute(name):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
