"""The grid on Ray: each run a task, on one machine or a cluster.

``python -m htclib.grid --profile cpu --engine ray`` starts a local Ray instance (or joins one:
``--address auto`` after ``ray start --head`` here and ``ray start --address HEAD:6379`` on
the other machines) and hands it the runs of the same plan the file-claim engine trains
(:func:`htclib.lab.profiles.grid_plan`: one code path decides what a run is). A run is a task
asking for one CPU (and one GPU where ``--gpus-per-run`` says so); a finished record is never
run again; a task whose worker dies is retried by Ray (``max_retries``) and resumes from the
run's last epoch checkpoint when it lands on a machine that can see the run folder.

Where records land: the task writes into the results folder it is given. On one machine, or
a cluster whose nodes share that folder (NFS, a mounted bucket), that is all. Without shared
storage the task also returns its small records (config, result, per-text predictions), and
the head writes them into its own results folder, so the tables are complete on the head;
a retried run then resumes only on the node that holds its checkpoint, elsewhere it starts
over (the checkpoints hold weights and are never shipped).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RECORD_FILES = ("config.json", "result.json", "test_pred.json")


def _train(cfg_dict: dict, results: str) -> dict:
    """The task: one run in a Ray worker process (a fresh interpreter: the code on disk now)."""
    from ..training.experiment import RunConfig, run

    cfg = RunConfig(**cfg_dict)
    folder = Path(results) / "runs" / cfg.key()
    folder.mkdir(parents=True, exist_ok=True)
    # which process holds the run (an operator, or a test that kills it, can find it)
    (folder / "worker.pid").write_text(str(os.getpid()))
    rec = run(cfg, results, progress=False)
    files = {f: (folder / f).read_text() for f in RECORD_FILES if (folder / f).exists()}
    return {"key": cfg.key(), "name": cfg.name, "files": files, "record": rec}


def run_on_ray(
    configs: list,
    results: str | os.PathLike,
    address: str | None = None,
    num_cpus: int | None = None,
    gpus_per_run: float = 0,
    max_retries: int = 3,
) -> list[dict]:
    """Train ``configs`` (``RunConfig``) as Ray tasks into ``results``; returns their records in
    the order they finished. Runs with a record are skipped."""
    import ray

    from ..io import atomic_write_text

    results = Path(results).resolve()
    todo = [c for c in configs if not (results / "runs" / c.key() / "result.json").exists()]
    if not todo:
        return []
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster on loopback
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)  # fmt: skip
    task = ray.remote(num_cpus=1, num_gpus=gpus_per_run, max_retries=max_retries)(_train)
    pending = {task.remote(c.to_dict(), str(results)): c.name for c in todo}
    out, t0 = [], time.perf_counter()
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            name = pending.pop(done[0])
            got = ray.get(done[0])
            folder = results / "runs" / got["key"]
            for f, text in got["files"].items():  # a cluster without shared storage
                if not (folder / f).exists():
                    atomic_write_text(folder / f, text)
            t = got["record"].get("test", {})
            print(
                f"[ray {len(out) + 1}/{len(todo)}] {name}: headline "
                f"{100 * t.get('headline/micro_f1', float('nan')):.2f} / "
                f"{100 * t.get('headline/macro_f1', float('nan')):.2f}, "
                f"{time.perf_counter() - t0:.0f} s since start",
                flush=True,
            )
            out.append(got["record"])
    finally:
        if started:
            ray.shutdown()
    return out
