"""The two recipes: P-tuning v2's choices and ours, field by field, and that the model obeys them."""

import numpy as np
import pytest
import torch

from htclib.data.hierarchy import Hierarchy
from htclib.method.local import LocalSPP
from htclib.method.models import GlobalSPP, ModelConfig
from htclib.method.prefix import PrefixConfig, encode, expand_prefix
from htclib.method.recipes import RECIPES, apply_recipe
from htclib.training.experiment import RunConfig
from tests.conftest import tiny_bert

H = Hierarchy.from_paths([("a", "b"), ("a", "c"), ("d", "e")])


def test_recipes_set_every_field_they_document():
    base = RunConfig(model=ModelConfig(prefix=PrefixConfig(length=5)))
    p = apply_recipe(base, "ptv2")
    assert p.model.recipe == "ptv2" and base.model.recipe == "htclib"  # a copy, not in place
    assert p.model.prefix.shift_positions and p.model.prefix.dropout == 0.1
    assert p.model.encoder_dropout and p.train.head_lr is None and p.model.head_bias == "zero"
    assert p.model.prefix.init_std == 0.02 and p.model.pooling == "pooler"
    assert p.model.prefix.length == 5  # what a recipe does not name is kept
    h = apply_recipe(p, "htclib")
    assert h.to_dict() == {**base.to_dict()} and h.key() == base.key()
    assert set(RECIPES["ptv2"]) == set(RECIPES["htclib"])
    with pytest.raises(ValueError, match="recipe must be one of"):
        apply_recipe(base, "p-tuning")


def test_ptv2_model_trains_with_encoder_dropout_and_pooler(batch):
    ids, mask = batch
    cfg = apply_recipe(RunConfig(model=ModelConfig(prefix=PrefixConfig(length=3))), "ptv2").model
    model = GlobalSPP(cfg, H, tiny_bert(pooler=True))
    model.train()
    assert model.encoder.training  # frozen weights, dropout on
    a, b = model(ids, mask), model(ids, mask)
    assert not torch.allclose(a, b)  # prefix dropout and encoder dropout: two draws differ
    model.eval()
    with torch.no_grad():
        kv = expand_prefix(model.prefix(), 3)
        pooled = encode(model.encoder, ids, mask, kv, shift_positions=True, pooling="pooler")
        cls = encode(model.encoder, ids, mask, kv, shift_positions=True, pooling="cls")
        torch.testing.assert_close(model(ids, mask), model.head(pooled))
        assert not torch.allclose(pooled, cls)
    model.head.init_bias("zero", np.zeros((1, H.n_labels)))
    assert torch.count_nonzero(model.head.linear.bias) == 0


def test_pooler_needs_a_pooler(batch):
    ids, mask = batch
    with pytest.raises(ValueError, match="add_pooling_layer=True"):
        encode(tiny_bert(), ids, mask, pooling="pooler")


def test_local_with_shifted_positions_equals_per_level_runs(batch):
    # Rows with different prefix lengths share a batch; each row's text is numbered from its
    # own level's P, exactly as a run of that level alone.
    ids, mask = batch
    cfg = ModelConfig(
        method="local", level_lengths=[2, 5], prefix=PrefixConfig(shift_positions=True)
    )
    model = LocalSPP(cfg, H, tiny_bert()).eval()
    with torch.no_grad():
        full = model(ids, mask)
        parts = [
            head(encode(model.encoder, ids, mask, expand_prefix(p(), 3), shift_positions=True))
            for p, head in zip(model.prefixes, model.heads, strict=True)
        ]
        unshifted = [
            head(encode(model.encoder, ids, mask, expand_prefix(p(), 3)))
            for p, head in zip(model.prefixes, model.heads, strict=True)
        ]
    torch.testing.assert_close(full, torch.cat(parts, 1), atol=1e-5, rtol=0)
    assert not torch.allclose(full, torch.cat(unshifted, 1), atol=1e-4)


def test_ptv2_cls_is_ptv2_on_the_cls_state():
    from htclib.method.recipes import recipe_for

    assert RECIPES["ptv2-cls"] == {**RECIPES["ptv2"], "model.pooling": "cls"}
    assert recipe_for("ptv2", "minilm") == "ptv2-cls"
    assert recipe_for("ptv2", "bert-base-uncased") == "ptv2"  # its pooler is trained (NSP)
    assert recipe_for("htclib", "minilm") == "htclib"


def test_pooler_check_tells_an_initialised_pooler_from_a_trained_one():
    from htclib.method.encoders import pooler_check

    enc = tiny_bert(pooler=True)
    assert pooler_check(enc)["trained"] is False  # as BERT initialises it
    with torch.no_grad():  # what training leaves: a bias, heavy tails, a stretched spectrum
        w = enc.pooler.dense.weight
        w.copy_(torch.distributions.StudentT(2.5).sample(w.shape) * 0.02)
        enc.pooler.dense.bias.fill_(0.01)
    c = pooler_check(enc)
    assert c["trained"] is True and c["kurtosis"] > 1
    assert pooler_check(tiny_bert())["trained"] is None  # no pooler at all


def test_classifying_on_an_untrained_pooler_warns():
    from htclib.method.models import build_model

    cfg = apply_recipe(RunConfig(model=ModelConfig(prefix=PrefixConfig(length=3))), "ptv2").model
    with pytest.warns(UserWarning, match="pooler was never trained"):
        build_model(cfg, H, tiny_bert(pooler=True))


@pytest.mark.integration
def test_minilm_pooler_is_untrained_as_the_recipes_assume():
    from htclib.method.encoders import load_encoder, pooler_check
    from htclib.method.recipes import UNTRAINED_POOLER

    c = pooler_check(load_encoder("minilm")[1])
    assert c["trained"] is False and c["bias_abs_max"] == 0.0
    assert c["top_singular_value"] < c["random_edge"] and c["reference_kurtosis"] > 5
    assert "minilm" in UNTRAINED_POOLER


def test_ptv2_prefix_dropout_draws_a_mask_per_example():
    """P-tuning v2 runs its prefix encoder on the batch's expanded prefix tokens, so each row
    gets its own dropout mask: two copies of one text in a batch see different prefixes."""
    cfg = apply_recipe(RunConfig(model=ModelConfig(prefix=PrefixConfig(length=3))), "ptv2").model
    cfg.encoder_dropout = False  # the prefix's dropout alone
    model = GlobalSPP(replace_pooling(cfg), H, tiny_bert(dropout=0.0))
    ids = torch.tensor([[1, 5, 6, 2], [1, 5, 6, 2]])
    mask = torch.ones_like(ids)
    model.train()
    torch.manual_seed(0)
    out = model.cls_states(ids, mask)
    assert not torch.allclose(out[0], out[1])  # one mask per row
    model.eval()
    out = model.cls_states(ids, mask)
    assert torch.allclose(out[0], out[1])  # and none at inference


def replace_pooling(cfg):
    from dataclasses import replace

    return replace(cfg, pooling="cls")
