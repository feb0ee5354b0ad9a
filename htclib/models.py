"""The paper's models: CLS-tuning and global SPP, built from one config dataclass.

All models map ``(input_ids, attention_mask) -> logits (B, n_labels)`` over the hierarchy's
global label order, so one trainer and one metric code serve them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .encoders import load_encoder
from .heads import ClassifierHead
from .hierarchy import Hierarchy
from .prefix import PrefixConfig, PrefixEncoder, encode, expand_prefix, n_prefix_params


@dataclass
class ModelConfig:
    """One model.

    method: ``"cls"`` (full fine-tuning + global head), ``"spp"`` (global prefix + global
        head), ``"local"`` (one prefix + head per level, see :mod:`htclib.local`).
    encoder: ``"minilm"`` (offline), a Hugging Face name (``bert-base-uncased``) or a folder.
    prefix: prefix settings for SPP (``prefix.length`` is P); local models use
        ``level_lengths`` (one P per level, top first).
    transfer: local models only: ``"non"``, ``"copy"`` or ``"transform"``.
    """

    method: str = "spp"
    encoder: str = "minilm"
    prefix: PrefixConfig = field(default_factory=PrefixConfig)
    head_dropout: float = 0.1
    level_lengths: list[int] = field(default_factory=lambda: [10, 20])
    transfer: str = "copy"

    def __post_init__(self):
        if isinstance(self.prefix, dict):
            self.prefix = PrefixConfig(**self.prefix)
        if self.method not in ("cls", "spp", "local"):
            raise ValueError(f"method must be 'cls', 'spp' or 'local', got {self.method!r}")
        if self.transfer not in ("non", "copy", "transform"):
            raise ValueError(
                f"transfer must be 'non', 'copy' or 'transform', got {self.transfer!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


class HTCModel(nn.Module):
    """Encoder + head over all labels; subclasses decide what trains."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.hierarchy = hierarchy
        self.encoder = encoder
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


class CLSTuning(HTCModel):
    """Full fine-tuning: the whole encoder and a global head on h[CLS], BCE over all labels."""

    def body_parameters(self):
        return list(self.encoder.parameters())

    def forward(self, input_ids, attention_mask):
        return self.head(encode(self.encoder, input_ids, attention_mask))


class GlobalSPP(HTCModel):
    """Frozen encoder + deep prefix + global head on h[CLS], BCE over all labels."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        self.prefix = PrefixEncoder(cfg.prefix, encoder)
        freeze(encoder)
        self.encoder_dropout = False  # SimCSE turns it on

    def body_parameters(self):
        return list(self.prefix.parameters())

    def n_served(self):
        return n_prefix_params(self.cfg.prefix, self.encoder) + sum(
            p.numel() for p in self.head.parameters()
        )

    def train(self, mode: bool = True):
        super().train(mode)
        # The frozen encoder keeps its dropout off unless a method needs it (SimCSE's two views).
        self.encoder.train(mode and self.encoder_dropout)
        return self

    def cls_states(self, input_ids, attention_mask):
        kv = expand_prefix(self.prefix(), input_ids.shape[0])
        return encode(
            self.encoder,
            input_ids,
            attention_mask,
            kv,
            shift_positions=self.cfg.prefix.shift_positions,
        )

    def forward(self, input_ids, attention_mask):
        return self.head(self.cls_states(input_ids, attention_mask))


def freeze(module: nn.Module) -> None:
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()


def build_model(
    cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module | None = None
) -> HTCModel:
    """A model for ``cfg`` on ``hierarchy``; loads the encoder unless one is given."""
    if encoder is None:
        _, encoder = load_encoder(cfg.encoder)
    if cfg.method == "cls":
        return CLSTuning(cfg, hierarchy, encoder)
    if cfg.method == "spp":
        return GlobalSPP(cfg, hierarchy, encoder)
    from .local import LocalSPP

    return LocalSPP(cfg, hierarchy, encoder)
