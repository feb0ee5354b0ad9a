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


def test_best_method_is_chosen_on_dev_at_each_row_s_chosen_lr():
    from htclib.lab import profiles
    from htclib.lab.claims import best_method_claims, claims_for

    p = profiles.replace(profiles.get_profile("cpu"), peft_lrs={"lora-r15": 1e-3, "ia3": 3e-3})

    def rec(method, seed, dev, lr, size=None, prefix="-", ds="wos"):
        return {"dataset": ds, "method": method, "variant": "", "prefix_length": prefix,
                "seed": seed, "best_dev": dev,
                "config": {"model": {"recipe": "htclib", "encoder_dropout": True, "peft_size": size},
                           "train": {"lr": lr, "selection": p.selection}}}  # fmt: skip

    recs = [
        rec("spp", 0, 0.63, 0.01, prefix="30"), rec("spp", 1, 0.62, 0.01, prefix="30"),
        rec("lora", 0, 0.64, 1e-3, 15), rec("lora", 1, 0.58, 1e-3, 15),  # mean 0.61
        rec("lora", 0, 0.90, 5e-3, 15),  # another lr of the search: not the row
        rec("ia3", 0, 0.55, 3e-3),
        rec("bitfit", 0, 0.99, 1e-3),  # no lr chosen yet: not a candidate
        rec("lora", 0, 0.99, 1e-3, 15, ds="amazon3"),  # amazon3: one candidate, no claim
    ]  # fmt: skip
    (claim,) = best_method_claims(recs, p)
    assert claim.datasets == ("wos",)
    assert (claim.a.method, claim.a.size, claim.b.method) == ("spp", None, "lora")
    assert claim.a.label() in claim.text and "chosen on dev" in claim.text
    # the registered profile has chosen no lr yet: its claims name no best method, with or
    # without records
    cpu = profiles.get_profile("cpu")
    if not cpu.peft_lrs:
        assert not [c for c in claims_for("cpu", recs) if c.text.startswith("best")]


def test_time_to_target_counts_epochs_until_cls_same_seed_level():
    from htclib.lab.analysis import time_to_target

    def rec(method, seed, devs, size=None, prefix="-", fraction=None):
        return {"dataset": "wos", "method": method, "variant": "", "prefix_length": prefix,
                "seed": seed, "best_dev": max(devs),
                "history": [{"dev_headline": d, "seconds": 10.0} for d in devs],
                "config": {"model": {"recipe": "htclib", "encoder_dropout": True,
                                     "peft_size": size},
                           "data": {"train_fraction": fraction}, "train": {}}}  # fmt: skip

    recs = [
        rec("cls", 0, [0.5, 0.6]), rec("cls", 1, [0.4, 0.8]),
        rec("lora", 0, [0.3, 0.58, 0.6], 15),  # 0.95 x 0.6 = 0.57: epoch 2
        rec("lora", 1, [0.5, 0.7, 0.75], 15),  # 0.95 x 0.8 = 0.76: never
        rec("lora", 2, [0.9], 15),  # no CLS run with seed 2: no target
        rec("spp", 0, [0.1, 0.2, 0.3, 0.59], prefix="30"),  # epoch 4
        rec("cls", 0, [0.99], fraction=0.1),  # a training-size run: not the target
    ]  # fmt: skip
    t = time_to_target(recs).set_index("model")
    assert list(t.index) == ["lora r15", "spp 30"]
    assert t.loc["lora r15", "seeds reaching"] == "1/2"
    assert (
        t.loc["lora r15", "epochs to target"] == 2 and t.loc["lora r15", "seconds to target"] == 20
    )
    assert t.loc["spp 30", "epochs to target"] == 4
