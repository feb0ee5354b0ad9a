import math

import numpy as np
import pytest
import torch

import htclib.method.contrastive as C
from htclib.data import tokens
from htclib.data.hierarchy import Hierarchy
from htclib.method.contrastive import alignment_uniformity, simcse_loss
from htclib.method.models import GlobalSPP, ModelConfig
from htclib.method.prefix import PrefixConfig
from htclib.training.experiment import ContrastiveConfig
from htclib.training.pretrain import pretrain_prefix, two_views
from htclib.training.train import TrainConfig
from tests.conftest import tiny_bert, toy_texts

Z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
Z2 = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


def _cos(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_simcse_denominator_by_hand():
    a, b, t = Z1.numpy(), Z2.numpy(), 0.1
    want = 0.0
    for i in range(3):
        num = math.exp(_cos(a[i], b[i]) / t)
        den = sum(math.exp(_cos(a[i], b[j]) / t) for j in range(3))
        want += -math.log(num / den)
    assert simcse_loss(Z1, Z2, t, "simcse").item() == pytest.approx(want / 3, rel=1e-5)


def test_paper_denominator_by_hand():
    a, b, t = Z1.numpy(), Z2.numpy(), 0.1
    want = 0.0
    for i in range(3):
        num = math.exp(_cos(a[i], b[i]) / t)
        den = sum(math.exp(_cos(a[i], a[j]) / t) for j in range(3) if j != i)
        want += -math.log(num / den)
    assert simcse_loss(Z1, Z2, t, "paper").item() == pytest.approx(want / 3, rel=1e-5)


@pytest.mark.parametrize("den", ["simcse", "paper"])
def test_identical_views_beat_shuffled(den):
    z = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
    perm = torch.roll(torch.arange(16), 1)
    assert simcse_loss(z, z, 0.1, den) < simcse_loss(z, z[perm], 0.1, den)


def test_temperature_scaling():
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    # Identical views: a lower temperature sharpens the softmax towards the positive.
    assert simcse_loss(z, z, 0.05) < simcse_loss(z, z, 0.5) < simcse_loss(z, z, 5.0)
    # Very high temperature: the softmax is flat, loss -> log N.
    assert simcse_loss(z, z, 1e4).item() == pytest.approx(math.log(8), rel=1e-3)
    with pytest.raises(ValueError, match="temperature"):
        simcse_loss(z, z, 0.0)
    with pytest.raises(ValueError, match="denominator"):
        simcse_loss(z, z, 0.1, "other")


def test_alignment_uniformity_known_values():
    h = np.eye(4)
    d = alignment_uniformity(h, h)
    assert d["alignment"] == 0.0
    assert d["uniformity"] == pytest.approx(-4.0)  # all pairs at squared distance 2


def _spp(toy_tok, dropout=0.1):
    texts, paths = toy_texts(48)
    h = Hierarchy.from_paths([p for ps in paths for p in ps])
    # Dropout is fixed when the modules are built (changing the config afterwards does nothing).
    bert = tiny_bert(init=0.2, dropout=dropout)
    return GlobalSPP(ModelConfig(prefix=PrefixConfig(length=4)), h, bert), tokens.tokenize(
        texts, toy_tok, 24
    )


def test_views_differ_and_encoder_stays_frozen(toy_tok):
    model, ds = _spp(toy_tok)
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    v1, v2 = two_views(model, ds, 0, n=16)
    assert not np.allclose(v1, v2)  # dropout active: two masks
    no_drop, _ = _spp(toy_tok, dropout=0.0)
    n1, n2 = two_views(no_drop, ds, 0, n=16)
    assert np.allclose(n1, n2)  # the control: without dropout the two views are one
    p0 = model.prefix.kv.detach().clone()
    model.encoder_dropout = False  # a recipe without it: the BCE stage must get False back
    hist = pretrain_prefix(
        model, ds, 0, ContrastiveConfig(epochs=1, batch_size=16), TrainConfig(), progress=False
    )
    assert len(hist["loss"]) == 3 and {"alignment", "uniformity"} <= set(hist["after"])
    assert all(torch.equal(before[k], v) for k, v in model.encoder.state_dict().items())
    assert not torch.equal(p0, model.prefix.kv)
    assert not model.encoder.training and not model.encoder_dropout


def test_pretrained_prefix_is_what_bce_starts_from(toy_tok, monkeypatch):
    import htclib.training.experiment as E

    model, ds = _spp(toy_tok)
    pretrain_prefix(
        model,
        ds,
        0,
        ContrastiveConfig(epochs=1, batch_size=16, max_steps=2),
        TrainConfig(),
        progress=False,
    )
    after_cl = model.prefix.kv.detach().clone()
    # The BCE stage optimises the very same parameter object: nothing re-initialises it.
    assert model.body_parameters()[0] is model.prefix.kv
    assert torch.equal(model.body_parameters()[0].detach(), after_cl)
    assert E.ContrastiveConfig().temperature == 0.1 and E.ContrastiveConfig().batch_size == 64


@pytest.mark.parametrize("den", ["simcse", "paper"])
def test_collapse_value_is_the_loss_of_identical_embeddings(den):
    # All rows alike: no pair is more similar than another, the loss is log n (log(n-1)).
    z = torch.ones(6, 4)
    loss = simcse_loss(z, z.clone(), 0.1, den).item()
    assert loss == pytest.approx(C.collapse_value(6, den), abs=1e-5)
    # A healthy batch (distinct rows, matching views) sits well below it.
    zz = torch.eye(6, 4 + 2)
    assert simcse_loss(zz, zz.clone(), 0.1, den).item() < C.collapse_value(6, den) - 1
    assert C.collapsed_share([loss, 0.5, loss, 0.2], [6, 6, 6, 6], den) == 0.5
