"""What every model of the workbook is: an encoder and a head over all labels, mapping
``(input_ids, attention_mask) -> logits (B, n_labels)``, with the parameters it trains named
(``body_parameters``, ``head_parameters``) and counted (the tables' trained share)."""

from __future__ import annotations

import torch
from torch import nn

from ..data.hierarchy import Hierarchy
from .configs import ModelConfig
from .dropout import use_fast_dropout
from .heads import ClassifierHead


class HTCModel(nn.Module):
    """Encoder + head over all labels; subclasses decide what trains."""

    # htclib's engine draws the encoder's dropout masks the cheap way (htclib.method.dropout: same
    # distribution); PEFT's cross-check keeps the stock modules, as a PEFT user gets them
    fast_dropout = True

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.hierarchy = hierarchy
        self.encoder = (
            use_fast_dropout(encoder, cfg.dropout_masks) if self.fast_dropout else encoder
        )
        self.head = ClassifierHead(encoder.config.hidden_size, hierarchy.n_labels, cfg.head_dropout)

    def head_parameters(self) -> list[nn.Parameter]:
        return list(self.head.parameters())

    def body_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The tensors that training changes (what an artifact/checkpoint must keep)."""
        names = {id(p) for p in self.body_parameters() + self.head_parameters()}
        return {k: v for k, v in self.named_parameters() if id(v) in names}

    def n_trainable(self) -> int:
        return sum(p.numel() for p in self.body_parameters() + self.head_parameters())

    def n_total(self) -> int:
        """Encoder + head parameters (the paper's denominator for "params %")."""
        return sum(p.numel() for p in self.encoder.parameters()) + sum(
            p.numel() for p in self.head.parameters()
        )

    def n_served(self) -> int:
        """Parameters a trained model adds on top of the frozen encoder at inference."""
        return self.n_trainable()

    def params_share(self) -> float:
        """Trained parameters as a % of encoder + head (the paper's "params" column)."""
        return 100.0 * self.n_served() / self.n_total()
