"""Which arithmetic a run trains and predicts in, on the device it finds.

``TrainConfig.mixed_precision``: ``"no"`` (fp32), ``"bf16"`` (bf16 autocast), ``"fp16"`` (fp16
autocast with a gradient scaler: CUDA only), or ``"auto"``: bf16 where the device does it
natively (a CUDA GPU that supports it, a CPU with AVX-512 BF16 or AMX), fp16 with a gradient
scaler on a CUDA GPU without bf16 (V100, T4), fp32 elsewhere (emulated bf16 on an AVX2-only
CPU is ~18x slower per step). ``None`` keeps the older switch: ``bf16``. The resolved mode is
what the run records; a profile meant for any machine says ``"auto"``.

Batches move to a GPU from pinned memory without blocking (:func:`to_device`). Loader worker
processes are not used: the loop collates packed pre-tokenised rows in the main process, 0.05 ms
a batch of 48 x 256 tokens against ~11 ms estimated for a BERT-base prefix step on an H100
(``benchmarks/results/gpu_path.md``).
"""

from __future__ import annotations

import torch

MODES = ("no", "bf16", "fp16", "auto")


def native_bf16(device_type: str) -> bool:
    """Whether bf16 runs natively here: a CUDA GPU that supports it, or a CPU with AVX-512 BF16
    or AMX. Elsewhere torch emulates it (measured 18x slower per training step on an AVX2-only
    CPU)."""
    if device_type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    )


def resolve(mode: str | None, bf16: bool, device_type: str, native: bool | None = None) -> str:
    """``"no"``, ``"bf16"`` or ``"fp16"`` for ``mode`` on ``device_type`` (``native``: whether
    bf16 is native there; default: :func:`native_bf16`)."""
    if mode is None:
        return "bf16" if bf16 else "no"
    if mode not in MODES:
        raise ValueError(f"mixed_precision must be one of {MODES} or None, got {mode!r}")
    if bf16 and mode not in ("bf16", "auto"):
        raise ValueError(f"bf16=True contradicts mixed_precision={mode!r}; set one of them")
    if mode == "fp16" and device_type != "cuda":
        raise ValueError(
            "mixed_precision='fp16' (autocast with a gradient scaler) is a CUDA mode; on "
            f"{device_type!r} use 'bf16' where it is native, 'no', or 'auto' to choose"
        )
    if mode != "auto":
        return mode
    native = native_bf16(device_type) if native is None else native
    if native:
        return "bf16"
    return "fp16" if device_type == "cuda" else "no"


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a resolved mode (None: fp32, no autocast)."""
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``t`` on ``device``; to a GPU through pinned memory, without blocking the host."""
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)
