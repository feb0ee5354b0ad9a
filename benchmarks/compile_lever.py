"""One lever measured on its own: ``torch.compile`` (inductor) on the SPP training step.

``python -m benchmarks.compile_lever`` times the eager and the compiled step of htclib's global
SPP (MiniLM, batch 16, seq 128, fp32, frozen encoder in eval mode) interleaved in one process
on one thread, and the compilation itself; writes ``benchmarks/results/compile.json``. Kept apart from
``run_all`` because compiling takes minutes on 2 cores.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from pathlib import Path

import torch

from benchmarks.common import SPP, batch, encoder, machine, train_step_fn


def main() -> int:
    torch.set_num_threads(1)
    enc = encoder("minilm")
    ids, mask = batch(16, 128)
    eager = SPP(copy.deepcopy(enc), encoder_dropout=False)
    compiled = SPP(copy.deepcopy(enc), encoder_dropout=False)
    compiled.forward = torch.compile(compiled.forward)
    steps = {
        "eager": train_step_fn(eager, ids, mask),
        "compiled": train_step_fn(compiled, ids, mask),
    }
    t0 = time.perf_counter()
    steps["compiled"]()
    compile_s = time.perf_counter() - t0
    steps["eager"]()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(5):
        for k, f in steps.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "machine": machine(),
        "threads": 1,
        "setup": "global SPP P=20, MiniLM, batch 16, seq 128, fp32, frozen encoder in eval mode",
        "compile_and_first_step_s": round(compile_s, 1),
        "step_s": {k: round(v, 3) for k, v in med.items()},
        "compiled_speedup": round(med["eager"] / med["compiled"], 3),
        "date": time.strftime("%Y-%m-%d"),
    }
    path = Path(__file__).resolve().parent / "results" / "compile.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
