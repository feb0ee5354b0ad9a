"""The paper's models: CLS-tuning and global SPP, built from one config dataclass.

All models map ``(input_ids, attention_mask) -> logits (B, n_labels)`` over the hierarchy's
global label order, so one trainer and one metric code serve them all.
"""

from __future__ import annotations

from torch import nn

from ..data.hierarchy import Hierarchy
from .base import HTCModel
from .configs import PEFT_METHODS, ModelConfig
from .encoders import freeze, load_encoder
from .prefix import FrozenEncoderWithPrefix, PrefixEncoder, encode, encoder_dims, n_prefix_params

__all__ = [
    "CLSTuning",
    "GlobalSPP",
    "HTCModel",
    "ModelConfig",
    "PEFTPrefix",
    "build_model",
    "freeze",
]


class CLSTuning(HTCModel):
    """Full fine-tuning: the whole encoder and a global head on h[CLS], BCE over all labels."""

    def body_parameters(self):
        return list(self.encoder.parameters())

    def forward(self, input_ids, attention_mask):
        return self.head(encode(self.encoder, input_ids, attention_mask, pooling=self.cfg.pooling))


class GlobalSPP(FrozenEncoderWithPrefix, HTCModel):
    """Frozen encoder + deep prefix + global head on h[CLS], BCE over all labels."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        self.prefix = PrefixEncoder(cfg.prefix, encoder)
        freeze(encoder)
        self.encoder_dropout = cfg.encoder_dropout  # SimCSE turns it on for its two views

    def body_parameters(self):
        return list(self.prefix.parameters())

    def n_served(self):
        return n_prefix_params(self.cfg.prefix, self.encoder) + sum(
            p.numel() for p in self.head.parameters()
        )

    def forward(self, input_ids, attention_mask):
        return self.head(self.cls_states(input_ids, attention_mask))


class PEFTPrefix(HTCModel):
    """PEFT's prefix tuning behind our head and trainer (``method="peft"``): the cross-check row.

    Hugging Face PEFT's ``PrefixTuningConfig`` (feature extraction, P virtual tokens) on the
    frozen encoder with the same head, data, loss, optimiser and early stopping as global SPP,
    so the two prefix engines compare on accuracy and time to accuracy. PEFT as a user gets it:
    its own prefix initialisation (an embedding table, N(0, 1)), the text numbered from P, the
    frozen encoder's dropout on in training.
    """

    fast_dropout = False

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        try:
            import peft
        except ImportError as e:  # a dev extra: say how to get it
            raise ImportError("method 'peft' needs the peft package (pip install peft)") from e
        super().__init__(cfg, hierarchy, encoder)
        pcfg = peft.PrefixTuningConfig(
            task_type=peft.TaskType.FEATURE_EXTRACTION, num_virtual_tokens=cfg.prefix.length
        )
        self.peft = peft.get_peft_model(encoder, pcfg)  # freezes the encoder's weights

    def body_parameters(self):
        return [p for p in self.peft.prompt_encoder.parameters() if p.requires_grad]

    def n_total(self):
        return sum(p.numel() for p in self.encoder.parameters() if not p.requires_grad) + sum(
            p.numel() for p in self.head.parameters()
        )

    def n_served(self):
        layers, heads, dim = encoder_dims(self.encoder)
        return layers * 2 * heads * dim * self.cfg.prefix.length + sum(
            p.numel() for p in self.head.parameters()
        )

    def forward(self, input_ids, attention_mask):
        out = self.peft(input_ids=input_ids, attention_mask=attention_mask)
        return self.head(out.last_hidden_state[:, 0])


def warn_untrained_pooler(encoder: nn.Module, name: str) -> None:
    """A model that classifies on the pooler output says so when that pooler was never trained
    (:func:`htclib.method.encoders.pooler_check`): what it measures is then a random frozen layer."""
    from .encoders import pooler_check

    check = pooler_check(encoder)
    if check["trained"] is False:
        import warnings

        warnings.warn(
            f"pooling='pooler' on {name!r}, whose pooler was never trained (bias 0, top "
            f"singular value {check['top_singular_value']:.3f} at a random matrix's edge "
            f"{check['random_edge']:.3f}, kurtosis {check['kurtosis']:.2f}): the head sees a "
            "random frozen tanh layer. Use pooling='cls' (recipe 'ptv2-cls') on this encoder.",
            UserWarning,
            stacklevel=3,
        )


def build_model(
    cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module | None = None
) -> HTCModel:
    """A model for ``cfg`` on ``hierarchy``; loads the encoder unless one is given."""
    if encoder is None:
        _, encoder = load_encoder(cfg.encoder)
    if cfg.pooling == "pooler":
        warn_untrained_pooler(encoder, cfg.encoder)
    if cfg.method == "cls":
        return CLSTuning(cfg, hierarchy, encoder)
    if cfg.method == "spp":
        return GlobalSPP(cfg, hierarchy, encoder)
    if cfg.method == "peft":
        return PEFTPrefix(cfg, hierarchy, encoder)
    if cfg.method in PEFT_METHODS:
        from .peft_methods import build

        return build(cfg, hierarchy, encoder)
    from .local import LocalSPP

    return LocalSPP(cfg, hierarchy, encoder)
