"""htclib.attention: attention dropout without SDPA's math fallback, the same computation."""

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_bert
from torch import nn

from htclib.attention import NAME, dropout_attention, training_attention
from htclib.prefix import PrefixConfig, PrefixEncoder, encode, expand_prefix


def _qkv(seed=0, b=3, h=2, t=5, s=9, d=4):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, n, d, generator=g) for n in (t, s, s))
    return q, k, v


def _module(training=True):
    m = nn.Module()
    m.train(training)
    m.is_causal = False
    return m


@pytest.mark.parametrize("masked", [False, True])
def test_dropout_attention_is_softmax_times_kept_over_keep_rate(masked):
    """Given the mask it draws (re-drawn here from the same seed), the output is exactly
    dropout(softmax(q k^T s + mask)) v with each kept probability scaled by 1 / (1 - p)."""
    q, k, v = _qkv()
    q.requires_grad_(True)
    mask = None
    if masked:  # the last 3 keys of row 0 masked out, boolean as SDPA's mask function gives
        mask = torch.ones(3, 1, 5, 9, dtype=torch.bool)
        mask[0, :, :, -3:] = False
    p, s = 0.3, 0.5
    torch.manual_seed(11)
    out, _ = dropout_attention(_module(), q, k, v, mask, dropout=p, scaling=s)
    torch.manual_seed(11)
    keep = torch.empty(3, 2, 5, 9, dtype=torch.bool).bernoulli_(1 - p)
    scores = (q @ k.transpose(-1, -2)) * s
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    ref = ((scores.softmax(-1) * keep / (1 - p)) @ v).transpose(1, 2)
    assert out.shape == (3, 5, 2, 4)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-5)
    # some probabilities were dropped and some kept (the draw is not degenerate)
    assert 0.5 < keep.float().mean() < 0.9
    (g_out,) = torch.autograd.grad(out.sum(), q)
    (g_ref,) = torch.autograd.grad(ref.sum(), q)
    torch.testing.assert_close(g_out, g_ref, atol=1e-6, rtol=1e-5)
    if masked:  # masked keys get no weight: changing their values changes nothing
        torch.manual_seed(11)
        v2 = v.clone()
        v2[0, :, -3:] = 1e6
        out2, _ = dropout_attention(_module(), q, k, v2, mask, dropout=p, scaling=s)
        torch.testing.assert_close(out2, out)


def test_dropout_attention_is_unbiased():
    """Averaged over many masks it is attention without dropout (what dropout promises)."""
    q, k, v = _qkv(1)
    exact = F.scaled_dot_product_attention(q, k, v, scale=0.5).transpose(1, 2)
    torch.manual_seed(0)
    mean = sum(dropout_attention(_module(), q, k, v, None, 0.1, 0.5)[0] for _ in range(3000)) / 3000
    assert (mean - exact).abs().max() < 0.03
    one = dropout_attention(_module(), q, k, v, None, 0.1, 0.5)[0]
    assert (one - exact).abs().max() > 0.05  # a single draw does differ


def test_without_dropout_it_is_sdpa():
    q, k, v = _qkv(2)
    exact = F.scaled_dot_product_attention(q, k, v, scale=0.3).transpose(1, 2)
    for training, p in ((False, 0.1), (True, 0.0)):
        out, _ = dropout_attention(_module(training), q, k, v, None, p, 0.3)
        torch.testing.assert_close(out, exact)


def test_training_attention_switches_sdpa_only_and_restores():
    enc = tiny_bert()
    assert enc.config._attn_implementation == "sdpa"
    with training_attention(enc):
        assert enc.config._attn_implementation == NAME
        with training_attention(enc):  # nested: the outer block decides
            assert enc.config._attn_implementation == NAME
        assert enc.config._attn_implementation == NAME
    assert enc.config._attn_implementation == "sdpa"
    with pytest.raises(RuntimeError), training_attention(enc):
        raise RuntimeError("restored even on error")
    assert enc.config._attn_implementation == "sdpa"
    enc.config._attn_implementation = "eager"
    with training_attention(enc):
        assert enc.config._attn_implementation == "eager"


def test_encode_in_eval_mode_unchanged_and_padding_respected():
    """Through the whole encoder: eval mode gives what plain SDPA gives; in training mode with
    only attention dropout, padded tokens stay invisible (their ids do not matter)."""
    enc = tiny_bert(dropout=0.0)
    prefix = PrefixEncoder(PrefixConfig(length=3, init_std=0.5), enc)
    ids = torch.randint(5, 100, (4, 7))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    kv = expand_prefix(prefix(), 4)
    with torch.no_grad():
        ours = encode(enc, ids, mask, kv)
        enc.config._attn_implementation = "eager"  # the reference: transformers' own path
        ref = encode(enc, ids, mask, kv)
        enc.config._attn_implementation = "sdpa"
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)

    for layer in enc.encoder.layer:
        layer.attention.self.dropout.p = 0.2
    enc.train()
    ids2 = ids.clone()
    ids2[1, 4:] = 7  # different ids behind the padding
    torch.manual_seed(3)
    a = encode(enc, ids, mask, kv)
    torch.manual_seed(3)
    b = encode(enc, ids2, mask, kv)
    torch.testing.assert_close(a, b)
    torch.manual_seed(4)
    c = encode(enc, ids, mask, kv)
    assert (a - c).abs().max() > 1e-4  # dropout is on: another draw differs
