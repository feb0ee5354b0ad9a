"""Serving several tasks from one frozen encoder: deep prefixes against LoRA adapters.

``python -m benchmarks.peft_serving [--tasks K] [--reps N]`` builds K tasks on MiniLM, each with
a P=30 deep prefix and a LoRA adapter of the same trained share (rank 15 on query and value),
and times one batch of 48 texts x 128 tokens whose rows belong to the K tasks in turn:

- prefixes mixed in one pass (``stack_prefixes`` + ``encode``: what ``PrefixServer`` does);
- the same batch with one prefix for every row (the single-task cost of a prefix);
- LoRA adapters mixed in one pass (PEFT's ``adapter_names=``, unmerged);
- LoRA one pass per adapter (``set_adapter``, each task's rows alone);
- LoRA merged into the weights (one task; K tasks need K encoder copies), which costs what
  the frozen encoder costs: timed as the bare encoder;
- the bare encoder through the prefix path with no prefix (what the P keys and values add).

Before timing it checks that each mixed pass equals its per-task passes (the rows of task k
get task k's output), so the fast path is also the right one. Interleaved rounds, one thread,
median; writes ``benchmarks/results/peft_serving.md``. The ratios carry to other machines,
the milliseconds do not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "results" / "peft_serving.md"
N_TEXTS, LENGTH, P, RANK = 48, 128, 30, 15


def build(n_tasks: int, seed: int = 0, make_encoder=None):
    """The frozen encoder, K prefixes (PrefixEncoder outputs) and a PEFT model with K LoRA
    adapters whose B matrices are random (PEFT starts them at 0, which would hide a wrong
    adapter choice in the equality check)."""
    import peft

    from benchmarks.common import encoder
    from htclib.method.prefix import PrefixConfig, PrefixEncoder

    make_encoder = make_encoder or (lambda: encoder("minilm"))
    torch.manual_seed(seed)
    enc = make_encoder().eval()
    prefixes = [PrefixEncoder(PrefixConfig(length=P), enc)().detach() for _ in range(n_tasks)]
    torch.manual_seed(seed)  # the same weights under the adapters (a tiny random test encoder)
    lora_base = make_encoder().eval()
    cfg = peft.LoraConfig(r=RANK, lora_alpha=RANK, target_modules=["query", "value"])
    lora = peft.get_peft_model(lora_base, cfg, adapter_name="t0")
    for k in range(1, n_tasks):
        lora.add_adapter(f"t{k}", cfg)
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    return enc, prefixes, lora.eval()


def passes(enc, prefixes, lora, ids, mask):
    """The five ways to serve the batch, each a function returning the [CLS] states."""
    from htclib.method.prefix import encode, expand_prefix, stack_prefixes

    n_tasks = len(prefixes)
    task = torch.arange(ids.shape[0]) % n_tasks
    stacked, pmask = stack_prefixes(prefixes)
    names = [f"t{int(t)}" for t in task]

    def prefix_mixed():
        kv = stacked[task].permute(1, 2, 0, 3, 4, 5)
        return encode(enc, ids, mask, kv, pmask[task])

    def prefix_single():
        return encode(enc, ids, mask, expand_prefix(prefixes[0], ids.shape[0]))

    def lora_mixed():
        return lora(input_ids=ids, attention_mask=mask, adapter_names=names).last_hidden_state[:, 0]

    def lora_per_task():
        out = torch.empty(ids.shape[0], enc.config.hidden_size)
        for k in range(n_tasks):
            rows = task == k
            lora.set_adapter(f"t{k}")
            out[rows] = lora(input_ids=ids[rows], attention_mask=mask[rows]).last_hidden_state[:, 0]
        return out

    def merged():  # a merged LoRA is a plain encoder with other weights: the same cost
        return enc(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]

    def no_prefix():  # the prefixes' own path with nothing prepended: their added cost
        return encode(enc, ids, mask)

    return {
        "prefixes mixed, one pass": prefix_mixed,
        "one prefix for every row": prefix_single,
        "LoRA adapters mixed, one pass (unmerged)": lora_mixed,
        "LoRA one pass per adapter (unmerged)": lora_per_task,
        "LoRA merged (one task; the frozen encoder's cost)": merged,
        "frozen encoder through the prefix path, no prefix": no_prefix,
    }, task


def check(fns: dict, prefixes, enc, ids, mask, task) -> float:
    """Largest difference between each mixed pass and its per-task passes (must be ~0)."""
    from htclib.method.prefix import encode, expand_prefix

    names = list(fns)
    with torch.no_grad():
        mixed_p = fns[names[0]]()
        per_p = torch.empty_like(mixed_p)
        for k, p in enumerate(prefixes):
            rows = task == k
            per_p[rows] = encode(enc, ids[rows], mask[rows], expand_prefix(p, int(rows.sum())))
        lora_mix, lora_per = fns[names[2]](), fns[names[3]]()
        bare = fns[names[4]]()
    # not vacuous: the adapters and prefixes change the states, and differ between tasks
    for out in (mixed_p, lora_mix):
        if (out - bare).abs().max() < 1e-3 or (
            out[task == 0][0] - out[task == 1][0]
        ).abs().max() < 1e-3:
            raise AssertionError("the tasks' adapters or prefixes do not change the output")
    worst = max((mixed_p - per_p).abs().max().item(), (lora_mix - lora_per).abs().max().item())
    if worst > 1e-4:
        raise AssertionError(f"a mixed pass differs from its per-task passes by {worst:.2e}")
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.peft_serving")
    ap.add_argument("--tasks", type=int, default=3, help="tasks served from one encoder")
    ap.add_argument("--reps", type=int, default=5, help="interleaved timed rounds")
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.reps < 1:
        ap.error("--tasks and --reps must be >= 1")
    torch.set_num_threads(1)
    from benchmarks.common import batch, interleaved, machine

    enc, prefixes, lora = build(args.tasks)
    ids, mask = batch(N_TEXTS, LENGTH)
    fns, task = passes(enc, prefixes, lora, ids, mask)
    worst = check(fns, prefixes, enc, ids, mask, task)

    def timed(f):
        def run():
            with torch.no_grad():
                f()

        return run

    t = interleaved({k: timed(f) for k, f in fns.items()}, reps=args.reps, steps=1)
    ref = t["prefixes mixed, one pass"]
    m = machine()
    lines = [
        "# Serving several tasks from one encoder (generated by `python -m benchmarks.peft_serving`)",
        "",
        f"MiniLM, one thread, {args.reps} interleaved rounds (median). One batch of {N_TEXTS} "
        f"texts x {LENGTH} tokens, rows assigned to {args.tasks} tasks in turn; each task has a "
        f"P={P} deep prefix and a LoRA adapter of the same trained share (rank {RANK} on query "
        f"and value). Machine: {m['cpu']} ({m['isa']}). Each mixed pass equals its per-task "
        f"passes (largest difference {worst:.1e}).",
        "",
        "| serving | texts / s | time vs mixed prefixes | time vs its path with nothing added |",
        "|---|---|---|---|",
    ]
    # each method against its own implementation with nothing added: the prefixes run through
    # htclib's encode, LoRA through transformers' BertModel forward (the two bare paths differ)
    bare = {k: "frozen encoder through the prefix path, no prefix" if "prefix" in k
            else "LoRA merged (one task; the frozen encoder's cost)" for k in t}  # fmt: skip
    for k, v in t.items():
        lines.append(f"| {k} | {N_TEXTS / v:.1f} | {v / ref:.2f} | {v / t[bare[k]]:.2f} |")
    speed = (
        t["LoRA merged (one task; the frozen encoder's cost)"] / t[bare["one prefix for every row"]]
    )
    lines += [
        "",
        f"The two bare paths differ: htclib's `encode` runs the frozen encoder {speed:.2f}x as fast "
        "as transformers' `BertModel` forward here, so each method's added cost is read against "
        "its own path (last column).",
        "",
        "A merged LoRA adds nothing at inference, but one merged copy of the encoder serves one "
        f"task: {args.tasks} tasks need {args.tasks} copies ({args.tasks} x "
        f"{sum(p.numel() for p in enc.parameters()) * 4 / 1e6:.0f} MB in fp32). Unmerged, the "
        "adapters share one encoder and PEFT mixes them in a batch by splitting each LoRA layer's "
        "rows per adapter; prefixes mix by concatenating each row's own keys and values.",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
