"""What a profile's grid still has to train, and about how long it takes.

``python -m htclib.grid --profile cpu --todo`` lists the planned runs without a record, in the
grid's order, each with the state of its folder (a checkpoint to resume from, a worker holding
it) and an estimate: the median training time of the row's finished seeds (the same name up to
``/s<seed>``), which is what a researcher planning the next session needs to know. A row with
no finished seed has no estimate; the total says how many runs it leaves out.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..io import claim_holder
from .results import row_and_seed


@dataclass
class Todo:
    name: str
    key: str
    state: str  # "new", "checkpoint" (resumes), "running" (a live worker holds it)
    estimate_s: float | None  # median train seconds of the row's finished seeds


def _row(name: str) -> str:
    return row_and_seed(name)[0]


def _state(folder: Path) -> str:
    if claim_holder(folder):
        return "running"
    if (folder / "checkpoint").is_dir():
        return "checkpoint"
    return "new"


def todo(configs, runs_dir: str | Path) -> list[Todo]:
    """The runs of ``configs`` with no ``result.json`` under ``runs_dir``, in plan order."""
    runs_dir = Path(runs_dir)
    seconds: dict[str, list[float]] = {}
    missing = []
    for c in configs:
        folder = runs_dir / c.key()
        rec = folder / "result.json"
        if rec.exists():
            try:
                t = json.loads(rec.read_text()).get("train_seconds")
            except (OSError, ValueError):
                t = None
            if t:
                seconds.setdefault(_row(c.name), []).append(float(t))
        else:
            missing.append((c, folder))
    return [
        Todo(
            c.name,
            c.key(),
            _state(folder),
            statistics.median(seconds[_row(c.name)]) if _row(c.name) in seconds else None,
        )
        for c, folder in missing
    ]


def format_todo(items: list[Todo]) -> str:
    """One line a run, then the total in hours of one worker (several workers divide it)."""
    if not items:
        return "nothing to train: every planned run has its record"
    width = max(len(t.name) for t in items)
    lines = [
        f"{t.name:<{width}}  {t.key}  {t.state:<10}  "
        + (f"~{t.estimate_s / 60:.0f} min" if t.estimate_s is not None else "no estimate")
        for t in items
    ]
    known = [t.estimate_s for t in items if t.estimate_s is not None]
    hours = sum(known) / 3600
    unknown = len(items) - len(known)
    lines.append(
        f"{len(items)} runs to train; ~{hours:.1f} h of one worker"
        + (
            f" (estimated from each row's finished seeds; {unknown} runs of rows with none "
            "are not counted)"
            if unknown
            else " (estimated from each row's finished seeds)"
        )
    )
    return "\n".join(lines)
