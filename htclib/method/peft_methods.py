"""Other parameter-efficient methods behind the same head and trainer as the deep prefix.

The paper compares deep prefixes with full fine-tuning only. These rows ask what a practitioner
asks: at the same share of trained parameters, how does a deep prefix compare with

- ``"lora"``: LoRA (Hu et al. 2022) through PEFT on the attention's query and value
  projections, rank ``ModelConfig.peft_size`` (PEFT's default 8 where None), alpha = rank;
- ``"ia3"``: IA3 (Liu et al. 2022) through PEFT, its default targets for BERT (key, value and
  the feed-forward output);
- ``"prompt"``: shallow prompt tuning (Lester et al. 2021) through PEFT: ``prefix.length``
  trainable embeddings before the input only (the P-tuning v1 contrast to deep prefixes);
  the head reads the [CLS] state, which the virtual tokens push to position P;
- ``"bitfit"``: BitFit (Ben Zaken et al. 2022): the encoder's biases only, written here;
- ``"adapter"``: bottleneck adapters (Houlsby et al. 2019, at the feed-forward output as
  Pfeiffer et al. place them), written here with ``peft_size`` hidden units (64 where None):
  the ``adapters`` package (1.3.0) pins transformers ~= 4.57, which our pinned 5.23 is not.

Every one keeps the frozen encoder's dropout on in training (as PEFT users get it) and uses
torch's dropout modules (the cross-check's rule: a user's PEFT model as it comes).
"""

from __future__ import annotations

from torch import nn

from ..data.hierarchy import Hierarchy
from .base import HTCModel
from .configs import ModelConfig
from .encoders import freeze
from .prefix import encode

DEFAULT_LORA_RANK = 8
DEFAULT_ADAPTER_SIZE = 64
# Learning rates from each method's paper, for the command line where --lr is not given (the
# profiles choose theirs by a search on dev): LoRA 5e-4 (Hu et al., RoBERTa-base GLUE), IA3
# 3e-3 (T-Few), prompt tuning 3e-2 (AdamW; Lester et al.'s 0.3 is with Adafactor), BitFit 1e-3
# (Ben Zaken et al.'s upper end), adapters 1e-3 (Houlsby et al.'s upper end).
DEFAULT_LR = {"lora": 5e-4, "ia3": 3e-3, "prompt": 3e-2, "bitfit": 1e-3, "adapter": 1e-3}


def _peft():
    try:
        import peft
    except ImportError as e:  # a dev extra: say how to get it
        raise ImportError("this method needs the peft package (pip install peft)") from e
    return peft


class PEFTWrapped(HTCModel):
    """A PEFT adapter method on the frozen encoder; the head reads the [CLS] state."""

    fast_dropout = False
    cls_position = 0

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        self.peft = _peft().get_peft_model(encoder, self.peft_config(cfg))  # freezes the rest

    def peft_config(self, cfg: ModelConfig):
        raise NotImplementedError

    def body_parameters(self):
        return [p for p in self.peft.parameters() if p.requires_grad]

    def n_total(self):
        frozen = sum(p.numel() for p in self.peft.parameters() if not p.requires_grad)
        return frozen + sum(p.numel() for p in self.head.parameters())

    def forward(self, input_ids, attention_mask):
        out = self.peft(input_ids=input_ids, attention_mask=attention_mask)
        return self.head(out.last_hidden_state[:, self.cls_position])


class LoRA(PEFTWrapped):
    def peft_config(self, cfg):
        peft = _peft()
        r = cfg.peft_size or DEFAULT_LORA_RANK
        return peft.LoraConfig(
            task_type=peft.TaskType.FEATURE_EXTRACTION, r=r, lora_alpha=r,
            target_modules=["query", "value"], lora_dropout=0.0,
        )  # fmt: skip


class IA3(PEFTWrapped):
    def peft_config(self, cfg):
        peft = _peft()
        return peft.IA3Config(task_type=peft.TaskType.FEATURE_EXTRACTION)


class PromptTuning(PEFTWrapped):
    """P virtual token embeddings before the input (PEFT draws them at random)."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        self.cls_position = cfg.prefix.length  # the virtual tokens come first

    def peft_config(self, cfg):
        peft = _peft()
        return peft.PromptTuningConfig(
            task_type=peft.TaskType.FEATURE_EXTRACTION, num_virtual_tokens=cfg.prefix.length
        )


class _OwnFrozenEncoder(HTCModel):
    """A method written here on the frozen encoder: torch's dropout modules kept on in training
    (as the PEFT rows train), [CLS] through :func:`htclib.method.prefix.encode` (as CLS-tuning)."""

    fast_dropout = False

    def train(self, mode: bool = True):  # freeze() put the encoder in eval: dropout back on
        super().train(mode)
        self.encoder.train(mode)
        return self

    def forward(self, input_ids, attention_mask):
        return self.head(encode(self.encoder, input_ids, attention_mask, pooling=self.cfg.pooling))


class BitFit(_OwnFrozenEncoder):
    """The encoder's bias terms train, every weight matrix stays frozen."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        freeze(encoder)
        for name, p in encoder.named_parameters():
            if name.endswith(".bias"):
                p.requires_grad_(True)

    def body_parameters(self):
        return [p for n, p in self.encoder.named_parameters() if n.endswith(".bias")]


class Bottleneck(nn.Module):
    """``h + up(gelu(down(h)))``, the up projection starting at zero (the adapter starts as the
    identity, so training starts from the frozen encoder's own states)."""

    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.down, self.up = nn.Linear(hidden, size), nn.Linear(size, hidden)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h):
        return h + self.up(nn.functional.gelu(self.down(h)))


class Adapters(_OwnFrozenEncoder):
    """A bottleneck adapter after each layer's feed-forward output projection (before its
    dropout, residual and LayerNorm), inserted with forward hooks: the encoder is unchanged."""

    def __init__(self, cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module):
        super().__init__(cfg, hierarchy, encoder)
        freeze(encoder)
        layers = _bert_layers(encoder)
        size = cfg.peft_size or DEFAULT_ADAPTER_SIZE
        self.adapters = nn.ModuleList(Bottleneck(encoder.config.hidden_size, size) for _ in layers)
        for layer, adapter in zip(layers, self.adapters, strict=True):
            layer.output.dense.register_forward_hook(lambda _m, _a, out, ad=adapter: ad(out))

    def body_parameters(self):
        return list(self.adapters.parameters())


def _bert_layers(encoder: nn.Module) -> list[nn.Module]:
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None or not all(hasattr(x, "output") for x in layers):
        raise ValueError(
            f"adapters are placed in BERT-style layers (encoder.layer[i].output.dense); "
            f"{type(encoder).__name__} has none"
        )
    return list(layers)


CLASSES = {"lora": LoRA, "ia3": IA3, "prompt": PromptTuning, "bitfit": BitFit, "adapter": Adapters}


def build(cfg: ModelConfig, hierarchy: Hierarchy, encoder: nn.Module) -> HTCModel:
    return CLASSES[cfg.method](cfg, hierarchy, encoder)


def trained_share(method: str, encoder: nn.Module, size: int | None, length: int = 30) -> float:
    """The % of encoder parameters a method trains (without the head): what "equal share"
    matches, in closed form for BERT-style encoders (a test checks it against built models)."""
    c = encoder.config
    n_enc = sum(p.numel() for p in encoder.parameters())
    h, n_layers = c.hidden_size, c.num_hidden_layers
    if method == "lora":
        r = size or DEFAULT_LORA_RANK
        n = n_layers * 2 * (2 * h * r)  # query and value: A (r x h) and B (h x r)
    elif method == "prompt":
        n = length * h
    elif method == "adapter":
        s = size or DEFAULT_ADAPTER_SIZE
        n = n_layers * (2 * h * s + s + h)
    else:
        raise ValueError(f"no closed form for {method!r}: build the model and count")
    return 100.0 * n / n_enc


def lora_rank_matching(prefix_share: float, encoder: nn.Module) -> int:
    """The LoRA rank whose trained share is nearest to ``prefix_share`` (%)."""
    return min(range(1, 257), key=lambda r: abs(trained_share("lora", encoder, r) - prefix_share))
