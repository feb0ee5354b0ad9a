"""Where an SPP training step's time goes: ``python -m benchmarks.profile_step``.

torch's profiler over three MiniLM SPP training steps (batch 16, seq 128, the frozen
encoder's dropout on: the profile's recipe, section 5's base row), after a warm-up; prints
the seconds per step unprofiled and the operators by self CPU time. The profiler adds its own
overhead, so the shares say where to look, not what a step costs. Then the random draws of
one attention-dropout mask (MiniLM, batch 16, 12 heads, 128 x 158 with P=30) on 1 and 2
threads: torch's float ``uniform_`` (what ``rand_like`` runs) against 64-bit random words, one
word per four elements (the lever a cheaper mask would pull). ``--masks R``: instead, the
whole step with htclib's masks against the same step with word masks
(``htclib.method.dropout``, ``masks="words"``), one step each in R interleaved rounds, with the
ratio taken within each round (this machine's speed moves within a run).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.common import SPP, batch, encoder, interleaved_rounds, train_step_fn


def _ms(fn, reps: int = 7) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps * 1e3


def rng_draws() -> None:
    n = 16 * 12 * 128 * 158
    x = torch.empty(n)
    words = torch.empty(n // 4, dtype=torch.int64)
    lo = torch.iinfo(torch.int64).min
    for threads in (1, 2):
        torch.set_num_threads(threads)
        print(
            f"{threads} thread(s): uniform_ over {n:,} floats {_ms(x.uniform_):.1f} ms; "
            f"{n // 4:,} random 64-bit words {_ms(lambda: words.random_(lo, None)):.1f} ms"
        )


def mask_rounds(reps: int) -> None:
    ids, mask = batch(16, 128)
    enc = encoder("minilm")
    fns = {m: train_step_fn(SPP(copy.deepcopy(enc), masks=m), ids, mask) for m in ("rand", "words")}
    rounds = interleaved_rounds(fns, reps=reps, steps=1, warmup=2)
    ratio = [r / w for r, w in zip(rounds["rand"], rounds["words"], strict=True)]
    med = {m: statistics.median(v) for m, v in rounds.items()}
    print(
        f"step s, median of {reps} rounds: rand masks {med['rand']:.3f}, word masks "
        f"{med['words']:.3f}; speed-up within a round: median {statistics.median(ratio):.3f}, "
        f"quartiles {statistics.quantiles(ratio, n=4)[0]:.3f}-{statistics.quantiles(ratio, n=4)[2]:.3f}, "
        f"range {min(ratio):.3f}-{max(ratio):.3f}, faster in {sum(x > 1 for x in ratio)} of {reps}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=15)
    ap.add_argument("--masks", type=int, metavar="ROUNDS", help="time rand vs word masks instead")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.masks:
        mask_rounds(args.masks)
        return 0
    ids, mask = batch(16, 128)
    step = train_step_fn(SPP(encoder("minilm")), ids, mask)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(5):
        step()
    print(f"{(time.perf_counter() - t0) / 5:.3f} s/step unprofiled ({args.threads} threads)")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    rng_draws()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
