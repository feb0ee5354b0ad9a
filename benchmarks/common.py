"""Shared helpers for the benchmarks: models, timing (interleaved repetitions, median), machine facts."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from htclib.method.dropout import use_fast_dropout
from htclib.method.prefix import PrefixConfig, PrefixEncoder, encode
from htclib.training.provenance import cpu_flags, cpuinfo, vector_isa


def machine() -> dict:
    """Machine facts for the header. The ISA and native bf16 are there because the machine
    behind one name ("AMD EPYC", 2 cores) has been AVX2-only in some sessions and AVX-512 with
    native bf16 in others: numbers from the two compare only within themselves."""
    import transformers

    from htclib.training.precision import native_bf16

    return {
        "cpu": cpuinfo("model name") or "unknown",
        "isa": vector_isa(cpu_flags()),
        "native_bf16": native_bf16("cpu"),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def encoder(kind: str) -> nn.Module:
    """``minilm`` (the real packaged weights) or ``bert-base`` (random, BERT-base sized)."""
    if kind == "minilm":
        from htclib.method.encoders import load_encoder

        return load_encoder("minilm")[1]
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    return BertModel(BertConfig(), add_pooling_layer=False)


class SPP(nn.Module):
    """htclib's prefix path. ``encoder_dropout=True`` keeps the frozen encoder's dropout on in
    training (P-tuning v2 and PEFT do, and htclib's recipe since 2026-11-30); False: the frozen
    encoder in eval mode, no dropout masks to draw (htclib's recipe until then).
    ``fast_dropout`` draws the masks as htclib's models do (:mod:`htclib.method.dropout`; ``masks``:
    its mask kind, "words" the cheaper-draw lever); False keeps torch's stock dropout."""

    def __init__(
        self, enc, n_labels=141, length=20, encoder_dropout=True, fast_dropout=True, masks="rand"
    ):
        super().__init__()
        self.enc = use_fast_dropout(enc, masks) if fast_dropout else enc
        for p in enc.parameters():
            p.requires_grad_(False)
        self.prefix = PrefixEncoder(PrefixConfig(length=length), enc)
        self.head = nn.Linear(enc.config.hidden_size, n_labels)
        self.encoder_dropout = encoder_dropout

    def train(self, mode: bool = True):
        super().train(mode)
        self.enc.train(mode and self.encoder_dropout)
        return self

    def forward(self, ids, mask):
        return self.head(encode(self.enc, ids, mask, self.prefix()))


class CLS(nn.Module):
    def __init__(self, enc, n_labels=141):
        super().__init__()
        self.enc = use_fast_dropout(enc)  # as htclib's CLSTuning
        self.head = nn.Linear(enc.config.hidden_size, n_labels)

    def forward(self, ids, mask):
        return self.head(encode(self.enc, ids, mask))


class PEFTPrefix(nn.Module):
    """PEFT 0.21.2 prefix tuning (feature extraction) + the same linear head."""

    def __init__(self, enc, n_labels=141, length=20):
        super().__init__()
        import peft

        cfg = peft.PrefixTuningConfig(
            task_type=peft.TaskType.FEATURE_EXTRACTION, num_virtual_tokens=length
        )
        self.enc = peft.get_peft_model(enc, cfg)
        self.head = nn.Linear(enc.config.hidden_size, n_labels)

    def forward(self, ids, mask):
        return self.head(self.enc(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0])


def batch(batch_size: int, seq: int, vocab: int = 30000, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1000, vocab, (batch_size, seq), generator=g), torch.ones(
        batch_size, seq, dtype=torch.long
    )


def train_step_fn(model: nn.Module, ids, mask, bf16: bool = False) -> Callable[[], None]:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    target = torch.zeros(ids.shape[0], model.head.out_features)
    model.train()

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(ids, mask)
        loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), target)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def interleaved_rounds(
    fns: dict[str, Callable[[], None]], reps: int = 3, steps: int = 2, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each function in each of ``reps`` interleaved rounds (drift hits all;
    a ratio taken within a round compares the two under the same machine state)."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                f()
            times[k].append((time.perf_counter() - t0) / steps)
    return times


def interleaved(
    fns: dict[str, Callable[[], None]], reps: int = 3, steps: int = 2, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per call of each function, timed in interleaved rounds (drift hits all)."""
    rounds = interleaved_rounds(fns, reps, steps, warmup)
    return {k: statistics.median(v) for k, v in rounds.items()}


def step_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call (torch's FlopCounterMode: matmuls and attention), which also runs it."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        step()
    return fc.get_total_flops()
