"""PEFT's prefix tuning behind htclib's head and trainer: the cross-check row.

``method="peft"`` trains Hugging Face PEFT's ``PrefixTuningConfig`` (feature extraction, P
virtual tokens) on the frozen encoder with the same head, data, loss, optimiser and early
stopping as htclib's global SPP, so the two prefix engines can be compared on accuracy and
time to accuracy. It is PEFT as a user gets it: its own prefix initialisation (an embedding
table, N(0, 1)), the text numbered from P, the frozen encoder's dropout on in training.
"""

from __future__ import annotations

from torch import nn

from .configs import ModelConfig
from .hierarchy import Hierarchy
from .models import HTCModel
from .prefix import encoder_dims


class PEFTPrefix(HTCModel):
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
