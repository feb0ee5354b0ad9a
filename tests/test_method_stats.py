"""Method-level verdicts: over training runs and test texts, with their power; seeds pooled
only where their configs agree."""

import json

import numpy as np
import pytest

from htclib.lab import method_stats as M
from htclib.lab import stats
from htclib.lab.claims import Claim, Row, claims_table
from htclib.training.records import save_predictions


def _gold(n=2000, labels=8, seed=0):
    return np.random.default_rng(seed).random((n, labels)) < 0.3


def _model(gold, error, seed):
    """A trained model as its test predictions: each label decision wrong with rate ``error``."""
    rng = np.random.default_rng([seed, 7])  # never the gold's own stream
    out = gold.copy()
    flip = rng.random(gold.shape) < error
    out[flip] = ~out[flip]
    return out


def test_seed_noise_alone_is_not_resolved_where_the_instance_test_says_holds():
    """Two 'methods' that differ only by which seeds they drew: every seed's quality comes from
    one distribution (error rate 0.20 +- 0.04); A's three happened to come out better. Over 2,000
    texts the instance-level test resolves the gap between these six fixed models; the
    method-level scheme sees the seed spread and does not."""
    gold = _gold()
    a = [_model(gold, e, s) for s, e in enumerate([0.16, 0.19, 0.22])]
    b = [_model(gold, e, 10 + s) for s, e in enumerate([0.18, 0.21, 0.24])]
    inst = stats.compare(gold, a, b, "micro", n_resamples=500)
    meth = M.compare_methods(gold, a, b, "micro", n_resamples=300, aso_iterations=100)
    assert inst.verdict == stats.HOLDS and inst.p < 0.01
    assert meth.verdict == stats.UNRESOLVED and meth.low < 0 < meth.high
    assert meth.diff == pytest.approx(inst.diff)  # the same estimate, another question
    assert meth.mde > meth.diff > 0  # the gap is below what 3 against 3 seeds can detect


def test_a_real_effect_over_consistent_seeds_is_resolved():
    gold = _gold()
    a = [_model(gold, e, s) for s, e in enumerate([0.10, 0.105, 0.11])]
    b = [_model(gold, e, 10 + s) for s, e in enumerate([0.20, 0.205, 0.21])]
    for metric in ("micro", "macro"):
        m = M.compare_methods(gold, a, b, metric, n_resamples=300, aso_iterations=100)
        assert m.verdict == stats.HOLDS and m.low > 0 and m.p < 0.05, metric
        assert m.p_improve == 1.0 and m.aso_eps < 0.5 < m.aso_eps_reverse
    r = M.compare_methods(gold, b, a, "micro", n_resamples=300, aso_iterations=100)
    assert r.verdict == stats.REVERSED and r.high < 0


@pytest.mark.parametrize("seed", range(6))
def test_interval_and_p_agree(seed):
    """One scheme: the interval excludes 0 exactly when p < 0.05."""
    rng = np.random.default_rng(seed)
    gold = _gold(n=300, seed=seed)
    a = [_model(gold, e, 100 * seed + i) for i, e in enumerate(rng.uniform(0.1, 0.2, 3))]
    b = [_model(gold, e, 100 * seed + 10 + i) for i, e in enumerate(rng.uniform(0.1, 0.2, 4))]
    for metric in ("micro", "macro"):
        m = M.compare_methods(gold, a, b, metric, n_resamples=200, aso_iterations=100)
        assert (m.low > 0 or m.high < 0) == (m.p < 0.05)
        assert m.low < m.diff < m.high


def test_power_grows_with_seeds_and_is_capped_by_the_test_texts():
    se3, df3 = M._welch(4.0, 3, 4.0, 3, 0.25)
    se10, df10 = M._welch(4.0, 10, 4.0, 10, 0.25)
    assert M.mde(se10, df10) < M.mde(se3, df3)
    # at 3 against 3 seeds (df 4) the t quantiles widen the MDE beyond the normal's 2.8 SE
    assert M.mde(se3, df3) > 2.8 * se3
    # the text part alone (SE 1.5 points, as on a 200-text split) keeps 1 point out of reach
    assert M.seeds_for(1.0, 0.5, 0.5, 1.5**2) is None
    assert M.seeds_for(1.0, 1.0, 1.0, 0.01) == 18  # (1.96 + 0.84)^2 * 2 * 1 ~ 16, t-corrected


def test_a_neural_side_trained_once_is_not_tested_but_a_baseline_is():
    gold = _gold(n=300)
    a = [_model(gold, e, s) for s, e in enumerate([0.1, 0.12])]
    one = [_model(gold, 0.3, 9)]
    m = M.compare_methods(gold, a, one, n_resamples=100, aso_iterations=100)
    assert m.verdict.startswith("not testable") and np.isnan(m.p)
    base = M.compare_methods(gold, a, one, seeded_b=False, n_resamples=100, aso_iterations=100)
    assert base.verdict == stats.HOLDS


def _record(folder, key, seed, gold, pred, lr=0.01, commit=None):
    d = folder / "runs" / key
    d.mkdir(parents=True)
    rec = {
        "key": key, "name": f"wos/spp-P30/s{seed}", "dataset": "wos", "method": "spp",
        "variant": "", "prefix_length": "30", "contrastive": "", "seed": seed,
        "test": {"headline/micro_f1": 0.5, "headline/macro_f1": 0.4},
        "config": {"model": {"method": "spp", "prefix": {"length": 30}, "encoder_dropout": True},
                   "train": {"lr": lr, "seed": seed}},
    }  # fmt: skip
    if commit:
        rec["provenance"] = {"commit": commit, "finished_utc": f"2026-12-0{seed + 1}T00:00:00Z"}
    (d / "result.json").write_text(json.dumps(rec))
    save_predictions(d, gold.astype(int), {"headline": pred.astype(int)})


def test_a_seed_whose_config_differs_is_not_pooled_silently(tmp_path):
    gold = _gold(n=200)
    cfg = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for s in range(3):
        _record(cfg["a"], f"spp{s}", s, gold, _model(gold, 0.1, s), commit="aaaaaaa1")
    # the fourth seed trained with another lr (a changed default, say): its own config
    _record(cfg["a"], "spp3", 3, gold, _model(gold, 0.3, 3), lr=0.001, commit="aaaaaaa1")
    for s in range(3):
        _record(cfg["b"], f"spp{s}", s, gold, _model(gold, 0.1, 10 + s))
    claim = Claim("ours vs the other folder", Row("spp", prefix="30"), Row("spp", prefix="30"))
    t = claims_table([cfg["a"]], [claim], n_resamples=100)
    assert set(t["seeds A/B"]) == {"3/3"}  # the odd seed is out ...
    note = t.pooling.iloc[0]
    assert "s3 left out: config differs in train.lr" in note  # ... and named
    # code: seeds of one config from two commits, and seeds from before provenance, are named
    both = tmp_path / "both"
    _record(both, "x0", 0, gold, _model(gold, 0.1, 0), commit="aaaaaaa1")
    _record(both, "x1", 1, gold, _model(gold, 0.1, 1), commit="bbbbbbb2")
    _record(both, "x2", 2, gold, _model(gold, 0.1, 2))
    t2 = claims_table([both], [claim], n_resamples=100)
    assert "code: 2 commit(s), 1 unrecorded" in t2.pooling.iloc[0]


def test_the_table_tells_a_seed_limit_from_a_test_text_limit():
    def comp(text_se, k):
        return M.MethodComparison(
            metric="micro", diff=0.0, low=0, high=0, p=1, verdict="", se=1, df=4, mde=1,
            seeds_for_1pt=k, aso_eps=1, aso_eps_reverse=1, p_improve=0.5, seeds_a=5,
            seeds_b=5, n_texts=200, text_se=text_se,
        )  # fmt: skip

    # SE 0.5 from the texts: 2.80 x 0.5 = 1.40 points, out of reach with any number of seeds
    assert comp(0.5, None).seeds_for_1pt_text() == "none: texts (1.40)"
    assert comp(0.2, None).seeds_for_1pt_text() == "> 50"  # the seeds' spread, not the texts
    assert comp(0.2, 8).seeds_for_1pt_text() == "8"
    # seeds_for agrees: where the floor exceeds 1 point it never reaches 1 point
    assert comp(0.5, None).mde_floor > 1 and M.seeds_for(1.0, 0.1, 0.1, 0.5**2) is None


def test_seed_needs_lists_the_rows_more_seeds_would_resolve_largest_first():
    import pandas as pd

    from htclib.lab.claims import seed_needs

    t = pd.DataFrame(
        {
            "dataset": ["a", "a", "b", "b", "c"],
            "claim": ["x", "x", "y", "z", "w"],
            "metric": ["Mi-F1", "Ma-F1", "Mi-F1", "Mi-F1", "Mi-F1"],
            "seeds A/B": ["3/3", "3/3", "5/3", "5/5", "5/5"],
            "seeds for 1 pt": ["8", "> 50", "4", "none: texts (1.40)", "5"],
            "seed_s_a": [1800.0, 1800.0, 3600.0, 10.0, 10.0],
            "seed_s_b": [900.0, 900.0, None, 10.0, 10.0],
        }
    )
    out = seed_needs(t)
    # 'a' needs 8 (has 3), 'b' 4 (its smaller side has 3); '> 50', texts-bound and met are out
    assert list(zip(out.dataset, out["seeds for 1 pt"], strict=True)) == [("a", "8"), ("b", "4")]
    # 'a': 5 more seeds a side at 0.5 h (A) and 0.25 h (B); 'b' has no time for B recorded
    assert list(out["worker-hours"]) == ["3.8", ""]
    assert seed_needs(t.iloc[0:0]).empty
