"""LoRA, IA3, prompt tuning, BitFit and bottleneck adapters behind the deep prefix's head and
trainer: each trains on a tiny random BERT, changes only what it should, round-trips its
artifact, and refuses a backbone it was not trained on."""

import pytest
import torch

from htclib.method.configs import PEFT_METHODS
from htclib.method.models import ModelConfig, build_model
from htclib.method.peft_methods import lora_rank_matching, trained_share
from htclib.method.prefix import PrefixConfig
from htclib.training.artifacts import ArtifactMismatchError, load_artifact, save_artifact
from htclib.training.experiment import dev_scorer
from htclib.training.train import TrainConfig, fit, predict_logits
from tests.conftest import tiny_bert
from tests.test_train import toy_problem

pytest.importorskip("peft")


def _model(method, encoder_seed=0, **kw):
    h, *_ = toy_problem_cached()
    cfg = ModelConfig(method, prefix=PrefixConfig(length=4), **kw)
    return build_model(cfg, h, tiny_bert(seed=encoder_seed, init=0.2))


_PROBLEM = {}


def toy_problem_cached():
    from tests.conftest import ToyTokenizer

    if "p" not in _PROBLEM:
        _PROBLEM["p"] = toy_problem(ToyTokenizer(), n_train=64, n_dev=32)
    return _PROBLEM["p"]


@pytest.mark.parametrize("method", PEFT_METHODS)
def test_each_method_trains_only_its_own_parameters_and_round_trips(method, tmp_path):
    h, tr, ytr, dv, ydv = toy_problem_cached()
    model = _model(method, peft_size=4 if method in ("lora", "adapter") else None)
    body = model.body_parameters()
    assert body and all(p.requires_grad for p in body)
    frozen = {n: p.detach().clone() for n, p in model.encoder.named_parameters()
              if not p.requires_grad}  # fmt: skip
    assert frozen  # most of the encoder stays frozen
    before = {id(p): p.detach().clone() for p in body}
    res = fit(model, body, model.head_parameters(), tr, ytr, dv, ydv,
              TrainConfig(max_epochs=1, batch_size=16, lr=1e-2, head_lr=1e-2, seed=0),
              0, dev_scorer(h, 0.5, False), progress=False)  # fmt: skip
    assert res.history and torch.isfinite(torch.tensor(res.history[0]["train_loss"]))
    assert any(not torch.equal(before[id(p)], p.detach()) for p in body)  # it trained
    for n, p in model.encoder.named_parameters():
        if n in frozen:
            assert torch.equal(frozen[n], p.detach()), n  # the frozen weights did not move
    assert 0 < model.params_share() < 20
    logits = predict_logits(model, dv, 0, 64, torch.device("cpu"))
    folder = save_artifact(model, tmp_path / "artifact")
    again = load_artifact(folder, encoder=tiny_bert(seed=0, init=0.2), hierarchy=h)
    assert torch.allclose(
        torch.as_tensor(predict_logits(again, dv, 0, 64, torch.device("cpu"))),
        torch.as_tensor(logits), atol=1e-5,
    )  # fmt: skip
    with pytest.raises(ArtifactMismatchError, match="refusing to load onto a different encoder"):
        load_artifact(folder, encoder=tiny_bert(seed=1, init=0.2), hierarchy=h)


@pytest.mark.parametrize("method, size", [("lora", 4), ("lora", 8), ("prompt", None),
                                          ("adapter", 16)])  # fmt: skip
def test_trained_share_formula_counts_what_the_built_model_trains(method, size):
    model = _model(method, peft_size=size)
    n_enc = sum(p.numel() for n, p in model.encoder.named_parameters()
                if not (n.startswith("peft") or "lora_" in n or "prompt" in n))  # fmt: skip
    share = 100.0 * sum(p.numel() for p in model.body_parameters()) / n_enc
    got = trained_share(method, tiny_bert(seed=0, init=0.2), size, length=4)
    assert got == pytest.approx(share, rel=1e-6)


def test_lora_rank_matching_picks_the_nearest_share():
    enc = tiny_bert(seed=0, init=0.2)
    r = lora_rank_matching(trained_share("lora", enc, 6), enc)
    assert r == 6


def test_bad_sizes_and_methods_fail_clearly():
    with pytest.raises(ValueError, match="peft_size must be a positive integer"):
        ModelConfig("lora", peft_size=0)
    with pytest.raises(ValueError, match="method must be one of"):
        ModelConfig("qlora")


def test_the_cpu_profile_searches_each_row_s_lr_before_it_trains_seeds():
    from htclib.lab import profiles

    p = profiles.get_profile("cpu")
    search = profiles.peft_search_runs(p, "wos")
    assert len(search) == sum(len(p.peft_lr_grid[m]) for m, _ in p.peft_rows.values())
    assert {c.train.seed for c in search} == {0} and profiles.peft_search_runs(p, "amazon3") == []
    assert all(c.name.startswith("wos/") and "-lr" in c.name for c in search)
    # a row with no chosen lr is not planned; with one, its claim seeds are
    assert all(tag not in p.peft_lrs for tag in p.peft_rows) or profiles.peft_method_runs(p, "wos")
    chosen = profiles.replace(p, peft_lrs={"lora-r15": 1e-3})
    rows = profiles.peft_method_runs(chosen, "wos")
    assert [c.name for c in rows] == [f"wos/lora-r15/s{s}" for s in p.claim_seeds]
    # the row's seed 0 is the search's run at that lr: the same key, trained once
    same = next(c for c in search if c.name == "wos/lora-r15-lr0.001/s0")
    assert rows[0].key() == same.key()


def test_search_winners_pick_the_best_dev_score():
    from htclib.lab import profiles

    p = profiles.get_profile("cpu")
    recs = [
        {"name": "wos/ia3-lr0.001/s0", "seed": 0, "best_dev": 0.50},
        {"name": "wos/ia3-lr0.003/s0", "seed": 0, "best_dev": 0.58},
        {"name": "wos/ia3-lr0.01/s0", "seed": 0, "best_dev": 0.58},  # a tie: the smaller lr
        {"name": "wos/ia3-lr0.01/s1", "seed": 1, "best_dev": 0.99},  # not the search's seed
        {"name": "amazon3/ia3-lr0.01/s0", "seed": 0, "best_dev": 0.99},  # not its data set
        {"name": "wos/spp-P30/s0", "seed": 0, "best_dev": 0.99},
    ]
    won = profiles.peft_search_winners(recs, p)
    assert list(won) == ["ia3"] and won["ia3"]["lr"] == 0.003
    assert won["ia3"]["scores"] == {0.001: 0.50, 0.003: 0.58, 0.01: 0.58}


@pytest.mark.integration
def test_the_matched_rows_train_the_prefix_s_share_on_minilm():
    from htclib.lab import profiles
    from htclib.method.encoders import load_encoder
    from htclib.method.prefix import n_prefix_params

    _, enc = load_encoder("minilm")
    prefix = (
        100
        * n_prefix_params(PrefixConfig(length=30), enc)
        / sum(p.numel() for p in enc.parameters())
    )
    rows = profiles.get_profile("cpu").peft_rows
    assert trained_share("lora", enc, rows["lora-r15"][1]) == pytest.approx(prefix, rel=1e-9)
    assert trained_share("adapter", enc, rows["adapter-29"][1]) == pytest.approx(prefix, rel=0.02)
