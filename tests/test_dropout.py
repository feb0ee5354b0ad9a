"""htclib.method.dropout: the cheap masks are dropout (rate, scaling, gradient), attention with them is
softmax attention with the drawn mask, and an encoder swapped to them is the same model."""

import copy

import pytest
import torch
from torch import nn

from htclib.method import prefix as P
from htclib.method.dropout import ATTENTION, FastDropout, attention, fast_dropout, use_fast_dropout
from tests.conftest import tiny_bert


def test_fast_dropout_keeps_one_minus_p_scaled_and_passes_the_mask_back():
    torch.manual_seed(0)
    x = torch.ones(1_000_000, requires_grad=True)
    y = fast_dropout(x, 0.1)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.0015  # 5 binomial standard deviations at n = 1e6
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.9))  # inverted scaling
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # d(sum)/dx = the scaled mask
    assert fast_dropout(x, 0.1, training=False) is x
    assert fast_dropout(x, 0.0) is x
    assert not fast_dropout(x, 1.0).any()
    m = FastDropout(0.5).eval()
    assert m(x) is x


class _Module(nn.Module):  # what transformers passes as ``module``: training flag, not causal
    is_causal = False


@pytest.mark.parametrize("mask_kind", ["bool", "additive", "none"])
def test_attention_with_dropout_is_softmax_attention_with_the_drawn_mask(mask_kind):
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 3, 5, 4, generator=g)
    k, v = torch.randn(2, 3, 7, 4, generator=g), torch.randn(2, 3, 7, 4, generator=g)
    keep = torch.ones(2, 1, 5, 7, dtype=torch.bool)
    keep[1, ..., 5:] = False  # padded keys of the second row
    mask = {"bool": keep, "additive": torch.zeros(keep.shape).masked_fill(~keep, -1e9)}.get(
        mask_kind
    )
    torch.manual_seed(7)
    out, weights = attention(_Module(), q, k, v, mask, dropout=0.3, scaling=0.4)
    assert weights is None
    torch.manual_seed(7)
    u = torch.rand(2, 3, 5, 7)  # the same draw as the function's rand_like
    scores = (q @ k.transpose(-1, -2)) * 0.4
    if mask is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    ref = (torch.softmax(scores, -1) * (u >= 0.3) / 0.7) @ v
    torch.testing.assert_close(out, ref.transpose(1, 2), atol=1e-6, rtol=1e-5)
    # no dropout: SDPA itself
    plain, _ = attention(_Module(), q, k, v, mask, dropout=0.0, scaling=0.4)
    nodrop = torch.softmax(scores, -1) @ v
    torch.testing.assert_close(plain, nodrop.transpose(1, 2), atol=1e-6, rtol=1e-5)


def test_encoder_with_fast_dropout_is_the_same_model():
    """Same weights and state dict, the same outputs without dropout (prefix, padding, the
    [CLS]-only last layer), and in training a random function whose prefix gets gradients."""
    stock = tiny_bert(seed=0, init=0.2)
    fast = use_fast_dropout(copy.deepcopy(stock))
    assert not any(type(m) is nn.Dropout for m in fast.modules())
    assert sum(isinstance(m, FastDropout) for m in fast.modules()) == sum(
        type(m) is nn.Dropout for m in stock.modules()
    )
    assert fast.config._attn_implementation == ATTENTION
    assert use_fast_dropout(fast) is fast  # idempotent
    sa, sb = stock.state_dict(), fast.state_dict()
    assert list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)
    layers, heads, dim = P.encoder_dims(stock)
    kv = torch.randn(layers, 2, heads, 4, dim, requires_grad=True)
    ids = torch.randint(5, 90, (3, 10), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[2, 6:] = 0
    stock.eval(), fast.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            P.encode(fast, ids, mask, kv), P.encode(stock, ids, mask, kv), atol=0, rtol=0
        )
    fast.train()
    torch.manual_seed(3)
    a = P.encode(fast, ids, mask, kv)
    b = P.encode(fast, ids, mask, kv)
    assert not torch.allclose(a, b)  # dropout is on: two draws
    (a.sin().sum() + b.sin().sum()).backward()  # a plain sum of a LayerNorm output is flat
    assert kv.grad is not None and torch.isfinite(kv.grad).all() and kv.grad.abs().sum() > 0


def test_htclib_models_draw_cheap_masks_and_peft_keeps_stock_ones():
    from htclib.data.hierarchy import Hierarchy
    from htclib.method.configs import ModelConfig
    from htclib.method.models import build_model

    h = Hierarchy.from_paths([["a", "a1"], ["a", "a2"], ["b", "b1"]])
    for method in ("cls", "spp"):
        model = build_model(ModelConfig(method=method), h, tiny_bert(seed=0))
        assert not any(type(m) is nn.Dropout for m in model.encoder.modules()), method
    pytest.importorskip("peft")
    model = build_model(ModelConfig(method="peft"), h, tiny_bert(seed=0))
    assert not any(isinstance(m, FastDropout) for m in model.modules())


def test_word_masks_keep_one_minus_p_unbiased_and_pass_the_mask_back():
    torch.manual_seed(0)
    x = torch.ones(1_000_001, requires_grad=True)  # not a multiple of 4: the last word's tail
    y = fast_dropout(x, 0.1, masks="words")
    rate = round(0.1 * 65536) / 65536  # p on the 16-bit draws' grid
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - rate) < 0.0015  # 5 binomial standard deviations at n = 1e6
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - rate)))
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())
    # four draws per word, each uniform: every quarter of the words' views drops at the rate
    torch.manual_seed(1)
    quarters = (fast_dropout(torch.ones(400_000), 0.3, masks="words") == 0).view(-1, 4).float()
    for q in quarters.mean(0).tolist():
        assert abs(q - round(0.3 * 65536) / 65536) < 0.004  # 5 sd at n = 1e5
    torch.manual_seed(2)
    a = fast_dropout(torch.ones(1000), 0.5, masks="words")
    torch.manual_seed(2)
    assert torch.equal(a, fast_dropout(torch.ones(1000), 0.5, masks="words"))  # seeded
    assert not fast_dropout(x, 0.999995, masks="words").any()  # rounds to 1: all dropped
    with pytest.raises(ValueError, match="dropout masks 'bits'"):
        fast_dropout(x, 0.1, masks="bits")
    with pytest.raises(ValueError, match="dropout masks 'bits'"):
        use_fast_dropout(tiny_bert(seed=0), masks="bits")


def test_an_encoder_set_to_word_masks_draws_them_in_every_dropout_and_its_attention():
    enc = use_fast_dropout(tiny_bert(seed=0, init=0.2), masks="words")
    drops = [m for m in enc.modules() if isinstance(m, FastDropout)]
    assert drops and all(m.masks == "words" for m in drops)
    selfs = [m for m in enc.modules() if type(m).__name__.endswith("SelfAttention")]
    assert selfs and all(m.htclib_masks == "words" for m in selfs)
    # attention() reads the module's setting: the draw is the words', not rand_like's
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 3, 4, generator=g) for _ in range(3))
    torch.manual_seed(7)
    out, _ = attention(selfs[0], q, k, v, None, dropout=0.3, scaling=0.5)
    torch.manual_seed(7)
    probs = torch.softmax((q @ k.transpose(-1, -2)) * 0.5, -1)
    ref = fast_dropout(probs, 0.3, masks="words") @ v
    torch.testing.assert_close(out, ref.transpose(1, 2), atol=1e-6, rtol=1e-5)
    torch.manual_seed(7)
    rand_ref = fast_dropout(probs, 0.3) @ v
    assert not torch.allclose(out, rand_ref.transpose(1, 2))
    use_fast_dropout(enc)  # back to the models' masks
    assert all(m.masks == "rand" for m in drops) and all(m.htclib_masks == "rand" for m in selfs)


def test_model_config_chooses_the_masks_and_keeps_the_records_keys():
    """``ModelConfig.dropout_masks`` reaches every dropout of CLS, SPP and local models; at its
    default a run keeps the key it had before the field existed, the other draw gets its own
    key and its own table label; a wrong name is refused before anything is built."""
    from htclib.data.hierarchy import Hierarchy
    from htclib.lab.results import recipe_label
    from htclib.method.configs import ModelConfig
    from htclib.method.local import LocalSPP
    from htclib.method.models import build_model
    from htclib.training.experiment import RunConfig

    h = Hierarchy.from_paths([["a", "a1"], ["a", "a2"], ["b", "b1"]])
    for masks in ("rand", "words"):
        cfg = ModelConfig(method="spp", dropout_masks=masks)
        built = [
            build_model(ModelConfig(method=m, dropout_masks=masks), h, tiny_bert(seed=0))
            for m in ("cls", "spp")
        ] + [LocalSPP(cfg, h, tiny_bert(seed=0))]
        for model in built:
            drops = [m for m in model.encoder.modules() if isinstance(m, FastDropout)]
            assert drops and all(d.masks == masks for d in drops)
            others = [m for m in model.encoder.modules() if not isinstance(m, FastDropout)]
            assert all(m.htclib_masks == masks for m in others)  # what attention() reads
    plain = RunConfig(model={"method": "spp"})
    same = RunConfig(model={"method": "spp", "dropout_masks": "rand"})
    words = RunConfig(model={"method": "spp", "dropout_masks": "words"})
    assert plain.key() == same.key() != words.key()
    model = {"encoder_dropout": True, "dropout_masks": "words"}
    rec = {"method": "spp", "config": {"model": model}}
    assert recipe_label(rec) == "htclib+words"
    with pytest.raises(ValueError, match="dropout_masks"):
        ModelConfig(dropout_masks="bits")
