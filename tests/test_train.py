import numpy as np
import pytest
import torch

from htclib.data import tokens
from htclib.data.hierarchy import Hierarchy
from htclib.method.models import CLSTuning, GlobalSPP, ModelConfig
from htclib.method.prefix import PrefixConfig
from htclib.training.experiment import dev_scorer
from htclib.training.train import TrainConfig, fit, make_batches
from tests.conftest import tiny_bert, toy_texts


def toy_problem(toy_tok, n_train=256, n_dev=64):
    tr_t, tr_p = toy_texts(n_train, seed=0)
    dv_t, dv_p = toy_texts(n_dev, seed=1)
    h = Hierarchy.from_paths([p for ps in tr_p + dv_p for p in ps])
    return (
        h,
        tokens.tokenize(tr_t, toy_tok, 32),
        h.encode(tr_p),
        tokens.tokenize(dv_t, toy_tok, 32),
        h.encode(dv_p),
    )


def train_once(
    toy_tok,
    method="spp",
    seed=0,
    epochs=3,
    out_dir=None,
    resume=False,
    batch_size=16,
    head_dropout=0.1,
    **train_kw,
):
    h, tr, ytr, dv, ydv = toy_problem(toy_tok)
    # The frozen encoder quiet (eval mode): the toy budgets are sized for it, and one process's
    # dropout masks are not two processes' (the data-parallel check compares them).
    cfg = ModelConfig(
        method=method,
        prefix=PrefixConfig(length=4),
        head_dropout=head_dropout,
        encoder_dropout=False,
    )
    # A wider init than BERT's 0.02: a random BERT's [CLS] is otherwise nearly input-independent.
    model = (GlobalSPP if method == "spp" else CLSTuning)(cfg, h, tiny_bert(seed=0, init=0.2))
    model.head.init_bias_from_prior(ytr)
    tc = TrainConfig(
        max_epochs=epochs,
        batch_size=batch_size,
        lr=1e-2 if method == "spp" else 1e-3,
        head_lr=1e-2,
        seed=seed,
        patience=10,
        **{"schedule": "constant", **train_kw},
    )
    res = fit(
        model,
        model.body_parameters(),
        model.head_parameters(),
        tr,
        ytr,
        dv,
        ydv,
        tc,
        0,
        dev_scorer(h, 0.5, False),
        out_dir=out_dir,
        resume=resume,
        progress=False,
    )
    return model, res


def test_spp_learns_toy_task(toy_tok):
    _, res = train_once(toy_tok, epochs=5)
    # best_score is the headline (sigmoid > 0.5 micro-F1, what early stopping selects on)
    first, best = res.history[0]["dev_headline"], res.best_score
    assert best == max(r["dev_headline"] for r in res.history)
    assert best > 0.85 and best > first + 0.2
    assert max(r["dev_best_path_micro_f1"] for r in res.history) > 0.9


def test_cls_tuning_learns_and_updates_encoder(toy_tok):
    model, res = train_once(toy_tok, method="cls", epochs=4)
    assert res.best_score > 0.9
    fresh = tiny_bert(seed=0, init=0.2).embeddings.word_embeddings.weight
    assert not torch.equal(model.encoder.embeddings.word_embeddings.weight, fresh)


def test_same_seed_same_metrics(toy_tok):
    _, a = train_once(toy_tok, seed=5, epochs=2)
    _, b = train_once(toy_tok, seed=5, epochs=2)
    assert [r["dev_micro_f1"] for r in a.history] == [r["dev_micro_f1"] for r in b.history]
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]


def test_epoch_repeats_pass_over_the_split_that_many_times(toy_tok):
    """A training-size curve run on a fraction f of the texts repeats it 1/f times an epoch:
    as many steps as the whole split, every text `repeats` times."""
    from htclib.training import train as T

    seen = []
    real = T.collate

    def spy(rows, idx, pad_id, *a, **kw):
        seen.append(np.asarray(idx))
        return real(rows, idx, pad_id, *a, **kw)

    T.collate = spy
    try:
        _, res = train_once(toy_tok, epochs=1, epoch_repeats=3, batch_size=32)
    finally:
        T.collate = real
    h, tr, *_ = toy_problem(toy_tok)
    train_rows = np.concatenate(seen[: -(-3 * len(tr) // 32)])  # the training batches
    assert len(train_rows) == 3 * len(tr)
    assert np.array_equal(np.bincount(train_rows, minlength=len(tr)), np.full(len(tr), 3))
    with pytest.raises(ValueError, match="epoch_repeats"):
        TrainConfig(epoch_repeats=0)


def test_history_and_checkpoint_written(toy_tok, tmp_path):
    _, res = train_once(toy_tok, epochs=2, out_dir=tmp_path)
    assert (tmp_path / "history.json").exists() and (
        tmp_path / "checkpoint" / "MANIFEST.json"
    ).exists()
    assert {"epoch", "train_loss", "dev_micro_f1", "examples_per_s"} <= set(res.history[0])


def test_batches_bucketing_covers_all():
    lengths = np.random.default_rng(0).integers(3, 60, 1000)
    for bucketing in (False, True):
        b = make_batches(lengths, 16, seed=1, bucketing=bucketing)
        assert sorted(np.concatenate(b).tolist()) == list(range(1000))
    pad = lambda bs: sum(lengths[x].max() * len(x) for x in bs)  # noqa: E731
    assert pad(make_batches(lengths, 16, 1, True)) < pad(make_batches(lengths, 16, 1, False))


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"lr": 0}, "lr must be > 0"),
        ({"batch_size": 0}, "batch_size"),
        ({"schedule": "cosine"}, "schedule"),
    ],
)
def test_bad_train_config(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)


def test_data_parallel_matches_one_process(tmp_path):
    """``accelerate launch --multi_gpu --num_processes 2`` on CPU (gloo, 8 rows per process)
    trains the toy SPP to the same parameters and dev scores as one process with batch 16:
    each process takes its half of every global batch and the schedule steps once per
    optimiser step. Dropout is off (each process would draw its own masks)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(worker), str(tmp_path / "one.pt"), "16"], check=True, env=env
    )
    launch = Path(sys.executable).with_name("accelerate")
    # --multi_gpu picks accelerate's torchrun launcher; without a GPU it runs MULTI_CPU on gloo
    done = subprocess.run(
        [
            str(launch),
            "launch",
            "--multi_gpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            str(worker),
            str(tmp_path / "two.pt"),
            "8",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = (torch.load(tmp_path / f) for f in ("one.pt", "two.pt"))
    assert [h["dev_headline"] for h in one["history"]] == [
        h["dev_headline"] for h in two["history"]
    ]
    for (k, a), (_, b) in zip(one["params"].items(), two["params"].items(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), (k, (a - b).abs().max())
    assert one["history"][-1]["train_loss"] == pytest.approx(two["history"][-1]["train_loss"])


def test_head_probe_fits_the_models_start_and_reads_states_in_dataset_order(toy_tok):
    from htclib.method.heads import ClassifierHead
    from htclib.training.train import head_states, predict_logits

    h, tr, ytr, dv, ydv = toy_problem(toy_tok)
    cfg = ModelConfig(method="spp", prefix=PrefixConfig(length=4), encoder_dropout=False)
    model = GlobalSPP(cfg, h, tiny_bert(seed=0, init=0.2))
    model.head.init_bias_from_prior(ytr)
    states = head_states(model, tr, 0, batch_size=7)  # batches by length: rows must come back
    assert states.shape == (len(ytr), model.head.linear.in_features)
    logits = torch.as_tensor(predict_logits(model, tr, 0))
    assert torch.allclose(model.head.linear(states), logits, atol=1e-5)
    score = dev_scorer(h, 0.5, False)

    def train_f1():
        with torch.no_grad():
            return score(torch.sigmoid(model.head.linear(states)).numpy(), ytr)["headline"]

    before, body = train_f1(), [p.detach().clone() for p in model.body_parameters()]
    loose = model.head.fit_probe(states, ytr, c=100.0)
    assert train_f1() > before + 0.3  # the prior-only head predicts (almost) nothing above 0.5
    assert all(torch.equal(a, b) for a, b in zip(body, model.body_parameters(), strict=True))
    # a stronger L2 penalty (smaller C) keeps the weights smaller
    tight = ClassifierHead(states.shape[1], ytr.shape[1])
    tight.fit_probe(states, ytr, c=0.01)
    assert tight.linear.weight.norm() < model.head.linear.weight.norm()
    assert loose > 0
    with pytest.raises(ValueError, match="C must be > 0"):
        tight.fit_probe(states, ytr, c=0.0)
    with pytest.raises(ValueError, match="do not fit a head"):
        tight.fit_probe(states[:, :3], ytr, c=1.0)


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"head_probe": -1.0}, "head_probe must be a C > 0"),
        ({"head_probe": 10.0, "method": "local"}, "local model's level heads"),
    ],
)
def test_bad_head_probe_config(kw, msg):
    with pytest.raises(ValueError, match=msg):
        ModelConfig(**kw)


def test_a_probed_run_starts_from_the_fitted_head_and_records_its_seconds(tmp_path, monkeypatch):
    """``head_probe``: the head that training starts from is the probe's fit to the model's
    start, not the prior-only head, and the record keeps the probe's seconds (time to accuracy
    counts them)."""
    from htclib.method.configs import DataConfig
    from htclib.training import experiment
    from htclib.training import train as T
    from htclib.training.experiment import RunConfig
    from tests.conftest import tiny_workspace

    work = tiny_workspace(tmp_path)

    def cfg(probe):
        return RunConfig(
            f"toy/probe{probe}",
            DataConfig("toy", path=str(work / "data")),
            ModelConfig("spp", str(work / "enc"), PrefixConfig(length=4), head_probe=probe),
            TrainConfig(max_epochs=1, batch_size=16, max_length=24),
        )

    starts = []
    real_fit = T.fit

    def fit(model, *a, **k):
        starts.append(model.head.linear.weight.detach().clone())
        return real_fit(model, *a, **k)

    monkeypatch.setattr(T, "fit", fit)
    plain = experiment.run(cfg(None), tmp_path / "out", progress=False)
    probed = experiment.run(cfg(100.0), tmp_path / "out", progress=False)
    assert "head_probe_seconds" not in plain and probed["head_probe_seconds"] > 0
    # the same seed builds the same start; only the probe moved the head before training
    assert not torch.allclose(starts[0], starts[1])
    assert probed["head_probe_objective"] > 0


def _scripted_fit(toy_tok, micro, macro, **train_kw):
    """fit on the toy problem with the dev scores scripted epoch by epoch."""
    h, tr, ytr, dv, ydv = toy_problem(toy_tok, n_train=32, n_dev=16)
    model = GlobalSPP(ModelConfig(prefix=PrefixConfig(length=2)), h, tiny_bert(seed=0))
    it = iter(range(len(micro)))

    def score(probs, y):
        i = next(it)
        return {"headline": micro[i], "headline_macro_f1": macro[i], "tiebreak": 0.0}

    tc = TrainConfig(max_epochs=len(micro), batch_size=16, patience=2, **train_kw)
    return fit(model, model.body_parameters(), model.head_parameters(), tr, ytr, dv, ydv, tc, 0,
               score, progress=False)  # fmt: skip


def test_hgclr_selection_waits_for_either_score_and_keeps_the_best_macro(toy_tok):
    micro = [0.50, 0.60, 0.55, 0.54, 0.53, 0.52, 0.51]
    macro = [0.20, 0.10, 0.30, 0.25, 0.35, 0.20, 0.20]
    single = _scripted_fit(toy_tok, micro, macro)  # micro alone: best epoch 2, stops after 4
    assert (single.best_epoch, len(single.history)) == (2, 4)
    hg = _scripted_fit(toy_tok, micro, macro, selection="hgclr")
    # macro improves at epochs 3 and 5, so patience runs out only after 7; macro's best is kept
    assert (hg.best_epoch, len(hg.history), hg.best_score) == (5, 7, 0.35)
    with pytest.raises(ValueError, match="selection must be one of"):
        TrainConfig(selection="best-of-both")


def test_packed_rows_collate_as_the_row_lists_do():
    from htclib.training.train import PackedRows, collate

    rng = np.random.default_rng(0)
    rows = [rng.integers(5, 900, size=int(n)).tolist() for n in rng.integers(1, 40, size=300)]
    packed = PackedRows(rows)
    assert len(packed) == 300 and packed[7] == rows[7] and packed[:20][3] == rows[3]
    for trial in range(100):
        idx = rng.choice(300, int(rng.integers(1, 50)), replace=False)
        pad_to = 48 if trial % 4 == 0 else None
        (a_ids, a_mask), (b_ids, b_mask) = (
            collate(rows, idx, 3, pad_to),
            collate(packed, idx, 3, pad_to),
        )
        assert b_ids.dtype == b_mask.dtype == torch.long
        assert a_ids.equal(b_ids) and a_mask.equal(b_mask)
    with pytest.raises(ValueError, match="does not fit pad_to=8"):
        collate(packed, np.arange(300), 3, pad_to=8)
