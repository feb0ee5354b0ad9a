import time
from pathlib import Path

import numpy as np
import pytest
import torch

from htclib.data import tokens
from htclib.data.hierarchy import Hierarchy
from htclib.method.local import LocalSPP
from htclib.method.models import ModelConfig
from htclib.method.prefix import PrefixConfig, PrefixEncoder, encode, expand_prefix
from htclib.method.transfer import TransformedPrefix, TransformTransfer, copy_init
from htclib.training.experiment import DataConfig, RunConfig
from htclib.training.metrics import decode_threshold, decode_topdown, score
from htclib.training.topdown import fit_local
from htclib.training.train import TrainConfig
from tests.conftest import tiny_bert

H3 = Hierarchy.from_paths([("a", "b", "c"), ("a", "b", "d"), ("a", "e", "f"), ("g", "h", "i")])


def test_copy_fills_first_positions_exactly():
    upper = torch.randn(2, 2, 4, 3, 8)
    fresh = torch.randn(2, 2, 4, 5, 8)
    out = copy_init(upper, fresh)
    assert torch.equal(out[:, :, :, :3], upper)
    assert torch.equal(out[:, :, :, 3:], fresh[:, :, :, 3:])
    short = copy_init(upper, torch.randn(2, 2, 4, 2, 8))  # P_low <= P_up: truncate
    assert torch.equal(short, upper[:, :, :, :2])
    with pytest.raises(ValueError, match="differ beyond their length"):
        copy_init(upper, torch.randn(3, 2, 4, 5, 8))


def test_transform_shape_and_gradients():
    upper = torch.randn(2, 2, 4, 3, 8)
    t = TransformTransfer(3, 7)
    assert t(upper).shape == (2, 2, 4, 7, 8)
    tp = TransformedPrefix(upper, torch.randn(2, 2, 4, 7, 8))
    opt = torch.optim.SGD(tp.parameters(), lr=0.1)
    for _ in range(2):  # the MLP's last layer starts at 0: its first layer gets grads from step 2
        opt.zero_grad()
        (tp() ** 2).sum().backward()
        opt.step()
    for name, p in tp.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert "upper" in dict(tp.named_buffers()) and not any(
        n == "upper" for n, _ in tp.named_parameters()
    )


def test_transform_starts_as_copy_and_carries_the_upper_prefix():
    torch.manual_seed(0)
    upper, fresh = torch.randn(2, 2, 4, 3, 8), torch.randn(2, 2, 4, 7, 8)
    tp = TransformedPrefix(upper, fresh)
    step0 = tp.materialise()
    assert torch.equal(step0, copy_init(upper, fresh))  # exactly where copy starts
    cos = torch.nn.functional.cosine_similarity(step0[:, :, :, :3].flatten(), upper.flatten(), 0)
    assert cos > 0.999
    # ... and it is not the old random start (cosine about 0 with the upper prefix)
    old = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 7))
    far = old(upper.transpose(3, 4)).transpose(3, 4)[:, :, :, :3]
    assert torch.nn.functional.cosine_similarity(far.flatten(), upper.flatten(), 0).abs() < 0.5


def test_local_forward_equals_per_level_runs(batch):
    ids, mask = batch
    model = LocalSPP(ModelConfig(method="local", level_lengths=[2, 3, 5]), H3, tiny_bert()).eval()
    with torch.no_grad():
        full = model(ids, mask)
        parts = []
        for p, head in zip(model.prefixes, model.heads, strict=True):
            parts.append(head(encode(model.encoder, ids, mask, expand_prefix(p(), 3))))
    assert full.shape == (3, H3.n_labels)
    torch.testing.assert_close(full, torch.cat(parts, 1), atol=1e-5, rtol=0)


def test_local_needs_one_length_per_level():
    with pytest.raises(ValueError, match="level_lengths has 2 entries"):
        LocalSPP(ModelConfig(method="local", level_lengths=[2, 3]), H3, tiny_bert())


def _toy3(n, seed):
    rng = np.random.default_rng(seed)
    leaves = [("a", "b", "c"), ("a", "b", "d"), ("a", "e", "f"), ("g", "h", "i")]
    texts, paths = [], []
    for _ in range(n):
        leaf = leaves[rng.integers(4)]
        words = [w for name in leaf for w in [name] * 2] + [
            f"w{rng.integers(40)}" for _ in range(3)
        ]
        rng.shuffle(words)
        texts.append(" ".join(words))
        paths.append([leaf])
    return texts, paths


class _DS:
    def __init__(self, tr, dv, te):
        from htclib.data import Split

        self.train, self.dev, self.test = Split(*tr), Split(*dv), Split(*te)
        self.hierarchy = H3


def _toy_problem(toy_tok, n_train, n_eval):
    ds = _DS(_toy3(n_train, 0), _toy3(n_eval, 1), _toy3(n_eval, 2))
    parts = ("train", "dev", "test")
    splits = {s: tokens.tokenize(getattr(ds, s).texts, toy_tok, 16) for s in parts}
    return ds, splits, {s: H3.encode(getattr(ds, s).paths) for s in parts}


@pytest.mark.parametrize("transfer", ["non", "copy", "transform"])
def test_three_levels_end_to_end_and_top_level_shared(tmp_path, toy_tok, transfer):
    ds, splits, ys = _toy_problem(toy_tok, 192, 48)
    cfg = RunConfig(
        "t",
        DataConfig("toy"),
        # the frozen encoder quiet: the toy budget (4 epochs) is sized for it
        ModelConfig(
            "local",
            prefix=PrefixConfig(init_std=0.5),
            level_lengths=[2, 3, 4],
            transfer=transfer,
            encoder_dropout=False,
        ),
        TrainConfig(max_epochs=4, batch_size=16, seed=0, lr=3e-2, head_lr=1e-2),
    )
    folder = tmp_path / "runs" / cfg.key()
    model, info = fit_local(
        cfg, ds, tiny_bert(init=0.2), toy_tok, splits, ys, folder, progress=False
    )
    assert [lv["level"] for lv in info["levels"]] == [1, 2, 3]
    with torch.no_grad():
        from htclib.training.train import predict_logits, sigmoid

        probs = sigmoid(predict_logits(model, splits["test"], 0))
    pred, raw = decode_topdown(probs, H3), decode_threshold(probs)
    # Top-down keeps exactly the thresholded labels whose parent it kept.
    assert (pred <= raw).all() and H3.is_consistent(pred).all()
    ok = H3.is_consistent(raw)
    assert (pred[ok] == raw[ok]).all()
    s = score(ys["test"], pred, H3)  # same metric code as the global models
    assert set(s) >= {"micro_f1", "L3_micro_f1", "consistent_share"}
    leaf = H3.level_slices[2]
    # The leaf level (4 labels, each named twice in its texts) learned: its top label beats
    # always guessing the most frequent leaf by a margin.
    acc = (probs[:, leaf].argmax(1) == ys["test"][:, leaf].argmax(1)).mean()
    assert acc > ys["test"][:, leaf].mean(0).max() + 0.15
    # A second variant reuses the trained top level instead of training it again.
    other = RunConfig(
        "t2",
        cfg.data,
        ModelConfig(
            "local",
            prefix=PrefixConfig(init_std=0.5),
            level_lengths=[2, 3, 4],
            transfer="non" if transfer != "non" else "copy",
            encoder_dropout=False,
        ),
        cfg.train,
    )
    _, info2 = fit_local(
        other,
        ds,
        tiny_bert(init=0.2),
        toy_tok,
        splits,
        ys,
        tmp_path / "runs" / other.key(),
        progress=False,
    )
    assert info2["levels"][0]["reused"] and not info2["levels"][1]["reused"]


def test_copy_variant_starts_lower_level_from_upper(tmp_path, toy_tok, monkeypatch):
    # Capture the lower prefix at the start of its training: its first P_up positions are the trained upper prefix.
    import htclib.training.topdown as T

    seen = []
    real_fit = T.fit

    def spy(model, body, head, *a, **k):
        seen.append(model.prefix.materialise() if hasattr(model.prefix, "materialise") else None)
        return real_fit(model, body, head, *a, **k)

    monkeypatch.setattr(T, "fit", spy)
    ds, splits, ys = _toy_problem(toy_tok, 32, 16)
    cfg = RunConfig(
        "c",
        DataConfig("toy2"),
        ModelConfig("local", level_lengths=[2, 3, 4], transfer="copy"),
        TrainConfig(max_epochs=1, batch_size=16),
    )
    model, _ = fit_local(
        cfg, ds, tiny_bert(), toy_tok, splits, ys, tmp_path / "runs" / cfg.key(), progress=False
    )
    trained_top = model.prefixes[0].materialise()
    assert torch.equal(seen[1][:, :, :, :2], trained_top)
    assert isinstance(model.prefixes[1], PrefixEncoder)


def test_contrastive_option_pretrains_every_level_before_bce(tmp_path, toy_tok, monkeypatch):
    # CL -> BCE for local models: each level's prefix goes through SimCSE first, and the BCE
    # stage starts from exactly the pre-trained tensors.
    import htclib.training.pretrain as C
    import htclib.training.topdown as T
    from htclib.training.experiment import ContrastiveConfig
    from htclib.training.topdown import level_key

    before_cl, after_cl, at_fit = [], [], []
    real_pre, real_fit = C.pretrain_prefix, T.fit

    def pre_spy(model, *a, **k):
        before_cl.append(model.prefix.materialise().clone())
        out = real_pre(model, *a, **k)
        after_cl.append(model.prefix.materialise().clone())
        return out

    def fit_spy(model, *a, **k):
        at_fit.append(model.prefix.materialise().clone())
        return real_fit(model, *a, **k)

    monkeypatch.setattr(C, "pretrain_prefix", pre_spy)
    monkeypatch.setattr(T, "fit", fit_spy)
    ds, splits, ys = _toy_problem(toy_tok, 32, 16)
    cfg = RunConfig(
        "cl",
        DataConfig("toy3"),
        ModelConfig("local", level_lengths=[2, 3, 4], transfer="copy"),
        TrainConfig(max_epochs=1, batch_size=16),
        ContrastiveConfig(epochs=1, batch_size=8, max_steps=2),
    )
    _, info = fit_local(
        cfg, ds, tiny_bert(), toy_tok, splits, ys, tmp_path / "runs" / cfg.key(), progress=False
    )
    assert len(before_cl) == len(at_fit) == 3
    for b, a, f in zip(before_cl, after_cl, at_fit, strict=True):
        assert not torch.equal(b, a)  # SimCSE moved the prefix
        assert torch.equal(a, f)  # and BCE started from it
    assert all(lv["contrastive"]["steps"] == 2 for lv in info["levels"])
    plain = RunConfig("p", cfg.data, cfg.model, cfg.train)
    assert level_key(cfg, 0, H3) != level_key(plain, 0, H3)


def test_a_level_in_training_elsewhere_is_waited_for_then_reused(tmp_path, monkeypatch):
    """Two local runs of one seed share their top level: while another live process trains it,
    this one waits (no second copy trained into the same folder), then reuses it."""
    import subprocess
    import sys

    from htclib.io import CLAIM
    from htclib.training import topdown as local

    lf = tmp_path / "level"
    lf.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for _ in range(100):  # until the child has exec'd python
            if b"-c" in Path(f"/proc/{other.pid}/cmdline").read_bytes():
                break
            time.sleep(0.05)
        (lf / CLAIM).write_text(str(other.pid))
        waits = []

        def sleep(s):  # the other process finishes the level while we wait
            waits.append(s)
            (lf / "MANIFEST.json").write_text("{}")

        monkeypatch.setattr(local.time, "sleep", sleep)
        assert local._hold_level(lf, False, "toy L1") is False
        assert waits == [20]
    finally:
        other.kill()
        other.wait()
    (lf / "MANIFEST.json").unlink()
    assert local._hold_level(lf, False, "toy L1") is True  # its trainer died: ours to train


def test_level_counts_add_up_to_the_whole_models_headline():
    """Each level's headline counts give its micro-F1, and summed over levels the whole
    model's headline micro-F1 (what time to accuracy of a local model is computed from)."""
    from htclib.training.metrics import headline
    from htclib.training.topdown import level_scorer

    rng = np.random.default_rng(0)
    h = Hierarchy.from_paths([["a", "a1"], ["a", "a2"], ["b", "b1"], ["b", "b2"], ["c", "c1"]])
    y = np.zeros((40, h.n_labels), dtype=np.int8)
    for i in range(40):
        leaf = rng.integers(0, 5)
        y[i, h.level_slices[1].start + leaf] = 1
        y[i, h.level_slices[0].start + [0, 0, 1, 1, 2][leaf]] = 1
    probs = rng.random(y.shape)
    counts = np.zeros(3)
    for sl in h.level_slices:
        s = level_scorer(multi_path=False)(probs[:, sl], y[:, sl])
        tp, fp, fn = s["headline_tp"], s["headline_fp"], s["headline_fn"]
        assert s["headline"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        counts += (tp, fp, fn)
    tp, fp, fn = counts
    assert 2 * tp / (2 * tp + fp + fn) == pytest.approx(headline(y, probs)["micro_f1"])
