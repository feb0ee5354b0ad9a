"""Recipes: named sets of the training choices that no results table shows but every number
depends on. A recipe only fills config fields; the run's config records the fields themselves.

Field by field (``htclib`` = our choice, ``ptv2`` = what P-tuning v2's
``BertPrefixForSequenceClassification`` does, the code the paper builds on):

| field | htclib | ptv2 | why it matters |
|---|---|---|---|
| ``model.prefix.shift_positions`` | False: text at positions 0..T-1 | True: text numbered from P (old transformers shifted positions by the cache length) | pretrained position embeddings vs shifted ones |
| ``model.prefix.dropout`` | 0.0 | 0.1 (``hidden_dropout_prob`` on the prefix key/values) | regularises the prefix |
| ``model.encoder_dropout`` | True: frozen but in train mode, its dropout on (False until 2026-11-30: ``htclib-nodrop`` in tables) | True | noise in every training forward: measured, it reaches a higher dev score in fewer epochs (``results/ablations/README.md``) |
| ``train.head_lr`` | 1e-3, separate from the prefix lr | None: one lr for prefix and head | a 1e-2 head lr vs 1e-3 |
| ``model.head_bias`` | "prior": bias = each label's log prior odds | "zero": BERT's init (weight N(0, 0.02), bias 0), what ``from_pretrained`` gives a missing head | first epochs predict nothing above 0.5 |
| ``model.prefix.init_std`` | 0.5 | 0.02: the prefix embedding is a module missing from the checkpoint, so BERT's ``_init_weights`` draws it N(0, initializer_range) | scale of the prefix at step 0 |
| ``model.pooling`` | "cls": the last [CLS] state | "pooler": BERT's pooler output, tanh(W h[CLS] + b) | what the head sees |

``ptv2-cls`` is ``ptv2`` classifying on [CLS]: for encoders whose pooler was never trained.

Which recipe the profiles use is decided by measurement (results issue), not here.
"""

from __future__ import annotations

import copy

RECIPES: dict[str, dict[str, object]] = {
    "htclib": {
        "model.prefix.shift_positions": False,
        "model.prefix.dropout": 0.0,
        "model.encoder_dropout": True,
        "train.head_lr": 1e-3,
        "model.head_bias": "prior",
        "model.prefix.init_std": 0.5,
        "model.pooling": "cls",
    },
    "ptv2": {
        "model.prefix.shift_positions": True,
        "model.prefix.dropout": 0.1,
        "model.encoder_dropout": True,
        "train.head_lr": None,
        "model.head_bias": "zero",
        "model.prefix.init_std": 0.02,
        "model.pooling": "pooler",
    },
}
# P-tuning v2's recipe on an encoder whose pooler was never trained (all-MiniLM-L6-v2: see
# htclib.method.encoders.pooler_check): the pooler output is a random frozen tanh layer there, so a
# comparison of recipes would measure that layer. This one classifies on [CLS] instead.
RECIPES["ptv2-cls"] = {**RECIPES["ptv2"], "model.pooling": "cls"}

# Encoders whose pooler is untrained (checked by tests/test_recipes.py with pooler_check).
UNTRAINED_POOLER = {"minilm"}


def recipe_for(name: str, encoder: str) -> str:
    """``name``, or ``ptv2-cls`` for ``ptv2`` on an encoder with an untrained pooler."""
    return "ptv2-cls" if name == "ptv2" and encoder in UNTRAINED_POOLER else name


def apply_recipe(cfg, name: str):
    """A copy of a :class:`~htclib.training.experiment.RunConfig` with recipe ``name``'s fields set."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r}")
    out = copy.deepcopy(cfg)
    for dotted, value in RECIPES[name].items():
        *parents, attr = dotted.split(".")
        obj = out
        for p in parents:
            obj = getattr(obj, p)
        setattr(obj, attr, value)
    out.model.recipe = name
    return out
