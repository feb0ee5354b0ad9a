"""All benchmarks in one process: ``python -m benchmarks.run_all [--quick]`` (or ``make bench``).

Each section compares variants in the same process, interleaved over repetitions, and reports
medians and ratios. Writes ``benchmarks/results/latest.json`` and ``benchmarks/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import (
    CLS,
    SPP,
    PEFTPrefix,
    batch,
    cpu_flags,
    encoder,
    interleaved,
    interleaved_rounds,
    machine,
    step_flops,
    train_step_fn,
    vector_isa,
)

HERE = Path(__file__).resolve().parent


def throughput(quick: bool) -> list[dict]:
    """1. Training-step examples/s: CLS-tuning vs htclib SPP vs PEFT prefix tuning (same P)."""
    rows = []
    for kind in ("minilm",) if quick else ("minilm", "bert-base"):
        enc = encoder(kind)
        for seq in (128,) if quick else (128, 256):
            ids, mask = batch(16, seq)
            models = {
                "cls": CLS(copy.deepcopy(enc)),
                "spp": SPP(copy.deepcopy(enc)),  # encoder dropout on, as PEFT: like for like
                # the frozen encoder in eval mode: htclib's recipe until 2026-11-30
                "spp_htclib": SPP(copy.deepcopy(enc), encoder_dropout=False),
                "peft": PEFTPrefix(copy.deepcopy(enc)),
            }
            fns = {k: train_step_fn(m, ids, mask) for k, m in models.items()}
            # FLOPs per step (one step each, also the warm-up): PEFT's over ours is the most an
            # exact method that runs the same matmuls could gain if time followed FLOPs
            flops = {k: step_flops(f) for k, f in fns.items()}
            steps = 3 if kind == "minilm" else 1
            rounds = interleaved_rounds(fns, reps=3 if quick else 5, steps=steps, warmup=0)
            t = {k: float(np.median(v)) for k, v in rounds.items()}
            ex = {k: 16 / v for k, v in t.items()}
            # SPP/PEFT within each round (same machine state): the spread says how far one
            # run's ratio can be trusted
            per_round = [p / s for p, s in zip(rounds["peft"], rounds["spp"], strict=True)]
            rows.append(
                {
                    "encoder": kind,
                    "seq": seq,
                    "batch": 16,
                    **{f"{k}_ex_s": round(v, 2) for k, v in ex.items()},
                    "spp_over_cls": round(ex["spp"] / ex["cls"], 3),
                    "spp_over_peft": round(ex["spp"] / ex["peft"], 3),
                    "spp_over_peft_rounds": [round(min(per_round), 3), round(max(per_round), 3)],
                    "reps": len(per_round),
                    "peft_over_spp_flops": round(flops["peft"] / flops["spp"], 3),
                    "spp_htclib_over_peft": round(ex["spp_htclib"] / ex["peft"], 3),
                }
            )
            print(rows[-1], flush=True)
            del models, fns
    return rows


def bf16(quick: bool) -> dict:
    """2. bf16 autocast vs fp32 for SPP training and inference, and the F1 difference. On a CPU
    without native bf16 (emulated: many times slower) one step of each is timed and the rest
    is skipped, said in the output."""
    from htclib.training.precision import native_bf16

    enc = encoder("minilm")
    ids, mask = batch(16, 128)
    m32, m16 = SPP(copy.deepcopy(enc)), SPP(copy.deepcopy(enc))
    native = native_bf16("cpu")
    t = interleaved(
        {"fp32": train_step_fn(m32, ids, mask), "bf16": train_step_fn(m16, ids, mask, bf16=True)},
        reps=3 if native else 1,
        steps=3 if native else 1,
        warmup=1 if native else 0,
    )
    if not native:
        out = {
            "native_bf16": False,
            "train_speedup": round(t["fp32"] / t["bf16"], 3),
            "train_ex_s": {k: round(16 / v, 2) for k, v in t.items()},
            "skipped": "inference and F1: this CPU has no native bf16 (AVX-512 BF16 / AMX), "
            "autocast emulates it; the cpu profile trains in fp32",
        }
        print(out, flush=True)
        return out
    ids64, mask64 = batch(64, 128)
    m32.eval()

    def infer(on):
        def f():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=on):
                m32(ids64, mask64)

        return f

    ti = interleaved({"fp32": infer(False), "bf16": infer(True)}, reps=3, steps=2)
    out = {
        "train_speedup": round(t["fp32"] / t["bf16"], 3),
        "infer_speedup": round(ti["fp32"] / ti["bf16"], 3),
        "train_ex_s": {k: round(16 / v, 2) for k, v in t.items()},
        "infer_ex_s": {k: round(64 / v, 2) for k, v in ti.items()},
    }
    from htclib.method.models import ModelConfig
    from htclib.training.experiment import DataConfig, RunConfig, run
    from htclib.training.train import TrainConfig

    f1 = {}
    n = 400 if quick else 1600
    with tempfile.TemporaryDirectory() as tmp:
        for name, flag in (("fp32", False), ("bf16", True)):
            cfg = RunConfig(
                f"bench-{name}",
                DataConfig("amazon3", n_train=n, n_dev=300, n_test=600),
                ModelConfig("spp"),
                TrainConfig(max_epochs=2, max_length=32, bf16=flag),
            )
            r = run(cfg, tmp, progress=False)
            f1[name] = {
                "micro_f1": round(100 * r["test"]["best_path/micro_f1"], 2),
                "macro_f1": round(100 * r["test"]["best_path/macro_f1"], 2),
                "train_ex_s": round(r["train_examples_per_s"], 1),
            }
    out["f1"] = f1
    out["f1_diff_points"] = round(f1["bf16"]["micro_f1"] - f1["fp32"]["micro_f1"], 2)
    out["f1_setup"] = (
        f"amazon3, {n} train titles, max length 32, 2 epochs, 600 test titles, best-path micro-F1"
    )
    print(out, flush=True)
    return out


def padding(quick: bool) -> dict:
    """3. Dynamic padding + length bucketing vs fixed max length on real WoS lengths (SPP training)."""
    from htclib import data
    from htclib.data import tokens
    from htclib.method.encoders import load_encoder
    from htclib.training.train import collate, make_batches, token_rows

    tok, enc = load_encoder("minilm")
    ds = data.load("wos")
    tds = tokens.tokenize(ds.train.texts, tok, 256)
    rows, lengths = token_rows(tds), np.asarray(tds["length"])
    model = SPP(enc)
    n_batches = 4 if quick else 8
    plans = {
        "fixed_256": [(b, 256) for b in make_batches(lengths, 16, seed=0)[:n_batches]],
        "dynamic": [(b, None) for b in make_batches(lengths, 16, seed=0)[:n_batches]],
        "dynamic_bucketed": [
            (b, None) for b in make_batches(lengths, 16, seed=0, bucketing=True)[:n_batches]
        ],
    }
    out = {
        "median_tokens": float(np.median(lengths)),
        "share_truncated_at_256": float((lengths >= 256).mean()),
    }
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()

    def run(plan):
        def f():
            for idx, pad in plan:
                ids, mask = collate(rows, idx, tok.pad_token_id, pad)
                loss = model(ids, mask).float().pow(2).mean()
                loss.backward()
                opt.step()
                opt.zero_grad()

        return f

    t = interleaved({k: run(v) for k, v in plans.items()}, reps=2, steps=1, warmup=0)
    for k, plan in plans.items():
        n_ex = sum(len(b) for b, _ in plan)
        real = sum(int(lengths[b].sum()) for b, _ in plan)
        out[k] = {"ex_s": round(n_ex / t[k], 2), "real_tokens_s": round(real / t[k], 1)}
    out["dynamic_over_fixed"] = round(out["dynamic"]["ex_s"] / out["fixed_256"]["ex_s"], 3)
    out["bucketed_over_fixed"] = round(
        out["dynamic_bucketed"]["ex_s"] / out["fixed_256"]["ex_s"], 3
    )
    print(out, flush=True)
    return out


def serving(quick: bool) -> dict:
    """4. Multi-prefix batched inference vs one pass per prefix vs a single-prefix batch."""
    from htclib.method.prefix import (
        PrefixConfig,
        PrefixEncoder,
        encode,
        expand_prefix,
        stack_prefixes,
    )

    enc = encoder("minilm").eval()
    prefixes = [PrefixEncoder(PrefixConfig(length=p), enc)().detach() for p in (10, 20, 30)]
    n = 48
    ids, mask = batch(n, 128)
    level = torch.arange(n) % 3
    stacked, pmask = stack_prefixes(prefixes)

    def mixed():
        with torch.no_grad():
            encode(enc, ids, mask, stacked[level].permute(1, 2, 0, 3, 4, 5), pmask[level])

    def per_prefix():
        with torch.no_grad():
            for lv, p in enumerate(prefixes):
                rows = level == lv
                encode(enc, ids[rows], mask[rows], expand_prefix(p, int(rows.sum())))

    def single():
        with torch.no_grad():
            encode(enc, ids, mask, expand_prefix(prefixes[1], n))

    t = interleaved(
        {"mixed": mixed, "per_prefix": per_prefix, "single_prefix": single}, reps=3, steps=2
    )
    out = {k: round(n / v, 2) for k, v in t.items()}
    out = {
        "pairs_s": out,
        "mixed_over_single": round(out["mixed"] / out["single_prefix"], 3),
        "mixed_over_per_prefix": round(out["mixed"] / out["per_prefix"], 3),
        "setup": "MiniLM, 48 (text, level) pairs of 128 tokens, prefixes 10/20/30; single = one P=20 prefix",
    }
    print(out, flush=True)
    return out


def _flop_per_cycle() -> tuple[int, str]:
    """fp32 FLOP per cycle per core from the vector ISA: two FMA units x lanes x 2."""
    return {
        "AVX-512": (64, "AVX-512: 2 FMA x 16 fp32 lanes x 2"),
        "AVX2": (32, "AVX2: 2 FMA x 8 fp32 lanes x 2"),
        "unknown": (0, "unknown ISA"),
    }.get(vector_isa(cpu_flags()), (0, "no AVX2"))


def utilisation(quick: bool, n_rounds: int | None = None) -> dict:
    """5. FLOP/s of the SPP training step (torch's FlopCounterMode) against the measured matmul
    peak, and what each lever changes (all timed interleaved in this one run; ``n_rounds``
    interleaved rounds, 5 by default)."""
    from htclib.method.prefix import cls_only_last_layer

    enc = encoder("minilm")
    threads = torch.get_num_threads()
    # name: (batch, encoder dropout, last layer for [CLS] only, threads, dropout masks: htclib's
    # "rand" (the models'), "words" (the cheaper-draw lever) or None (torch's nn.Dropout))
    setups = {
        "base: batch 16, encoder dropout on, [CLS]-only last layer": (
            16,
            True,
            True,
            threads,
            "rand",
        ),
        "full last layer": (16, True, False, threads, "rand"),
        "torch's dropout masks (bernoulli_, SDPA math)": (16, True, True, threads, None),
        "masks from 64-bit random words (4 draws each)": (16, True, True, threads, "words"),
        "no encoder dropout (htclib's recipe until 2026-11-30)": (16, False, True, threads, "rand"),
        "batch 32": (32, True, True, threads, "rand"),
        "batch 32, no encoder dropout": (32, False, True, threads, "rand"),
        # the cheaper masks with the bigger batches, dropout on: levers a user combines
        # (ModelConfig.dropout_masks, TrainConfig.batch_size) without changing the model
        "batch 32, word masks": (32, True, True, threads, "words"),
        "batch 48 (the paper's)": (48, True, True, threads, "rand"),
        "batch 48, word masks": (48, True, True, threads, "words"),
    }
    if threads > 1 and not quick:
        setups["1 thread (per-core efficiency)"] = (16, True, True, 1, "rand")

    def make(bs, dropout, cls_only, masks):
        ids, mask = batch(bs, 128)
        model = SPP(
            copy.deepcopy(enc),
            encoder_dropout=dropout,
            fast_dropout=masks is not None,
            masks=masks or "rand",
        )
        inner = train_step_fn(model, ids, mask)

        def step():
            with cls_only_last_layer(model.enc, cls_only):
                inner()

        return step

    steps, flops = {}, {}
    for name, (bs, dropout, cls_only, _, masks) in setups.items():
        steps[name] = make(bs, dropout, cls_only, masks)
        flops[name] = step_flops(steps[name])

    def timed(fn, n):
        def f():
            torch.set_num_threads(n)
            try:
                fn()
            finally:
                torch.set_num_threads(threads)

        return f

    # The matmul peak is timed right before each step, in every round: between two quiet runs
    # it moved by 30% (78.8 vs 112.8 GFLOP/s) and within one run a round's shares spread
    # 0.34-0.84 when one matmul per round served every step (2026-12-07), so a share is only
    # meaningful against the peak of the same moment. Each round gives each step one share
    # against its own matmul; the table gives their median and range.
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    mm_flops = 2 * 2048**3
    counts = sorted({v[3] for v in setups.values()})
    fns = {}
    for k in steps:
        fns[f"mm@{k}"] = timed(lambda: a @ b, setups[k][3])
        fns[k] = timed(steps[k], setups[k][3])
    reps = n_rounds or (3 if quick else 5)
    rounds = interleaved_rounds(fns, reps=reps, steps=2 if quick else 3)
    t = {k: float(np.median(v)) for k, v in rounds.items()}
    peaks = {
        n: mm_flops
        / float(np.median([x for k in steps if setups[k][3] == n for x in rounds[f"mm@{k}"]]))
        for n in counts
    }
    mhz = None
    try:
        mhz = max(
            float(line.split(":")[1])
            for line in open("/proc/cpuinfo")
            if line.startswith("cpu MHz")
        )
    except (OSError, ValueError):
        pass
    per_cycle, isa = _flop_per_cycle()
    theo = threads * mhz * 1e6 * per_cycle if (mhz and per_cycle) else None
    base = next(iter(setups))
    rows = []
    for name, (bs, _, _, n, _) in setups.items():
        rate = flops[name] / t[name]
        shares = [
            (flops[name] / ts) / (mm_flops / tm)
            for ts, tm in zip(rounds[name], rounds[f"mm@{name}"], strict=True)
        ]
        rows.append(
            {
                "setup": name,
                "threads": n,
                "batch": bs,
                "step_gflop": round(flops[name] / 1e9, 1),
                "step_seconds": round(t[name], 4),
                "ex_s": round(bs / t[name], 2),
                "gflops": round(rate / 1e9, 1),
                # the median of the step's shares against the matmul timed right before it
                "share_of_matmul_peak": round(float(np.median(shares)), 3),
                # lowest and highest of those shares over the rounds
                "share_rounds": [
                    round(min(shares), 3),
                    round(max(shares), 3),
                ],
                "ex_s_over_base": round((bs / t[name]) / (setups[base][0] / t[base]), 3),
            }
        )
    out = {
        "rounds": reps,
        "rows": rows,
        "matmul_peak_gflops": {n: round(v / 1e9, 1) for n, v in peaks.items()},
        "theoretical_gflops": round(theo / 1e9, 1) if theo else None,
        "peak_note": f"matmul peak = fp32 2048x2048 torch.mm at that thread count; theoretical = "
        f"{threads} threads x {mhz} MHz x {per_cycle} FLOP/cycle ({isa})",
    }
    print(out, flush=True)
    return out


def sizes(quick: bool) -> list[dict]:
    """6. Artifact bytes: prefix + head vs the full fine-tuned checkpoint."""
    from htclib import data
    from htclib.method.models import ModelConfig, build_model
    from htclib.method.prefix import PrefixConfig
    from htclib.training.artifacts import artifact_bytes, save_artifact

    h = data.load("wos").hierarchy
    enc = encoder("minilm")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in (
            ("cls", ModelConfig("cls")),
            ("spp P=10", ModelConfig("spp", prefix=PrefixConfig(length=10))),
            ("spp P=30", ModelConfig("spp", prefix=PrefixConfig(length=30))),
            ("local 10/20", ModelConfig("local", level_lengths=[10, 20])),
        ):
            m = build_model(cfg, h, copy.deepcopy(enc))
            folder = save_artifact(m, Path(tmp) / name.replace(" ", "_").replace("/", "-"))
            rows.append({"model": name, "bytes": artifact_bytes(folder)})
    full = rows[0]["bytes"]
    for r in rows:
        r["share_of_full_pct"] = round(100 * r["bytes"] / full, 3)
    print(rows, flush=True)
    return rows


def time_to_accuracy(quick: bool) -> dict:
    """7. Epochs and seconds until the dev headline first reaches 95% of CLS-tuning's best:
    epochs from the cpu records (and ablation records), seconds from one epoch of each model
    timed here (skipped with --quick)."""
    from benchmarks.time_to_accuracy import time_to_accuracy as tta
    from benchmarks.time_to_accuracy import with_quiet_seconds

    dirs = [HERE.parent / "results" / name for name in ("cpu", "ablations")]
    dirs = [d for d in dirs if d.exists()]  # the table names only the folders it read
    rows = tta(dirs, "wos", 0.95)
    if not quick:
        rows = with_quiet_seconds(rows)
    for r in rows:
        r.pop("config")
    out = {"results": [str(d.relative_to(HERE.parent)) for d in dirs], "rows": rows}
    print(out, flush=True)
    return out


def machine_line(m: dict) -> str:
    """The header's machine facts; runs recorded before the ISA was kept say so."""
    bf16 = {True: "yes", False: "no"}.get(m.get("native_bf16"), "not recorded")
    return (
        f"{m['cpu']} ({m.get('isa', 'ISA not recorded')}, native bf16: {bf16}), {m['cores']} "
        f"cores ({m['torch_threads']} torch threads), torch {m['torch']}, transformers "
        f"{m['transformers']}, Python {m['python']}"
    )


def write_markdown(res: dict, path: Path) -> None:
    L = [
        f"# Benchmarks (`{res['command']}`)",
        "",
        f"Machine: {machine_line(res['machine'])}. Run on {res['date']} in {res['seconds']:.0f} s. "
        "Each section times its variants interleaved in one process; medians of repetitions.",
        "",
        "## 1. Training step throughput (batch 16, examples/s)",
        "",
        "SPP = htclib's prefix path with the frozen encoder's dropout on (htclib's recipe since "
        "2026-11-30, and PEFT's: like for like), its masks drawn as htclib's models draw them "
        "(htclib.method.dropout: rand >= p, the same Bernoulli masks; PEFT keeps torch's bernoulli_); "
        "dropout off = the same with the frozen encoder in eval mode (htclib's recipe until "
        "2026-11-30: no dropout masks). Both compute the last layer for [CLS] only (exact). "
        "CLS = htclib's CLS-tuning (its dropout drawn the same way).",
        "",
        "| encoder | seq | CLS | SPP | SPP, dropout off | PEFT prefix | SPP/CLS | SPP/PEFT "
        "| per round | FLOPs PEFT/SPP | dropout off/PEFT |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["throughput"]:
        lo_hi = r.get("spp_over_peft_rounds")
        L.append(
            f"| {r['encoder']} | {r['seq']} | {r['cls_ex_s']} | {r['spp_ex_s']} | "
            f"{r.get('spp_htclib_ex_s', '')} | {r['peft_ex_s']} | {r['spp_over_cls']} | "
            f"**{r['spp_over_peft']}** | {f'{lo_hi[0]}-{lo_hi[1]}' if lo_hi else ''} | "
            f"{r.get('peft_over_spp_flops', '')} | {r.get('spp_htclib_over_peft', '')} |"
        )
    b = res["bf16"]
    L += [
        "",
        "Goal: SPP >= 1.1x PEFT at every shape. SPP/PEFT is the ratio of medians over the "
        "interleaved rounds; *per round* is the lowest and highest ratio within one round; "
        "*FLOPs PEFT/SPP* (torch's FlopCounterMode, one step) is what the same matmuls minus "
        "the ones htclib skips would give if time followed FLOPs alone.",
        "",
        "## 2. bf16 autocast vs fp32 (MiniLM, SPP)",
        "",
        f"- training step (batch 16, seq 128): {b['train_ex_s']} ex/s -> **{b['train_speedup']}x**",
    ]
    if "skipped" in b:
        L += [f"- skipped: {b['skipped']} (one step each timed above).", ""]
    else:
        L += [
            f"- inference (batch 64, seq 128): {b['infer_ex_s']} ex/s -> **{b['infer_speedup']}x**",
            f"- F1 ({b['f1_setup']}): fp32 {b['f1']['fp32']}, bf16 {b['f1']['bf16']}; "
            f"difference {b['f1_diff_points']} micro-F1 points",
            "",
            "Goal: >= 1.6x with F1 within 0.3 points.",
            "",
        ]
    L += [
        "## 3. Padding (SPP training on real WoS abstracts, max length 256)",
        "",
    ]
    p = res["padding"]
    L += [
        f"Median length {p['median_tokens']:.0f} tokens; {100 * p['share_truncated_at_256']:.0f}% reach 256.",
        "",
        "| batching | examples/s | real tokens/s |",
        "|---|---|---|",
    ]
    for k in ("fixed_256", "dynamic", "dynamic_bucketed"):
        L.append(f"| {k} | {p[k]['ex_s']} | {p[k]['real_tokens_s']} |")
    L += [
        "",
        f"dynamic / fixed: {p['dynamic_over_fixed']}x; bucketed / fixed: {p['bucketed_over_fixed']}x.",
        "",
        "## 4. Serving several prefixes",
        "",
        res["serving"]["setup"] + ".",
        "",
        "| mode | (text, level) pairs/s |",
        "|---|---|",
    ]
    for k, v in res["serving"]["pairs_s"].items():
        L.append(f"| {k} | {v} |")
    u = res["utilisation"]
    L += [
        "",
        f"mixed / single-prefix batch: **{res['serving']['mixed_over_single']}x** (goal >= 0.9x); "
        f"mixed / one pass per prefix: {res['serving']['mixed_over_per_prefix']}x.",
        "",
        *utilisation_markdown(u),
        "## 6. Artifact size (MiniLM, WoS labels)",
        "",
        "| model | bytes | % of full checkpoint |",
        "|---|---|---|",
    ]
    for r in res["sizes"]:
        L.append(f"| {r['model']} | {r['bytes']:,} | {r['share_of_full_pct']} |")
    L += ["", *tta_markdown(res["time_to_accuracy"])]
    # The goals verdict and the "why" below it are written by a person after reading the
    # numbers; a rerun replaces the measured sections and keeps that part for them to revise.
    kept = ""
    if path.exists():
        old = path.read_text()
        at = old.find(GOALS_HEADING)
        kept = old[at:] if at >= 0 else ""
    path.write_text("\n".join(L) + "\n" + ("\n" + kept if kept else ""))


UTIL_HEADING = "## 5. Utilisation (SPP training step, MiniLM, seq 128, fp32)"


def utilisation_markdown(u: dict, note: str = "") -> list[str]:
    """Section 5 of BENCHMARKS.md from the utilisation results (ends with a blank line)."""
    return [
        UTIL_HEADING,
        "",
        *([note, ""] if note else []),
        "FLOPs per step counted by torch's FlopCounterMode (forward + backward); share = achieved "
        "FLOP/s over the measured fp32 matmul peak at the same thread count, "
        + (
            f"a matmul timed right before each step in each of {u['rounds']} interleaved rounds "
            "(share: the median of the step's shares against its own matmul; per round: their "
            "lowest-highest) "
            if "rounds" in u  # runs before 2026-12-07's second: one matmul per round for all
            else "the matmul timed in the same interleaved rounds as the steps (share: median; "
            "per round: lowest-highest of the round-by-round shares) "
        )
        + "(matmul peak, median "
        + ", ".join(f"{v} GFLOP/s on {k} thread(s)" for k, v in u["matmul_peak_gflops"].items())
        + f"; theoretical {u['theoretical_gflops']} GFLOP/s: {u['peak_note']}).",
        "",
        "| setup | threads | batch | GFLOP/step | s/step | examples/s | GFLOP/s | share of peak "
        "| per round | examples/s vs base |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['setup']} | {r['threads']} | {r['batch']} | {r['step_gflop']} | {r['step_seconds']} | "
            f"{r['ex_s']} | {r['gflops']} | **{r['share_of_matmul_peak']}** | "
            f"{_range(r.get('share_rounds')).strip(' ()')} | {r['ex_s_over_base']} |"
            for r in u["rows"]
        ],
        "",
    ]


TTA_HEADING = "## 7. Time to accuracy (wos)"
GOALS_HEADING = "## Goals: met or missed"


def tta_markdown(ta: dict, note: str = "") -> list[str]:
    """Section 7 of BENCHMARKS.md from the time-to-accuracy results."""
    from benchmarks.time_to_accuracy import epochs_text

    return [
        TTA_HEADING,
        "",
        *([note, ""] if note else []),
        "Until the dev headline micro-F1 first reaches 95% of CLS-tuning's best dev score with the "
        f"same seed. Epochs from the run histories in {' and '.join(f'`{d}`' for d in ta['results'])} "
        "(`benchmarks/time_to_accuracy.py`; exact, the load on the machine does not change a "
        "run's scores). Quiet seconds: epochs of each model (training + dev scoring, "
        "`experiment.run` with one epoch, 2 threads) timed in this run on a quiet machine, the "
        "models interleaved over rounds; the median times the epochs to target (range: the "
        "fastest and slowest epoch timed). Grid seconds: as the grid recorded them, "
        "two or three runs side by side on one thread each (compare across rows only roughly). "
        "Local models train level by level, each to its early stop: their whole dev score "
        "exists once the last level trains (the upper levels' headline counts at their kept "
        "epoch plus the last level's), and every epoch of the upper levels counts toward the "
        "time (epochs to target: total (per level)). Local records trained before the levels "
        "kept those counts have no row.",
        "",
        "| model | seed | target dev Mi-F1 | epochs to target | quiet s/epoch (range) | quiet seconds to target | grid seconds to target | best dev Mi-F1 | epochs run |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['model']} | {r['seed']} | {r['target_dev_mi_f1']} | {epochs_text(r)} | "
            f"{r.get('epoch_seconds_quiet', '-')}{_range(r.get('epoch_seconds_quiet_range'))} | "
            f"**{r.get('seconds_to_target_quiet', '-')}** | "
            f"{r['seconds_to_target'] or '-'} | {r['best_dev_mi_f1']} | {r['epochs_run']} |"
            for r in ta["rows"]
        ],
    ]


def splice_section(path: Path, heading: str, lines: list[str]) -> None:
    """Replace the section under ``heading`` of an existing BENCHMARKS.md (up to the next
    section, at the latest the goals) with ``lines``; every other section stays as written."""
    old = path.read_text()
    at, end = old.find(heading), old.find(GOALS_HEADING)
    # up to the next section (e.g. a "7b" run of a few rows, kept), at the latest the goals
    nxt = old.find("\n## ", at + 1) + 1 if at >= 0 else 0
    if 0 < nxt < end:
        end = nxt
    if at < 0 or end < at:
        raise ValueError(f"{path}: no '{heading}' before '{GOALS_HEADING}' to replace")
    path.write_text(old[:at] + "\n".join(lines).rstrip("\n") + "\n\n" + old[end:])


def _rerun_note(res: dict, section: str, others: str) -> str:
    command = res.get("command") or f"python -m benchmarks.run_all --only {section}"
    return (
        f"*This section alone was rerun on {res['date']} in {res['seconds']:.0f} s "
        f"(`{command}`, results in `benchmarks/results/quick.json`); {others} are the "
        "full run's.*"
    )


def splice_tta(res: dict, path: Path) -> None:
    """Replace section 7 of an existing BENCHMARKS.md with a time-to-accuracy run of its own
    (``--only time_to_accuracy``: new records, ~10 minutes instead of the full run's ~30),
    saying so, and keep every other section as its full run wrote it."""
    note = _rerun_note(res, "time_to_accuracy", "sections 1-6")
    splice_section(path, TTA_HEADING, tta_markdown(res["time_to_accuracy"], note))


def splice_utilisation(res: dict, path: Path) -> None:
    """The same for section 5 (``--only utilisation``, e.g. with more ``--rounds``)."""
    note = _rerun_note(res, "utilisation", "sections 1-4, 6 and 7")
    splice_section(path, UTIL_HEADING, utilisation_markdown(res["utilisation"], note))


def _range(lo_hi) -> str:
    return f" ({lo_hi[0]}-{lo_hi[1]})" if lo_hi else ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="MiniLM only, fewer steps (a check that it runs)"
    )
    ap.add_argument(
        "--only",
        nargs="+",
        metavar="SECTION",
        help="run these sections only (throughput bf16 padding serving utilisation sizes "
        "time_to_accuracy); BENCHMARKS.md is written by full runs, its section 5 by --only "
        "utilisation and its section 7 by --only time_to_accuracy",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="interleaved rounds of section 5 (utilisation; default 5): more resolve its "
        "shares better on a machine whose speed moves",
    )
    args = ap.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        ap.error(f"--rounds must be >= 1, got {args.rounds}")
    torch.manual_seed(0)
    t0 = time.perf_counter()
    res = {
        "command": "python -m benchmarks.run_all"
        + (" --quick" if args.quick else "")
        + (f" --only {' '.join(args.only)}" if args.only else "")
        + (f" --rounds {args.rounds}" if args.rounds else ""),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    for name, fn in (
        ("throughput", throughput),
        ("bf16", bf16),
        ("padding", padding),
        ("serving", serving),
        ("utilisation", utilisation),
        ("sizes", sizes),
        ("time_to_accuracy", time_to_accuracy),
    ):
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        res[name] = fn(args.quick, args.rounds) if name == "utilisation" else fn(args.quick)
    res["seconds"] = time.perf_counter() - t0
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / ("quick.json" if args.quick or args.only else "latest.json")).write_text(
        json.dumps(res, indent=2) + "\n"
    )
    if not args.quick and not args.only:
        write_markdown(res, HERE / "BENCHMARKS.md")
    elif not args.quick and args.only == ["time_to_accuracy"]:
        splice_tta(res, HERE / "BENCHMARKS.md")
    elif not args.quick and args.only == ["utilisation"]:
        splice_utilisation(res, HERE / "BENCHMARKS.md")
    print(f"done in {res['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
