"""Labelling new texts with trained artifacts.

>>> model = load_predictor("results/cpu/runs/<key>/artifact")      # doctest: +SKIP
>>> model.predict(["a study of deep networks for image segmentation"])  # doctest: +SKIP
[{'paths': [['CS', 'Computer vision']], 'probabilities': [[0.97, 0.81]], 'top': [...]}]

Each prediction is hierarchy-consistent: best path on data with one path per text, top-down
consistent thresholding (sigmoid > 0.5) on multi-path data, as the artifact recorded. Several
global-SPP artifacts trained on one encoder are served together by :class:`PrefixServer`:
one frozen encoder, one batched forward, each text routed to the task (prefix + head) it names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..data.hierarchy import Hierarchy
from ..method.encoders import load_encoder
from ..training.artifacts import artifact_meta, load_artifact
from ..training.metrics import decode


class Predictor:
    """One trained model and its tokenizer: ``predict(texts) -> list of dicts``."""

    def __init__(self, model, tokenizer, serving: dict | None = None, device: str | None = None):
        from ..method.encoders import pick_device

        serving = serving or {}
        self.model, self.tokenizer = model, tokenizer
        self.hierarchy: Hierarchy = model.hierarchy
        self.max_length = int(serving.get("max_length", 128))
        self.decoding = "topdown" if serving.get("multi_path") else "best_path"
        self.device = pick_device(device)
        # bf16 where it pays: where the hardware does it natively (CUDA, AVX-512 BF16 / AMX
        # CPUs); emulated bf16 on an AVX2-only CPU is many times slower than fp32.
        from ..training.precision import native_bf16

        self.bf16 = native_bf16(self.device.type)
        self.model.to(self.device).eval()

    @torch.no_grad()
    def probabilities(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Sigmoid probabilities ``(n, n_labels)`` in the hierarchy's label order."""
        from ..data.tokens import tokenize
        from ..training.train import predict_logits, sigmoid

        texts = _check_texts(texts)
        ds = tokenize(list(texts), self.tokenizer, self.max_length, use_cache=False)
        logits = predict_logits(
            self.model, ds, self.tokenizer.pad_token_id, batch_size, self.device, self.bf16
        )
        return sigmoid(logits)

    def predict(self, texts: Sequence[str], batch_size: int = 64, top: int = 3) -> list[dict]:
        """For each text: ``paths`` (label names, top level first), ``probabilities`` (one per
        label of each path) and ``top`` (per level, the ``top`` likeliest labels)."""
        probs = self.probabilities(texts, batch_size)
        return [
            self._describe(p, on, top) for p, on in zip(probs, self._decode(probs), strict=True)
        ]

    def _decode(self, probs: np.ndarray) -> np.ndarray:
        return decode(probs, self.hierarchy, self.decoding)

    def _describe(self, p: np.ndarray, on: np.ndarray, top: int) -> dict:
        h = self.hierarchy
        paths = h.decode(on)
        return {
            "paths": [list(path) for path in paths],
            "probabilities": [
                [round(float(p[h.id_of(path[: d + 1])]), 4) for d in range(len(path))]
                for path in paths
            ],
            "top": [
                [
                    [h.name(sl.start + int(i)), round(float(p[sl][i]), 4)]
                    for i in np.argsort(-p[sl])[:top]
                ]
                for sl in h.level_slices
            ],
        }


def load_predictor(folder: str | os.PathLike, device: str | None = None) -> Predictor:
    """A :class:`Predictor` from an artifact folder, or a run folder holding ``artifact/``
    (its encoder loaded by name)."""
    folder = artifact_path(folder)
    meta = artifact_meta(folder)
    tok, encoder = load_encoder(meta["encoder"])
    return Predictor(load_artifact(folder, encoder), tok, meta.get("serving"), device)


class PrefixServer:
    """Several global-SPP artifacts on one frozen encoder, served in one batch.

    >>> server = PrefixServer({"wos": "runs/a/artifact", "news": "runs/b/artifact"})  # doctest: +SKIP
    >>> server.predict(["text one", "text two"], tasks=["wos", "news"])           # doctest: +SKIP
    """

    def __init__(self, artifacts: dict[str, str | os.PathLike], device: str | None = None):
        if not artifacts:
            raise ValueError("PrefixServer needs at least one artifact: {task name: folder}")
        metas = {t: artifact_meta(f) for t, f in artifacts.items()}
        encoders = {m["encoder_fingerprint"] for m in metas.values()}
        if len(encoders) > 1:
            names = {t: m["encoder"] for t, m in metas.items()}
            raise ValueError(f"artifacts trained on different encoders cannot share one: {names}")
        for t, m in metas.items():
            if m["model"]["method"] != "spp":
                raise ValueError(
                    f"task {t!r}: a {m['model']['method']!r} artifact; PrefixServer serves global "
                    "SPP artifacts (load others one by one with load_predictor)"
                )
            if m["model"]["prefix"].get("top_layers") is not None:
                raise ValueError(
                    f"task {t!r}: a prefix in the top layers only (top_layers); PrefixServer "
                    "mixes prefixes over every layer (load it alone with load_predictor)"
                )
        modes = {
            (m["model"]["pooling"], m["model"]["prefix"]["shift_positions"]) for m in metas.values()
        }
        if len(modes) > 1:
            raise ValueError(f"artifacts disagree on pooling / position shift: {sorted(modes)}")
        tok, encoder = load_encoder(next(iter(metas.values()))["encoder"])
        self.predictors = {
            t: Predictor(load_artifact(f, encoder), tok, metas[t].get("serving"), device)
            for t, f in artifacts.items()
        }
        first = next(iter(self.predictors.values()))
        self.tokenizer, self.encoder, self.device = tok, encoder, first.device
        self.pooling, self.shift = modes.pop()
        self.max_length = max(p.max_length for p in self.predictors.values())

    @torch.no_grad()
    def predict(
        self, texts: Sequence[str], tasks: Sequence[str], batch_size: int = 64, top: int = 3
    ) -> list[dict]:
        """Label each text with the task it names (``tasks[i]`` for ``texts[i]``)."""
        from ..method.prefix import encode, stack_prefixes
        from ..training.train import collate, sigmoid

        texts = _check_texts(texts)
        if len(tasks) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(tasks)} task names")
        unknown = sorted(set(tasks) - set(self.predictors))
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; serving {sorted(self.predictors)}")
        names = list(self.predictors)
        kv_all, pmask_all = stack_prefixes(
            [self.predictors[t].model.prefix.materialise() for t in names]
        )  # (N, L, 2, H, P_max, D), (N, P_max)
        ids = [
            self.tokenizer(t, truncation=True, max_length=self.predictors[k].max_length)[
                "input_ids"
            ]
            for t, k in zip(texts, tasks, strict=True)
        ]
        out: list[dict | None] = [None] * len(texts)
        order = np.argsort([len(i) for i in ids], kind="stable")
        bf16 = any(p.bf16 for p in self.predictors.values())
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            x, mask = collate(ids, idx, self.tokenizer.pad_token_id)
            row_task = torch.as_tensor([names.index(tasks[i]) for i in idx])
            kv = kv_all[row_task].permute(1, 2, 0, 3, 4, 5).to(self.device)  # (L, 2, B, H, P, D)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                h = encode(
                    self.encoder,
                    x.to(self.device),
                    mask.to(self.device),
                    kv,
                    prefix_mask=pmask_all[row_task].to(self.device),
                    shift_positions=self.shift,
                    pooling=self.pooling,
                ).float()
            for row, i in enumerate(idx):
                pred = self.predictors[tasks[i]]
                p = sigmoid(pred.model.head(h[row : row + 1]).float().cpu().numpy())
                out[i] = {"task": tasks[i], **pred._describe(p[0], pred._decode(p)[0], top)}
        return out


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("predict takes a list of texts, not one string: predict([text])")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"text {i} is empty or not a string: {t!r}")
    return texts


def artifact_path(run_folder: str | os.PathLike) -> Path:
    """The artifact folder inside a run folder (or the folder itself when it is one)."""
    p = Path(run_folder)
    return p / "artifact" if (p / "artifact" / "config.json").exists() else p
