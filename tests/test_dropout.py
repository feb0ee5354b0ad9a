"""htclib.dropout: the cheap masks are dropout (rate, scaling, gradient), attention with them is
softmax attention with the drawn mask, and an encoder swapped to them is the same model."""

import copy

import pytest
import torch
from torch import nn

from htclib import prefix as P
from htclib.dropout import ATTENTION, FastDropout, attention, fast_dropout, use_fast_dropout
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
    from htclib.configs import ModelConfig
    from htclib.hierarchy import Hierarchy
    from htclib.models import build_model

    h = Hierarchy.from_paths([["a", "a1"], ["a", "a2"], ["b", "b1"]])
    for method in ("cls", "spp"):
        model = build_model(ModelConfig(method=method), h, tiny_bert(seed=0))
        assert not any(type(m) is nn.Dropout for m in model.encoder.modules()), method
    pytest.importorskip("peft")
    model = build_model(ModelConfig(method="peft"), h, tiny_bert(seed=0))
    assert not any(isinstance(m, FastDropout) for m in model.modules())
