"""A prefix in the top layers only (``PrefixConfig.top_layers``): the layers below run once per
text from a cache, the top ones with the prefix."""

import pytest
import torch

from htclib.data.hierarchy import Hierarchy
from htclib.method import prefix as P
from htclib.method.configs import ModelConfig
from htclib.method.models import GlobalSPP
from tests.conftest import tiny_bert

H2 = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "z")])


def _reference(bert, ids, mask, kv_top):
    """The same model by hand, layer by layer: the lower layers on the text alone, the top ones
    with their prefix in the cache (an additive mask, no encoder forward, no [CLS] shortcut)."""
    n_layers, heads, dim = P.encoder_dims(bert)
    first = n_layers - kv_top.shape[0]
    batch, seq = ids.shape
    h = bert.embeddings(
        input_ids=ids,
        token_type_ids=torch.zeros_like(ids),
        position_ids=torch.arange(seq).expand(batch, -1),
    )
    neg = torch.finfo(h.dtype).min
    text_mask = (1.0 - mask[:, None, None, :].float()) * neg
    for layer in bert.encoder.layer[:first]:
        h = layer(h, text_mask)
    full = torch.cat([torch.zeros(first, *kv_top.shape[1:]), kv_top])
    cache = P.build_cache(full, batch)
    p = kv_top.shape[-2]
    both = torch.cat([torch.ones(batch, p), mask.float()], 1)
    pre_mask = (1.0 - both[:, None, None, :]) * neg
    for layer in bert.encoder.layer[first:]:
        h = layer(h, pre_mask, past_key_values=cache)
    return h[:, 0]


@pytest.mark.parametrize("top", [1, 2, 3])
def test_top_layer_prefix_matches_a_layer_by_layer_reference(top):
    bert = tiny_bert(seed=0, layers=4, init=0.2)
    ids = torch.randint(5, 90, (3, 10), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    ids[1, 7:] = 0
    model = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=4, top_layers=top)), H2, bert)
    model.eval()
    assert model.prefix.kv.shape == (top, 2, 4, 4, 8)
    got = model.cls_states(ids, mask)
    torch.testing.assert_close(
        got, _reference(bert, ids, mask, model.prefix.kv.detach()), atol=1e-5, rtol=0
    )
    # the lower layers really see no prefix: changing the prefix changes the output
    with torch.no_grad():
        model.prefix.kv.mul_(2)
    assert not torch.allclose(model.cls_states(ids, mask), got, atol=1e-4)
    assert P.n_prefix_params(model.cfg.prefix, bert) == model.prefix.kv.numel()


def test_all_layers_is_the_plain_deep_prefix(bert, batch):
    ids, mask = batch
    every = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=3)), H2, bert).eval()
    top = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=3, top_layers=2)), H2, bert).eval()
    top.prefix.kv.data.copy_(every.prefix.kv.data)
    assert top.prefix.first_layer == 0  # the whole depth: no cache, the usual path
    torch.testing.assert_close(top.cls_states(ids, mask), every.cls_states(ids, mask))


def test_lower_states_are_computed_once_per_text_whatever_the_padding():
    bert = tiny_bert(seed=1, layers=3, init=0.2)
    model = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=2, top_layers=1)), H2, bert)
    model.eval()
    ids = torch.randint(5, 90, (2, 6), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    a = model.cls_states(ids, mask)
    assert model.lower_states.computed == 2
    # the same two texts padded to 9 tokens inside a bigger batch: found, not recomputed
    padded = torch.cat([ids, torch.zeros(2, 3, dtype=ids.dtype)], 1)
    pmask = torch.cat([mask, torch.zeros(2, 3, dtype=mask.dtype)], 1)
    other = torch.randint(5, 90, (1, 9), generator=torch.Generator().manual_seed(4))
    b = model.cls_states(torch.cat([padded, other]), torch.cat([pmask, torch.ones(1, 9).long()]))
    assert model.lower_states.computed == 3
    torch.testing.assert_close(b[:2], a, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="right-padded"):
        model.cls_states(ids, torch.tensor([[0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]))


def test_a_training_step_moves_the_top_prefix_and_head_only():
    bert = tiny_bert(seed=0, layers=3, init=0.2)
    model = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=3, top_layers=2)), H2, bert)
    before = {k: v.clone() for k, v in bert.state_dict().items()}
    p0 = model.prefix.kv.clone()
    opt = torch.optim.AdamW(model.body_parameters() + model.head_parameters(), lr=1e-2)
    model.train()
    ids = torch.randint(5, 90, (4, 8), generator=torch.Generator().manual_seed(5))
    logits = model(ids, torch.ones_like(ids))
    torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.ones(4, H2.n_labels)
    ).backward()
    assert model.prefix.kv.grad.abs().sum(dim=(1, 2, 3, 4)).min() > 0  # both top layers learn
    opt.step()
    assert not torch.equal(p0, model.prefix.kv)
    assert all(torch.equal(before[k], v) for k, v in bert.state_dict().items())
    assert model.encoder.training  # the top layers keep the recipe's dropout
    assert "forward" not in vars(bert.embeddings) and len(bert.encoder.layer) == 3  # restored


def test_bad_top_layers_are_named():
    bert = tiny_bert(layers=2)
    with pytest.raises(ValueError, match="top_layers must be an int >= 1"):
        P.PrefixConfig(top_layers=0)
    with pytest.raises(ValueError, match="encoder has 2 layers"):
        P.PrefixEncoder(P.PrefixConfig(top_layers=3), bert)
    with pytest.raises(ValueError, match="not with shift_positions"):
        P.PrefixConfig(top_layers=1, shift_positions=True)
    with pytest.raises(ValueError, match="global SPP switch"):
        ModelConfig(method="local", prefix=P.PrefixConfig(top_layers=1))


def test_a_default_config_keeps_its_key():
    from htclib.training.experiment import RunConfig

    base = RunConfig()
    top = RunConfig(model=ModelConfig(prefix=P.PrefixConfig(top_layers=4)))
    same = RunConfig(model=ModelConfig(prefix=P.PrefixConfig(top_layers=None)))
    assert same.key() == base.key() and top.key() != base.key()
