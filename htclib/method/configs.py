"""Config dataclasses shared by models, local models, runs, CLI and tests, and the stable
cache key over them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from .dropout import MASKS
from .keydefaults import KEY_DEFAULTS
from .prefix import PrefixConfig


def prune_defaults(d: dict, defaults: dict) -> dict:
    """``d`` without the entries equal to ``defaults`` (recursively, for nested configs)."""
    out = {}
    for k, v in d.items():
        base = defaults.get(k, object()) if isinstance(defaults, dict) else object()
        if isinstance(v, dict) and isinstance(base, dict):
            sub = prune_defaults(v, base)
            if sub:
                out[k] = sub
        elif v != base:
            out[k] = v
    return out


# Methods that ignore ``encoder_dropout`` (CLS-tuning trains the whole encoder with its
# dropout; PEFT keeps its own): their keys leave the field out, whatever its value.
# Parameter-efficient methods besides the deep prefix (htclib.method.peft_methods)
PEFT_METHODS = ("lora", "ia3", "prompt", "bitfit", "adapter")
METHODS = ("cls", "spp", "local", "peft", *PEFT_METHODS)
NO_ENCODER_DROPOUT_SWITCH = ("cls", "peft", *PEFT_METHODS)


def keyed_model_dict(m: dict) -> dict:
    """A model config dict as keys see it (methods that ignore ``encoder_dropout`` key it at its frozen default)."""
    m = dict(m)
    if m.get("method") in NO_ENCODER_DROPOUT_SWITCH:
        m["encoder_dropout"] = KEY_DEFAULTS["model"]["encoder_dropout"]
    return m


def stable_key(d: dict, defaults: dict) -> str:
    """A 12-hex hash of a config dict that ignores fields at their defaults: adding a new field
    (with a default) to a config keeps every finished run's key, so cached and committed runs
    stay valid across versions. ``defaults`` must be frozen values (:mod:`htclib.method.keydefaults`),
    never live dataclass defaults: a changed default would then hash like the old one."""
    blob = json.dumps(prune_defaults(d, defaults), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class ModelConfig:
    """One model.

    method: ``"cls"`` (full fine-tuning + global head), ``"spp"`` (global prefix + global
        head), ``"local"`` (one prefix + head per level, see :mod:`htclib.method.local`), ``"peft"``
        (PEFT's prefix tuning with the same head: the cross-check, :class:`htclib.method.models.PEFTPrefix`),
        and the other parameter-efficient methods ``"lora"``, ``"ia3"``, ``"prompt"``,
        ``"bitfit"``, ``"adapter"`` (:mod:`htclib.method.peft_methods`).
    encoder: ``"minilm"`` (offline), a Hugging Face name (``bert-base-uncased``) or a folder.
    prefix: prefix settings for SPP (``prefix.length`` is P); local models use
        ``level_lengths`` (one P per level, top first).
    transfer: local models only: ``"non"``, ``"copy"`` or ``"transform"``.
    recipe: the name of the recipe the fields below came from (``htclib`` or ``ptv2``,
        :mod:`htclib.method.recipes`); informational, the fields themselves decide.
    pooling: ``"cls"`` (the [CLS] state) or ``"pooler"`` (BERT's pooler output).
    encoder_dropout: keep the frozen encoder's dropout on while training (prefix models), as
        P-tuning v2 and PEFT train; False: the frozen encoder in eval mode (htclib's default
        until 2026-11-30, when the measurement in ``results/ablations/README.md`` turned it on).
    head_bias: ``"prior"`` (each label's log prior odds) or ``"zero"`` (BERT's init).
    head_probe: fit the head to the model's start before training (LP-FT): logistic regression
        on the [CLS] states of the training texts with inverse L2 strength C = this value (the
        linear-probe baseline's is 10), after ``head_bias``; None: off. Global models only.
    dropout_masks: how htclib draws the encoder's dropout masks (:mod:`htclib.method.dropout`):
        ``"rand"`` (a uniform draw per element compared with p: the records' setting) or
        ``"words"`` (four 16-bit draws per random 64-bit word, p on a 2^-16 grid: the cheaper
        draw, ``benchmarks/BENCHMARKS.md`` section 5). Both are unbiased Bernoulli masks; a
        seed draws different masks under each, so runs of one are not reruns of the other.
        PEFT's cross-check keeps torch's modules and ignores it.
    peft_size: LoRA's rank or the adapters' bottleneck width (``"lora"``, ``"adapter"``:
        :mod:`htclib.method.peft_methods`); None: their defaults (8, 64).
    """

    method: str = "spp"
    encoder: str = "minilm"
    prefix: PrefixConfig = field(default_factory=PrefixConfig)
    head_dropout: float = 0.1
    level_lengths: list[int] = field(default_factory=lambda: [10, 20])
    transfer: str = "copy"
    recipe: str = "htclib"
    pooling: str = "cls"
    encoder_dropout: bool = True
    head_bias: str = "prior"
    head_probe: float | None = None
    dropout_masks: str = "rand"
    peft_size: int | None = None

    def __post_init__(self):
        if isinstance(self.prefix, dict):
            self.prefix = PrefixConfig(**self.prefix)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.peft_size is not None and not (
            isinstance(self.peft_size, int) and self.peft_size > 0
        ):
            raise ValueError(
                f"peft_size must be a positive integer or None, got {self.peft_size!r}"
            )
        if self.transfer not in ("non", "copy", "transform"):
            raise ValueError(
                f"transfer must be 'non', 'copy' or 'transform', got {self.transfer!r}"
            )
        if self.pooling not in ("cls", "pooler"):
            raise ValueError(f"pooling must be 'cls' or 'pooler', got {self.pooling!r}")
        if self.head_bias not in ("prior", "zero"):
            raise ValueError(f"head_bias must be 'prior' or 'zero', got {self.head_bias!r}")
        if self.dropout_masks not in MASKS:
            raise ValueError(f"dropout_masks must be one of {MASKS}, got {self.dropout_masks!r}")
        if self.head_probe is not None:
            if not (isinstance(self.head_probe, (int, float)) and self.head_probe > 0):
                raise ValueError(f"head_probe must be a C > 0 or None, got {self.head_probe!r}")
            if self.method == "local":
                raise ValueError(
                    "head_probe fits one global head; a local model's level heads have none"
                )
        if self.prefix.top_layers is not None and self.method != "spp":
            raise ValueError(
                f"prefix.top_layers is a global SPP switch (method 'spp'), not {self.method!r}'s"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DataConfig:
    """Which data and how much of it (``None`` = the whole split).

    train_fraction: keep this share of the (already subset) training split, dev and test
        untouched: the training-size curve. Applied after ``n_*``; its runs are told apart
        from the main rows by this field.
    """

    name: str = "wos"
    path: str | None = None
    # a CSV with one text column and one column per level (htclib.data.read_csv_levels)
    text_col: str = "text"
    level_cols: list[str] | None = None
    n_train: int | None = None
    n_dev: int | None = None
    n_test: int | None = None
    split_seed: int = 0
    train_fraction: float | None = None


@dataclass
class ContrastiveConfig:
    """SimCSE pre-training of the prefix before BCE (:mod:`htclib.method.contrastive`)."""

    epochs: int = 10
    batch_size: int = 64
    temperature: float = 0.1
    lr: float = 1e-2
    denominator: str = "simcse"
    projection_dim: int = 256
    max_steps: int | None = None
