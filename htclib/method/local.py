"""Local SPP, the model: one prefix and one head per hierarchy level, any depth.

A trained model serves all levels in one batched forward (each text repeated once per level,
each copy with its level's prefix), and its per-level probabilities form one vector over all
labels, decoded and scored by the same code as the global models. :class:`LevelModel` is one
level while it trains. How the levels are trained top-down (and how a lower level starts from
the upper one: :mod:`htclib.method.transfer`) is :mod:`htclib.training.topdown`.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from ..data.hierarchy import Hierarchy
from .configs import ModelConfig
from .dropout import use_fast_dropout
from .encoders import freeze
from .heads import ClassifierHead
from .prefix import FrozenEncoderWithPrefix, PrefixEncoder, encode, n_prefix_params, stack_prefixes


class LocalSPP(nn.Module):
    """Frozen encoder, prefix ``P_l`` + head over level ``l``'s labels for every level."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__()
        if len(cfg.level_lengths) != hierarchy.depth:
            raise ValueError(
                f"level_lengths has {len(cfg.level_lengths)} entries ({cfg.level_lengths}) "
                f"but the hierarchy has {hierarchy.depth} levels"
            )
        self.cfg = cfg
        self.hierarchy = hierarchy
        # SimCSE's views draw masks too (htclib.method.dropout)
        self.encoder = use_fast_dropout(encoder, cfg.dropout_masks)
        self.prefixes = nn.ModuleList(
            PrefixEncoder(replace(cfg.prefix, length=p), encoder) for p in cfg.level_lengths
        )
        self.heads = nn.ModuleList(
            ClassifierHead(encoder.config.hidden_size, n, cfg.head_dropout) for n in hierarchy.sizes
        )
        freeze(encoder)

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder.eval()
        return self

    def body_parameters(self):
        return list(self.prefixes.parameters())

    def head_parameters(self):
        return list(self.heads.parameters())

    def trainable_state(self):
        names = {id(p) for p in self.body_parameters() + self.head_parameters()}
        return {k: v for k, v in self.named_parameters() if id(v) in names}

    def n_served(self) -> int:
        return sum(n_prefix_params(p.cfg, self.encoder) for p in self.prefixes) + sum(
            p.numel() for p in self.heads.parameters()
        )

    def n_total(self) -> int:
        return sum(p.numel() for p in self.encoder.parameters()) + sum(
            p.numel() for p in self.heads.parameters()
        )

    def params_share(self) -> float:
        return 100.0 * self.n_served() / self.n_total()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits over all labels ``(B, n_labels)``: all levels in one multi-prefix pass."""
        n, batch = len(self.prefixes), input_ids.shape[0]
        stacked, pmask = stack_prefixes([p() for p in self.prefixes])  # (n, L, 2, H, P_max, D)
        level = torch.arange(n, device=input_ids.device).repeat(batch)  # row b*n + l uses level l
        kv = stacked[level].permute(1, 2, 0, 3, 4, 5)  # (L, 2, B*n, H, P_max, D)
        h = encode(
            self.encoder,
            input_ids.repeat_interleave(n, 0),
            attention_mask.repeat_interleave(n, 0),
            kv,
            prefix_mask=pmask[level],
            shift_positions=self.cfg.prefix.shift_positions,  # per row: its level's P
            pooling=self.cfg.pooling,
        )
        h = h.view(batch, n, -1)
        return torch.cat([head(h[:, lv]) for lv, head in enumerate(self.heads)], dim=1)


class LevelModel(FrozenEncoderWithPrefix, nn.Module):
    """One level while it trains: ``(input_ids, attention_mask) -> that level's logits``.

    It has the same ``cls_states``/``encoder_dropout`` interface as the global SPP, so the
    contrastive pre-training (:func:`htclib.training.pretrain.pretrain_prefix`) runs on it as is.
    """

    def __init__(
        self, encoder: nn.Module, prefix: nn.Module, head: ClassifierHead, cfg: ModelConfig
    ):
        super().__init__()
        self.encoder, self.prefix, self.head, self.cfg = encoder, prefix, head, cfg
        self.encoder_dropout = cfg.encoder_dropout  # SimCSE turns it on for its two views

    def forward(self, input_ids, attention_mask):
        return self.head(self.cls_states(input_ids, attention_mask))
