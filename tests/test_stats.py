"""Paired bootstrap intervals and verdicts, and the claims table over run records."""

import json
from dataclasses import replace

import numpy as np
import pytest

from htclib.lab import stats
from htclib.lab.claims import NUMERIC_COLUMNS, Claim, Row, claims_table
from htclib.training import metrics
from htclib.training.records import load_predictions, save_predictions


def _data(n=200, labels=6, seed=0):
    rng = np.random.default_rng(seed)
    gold = rng.random((n, labels)) < 0.3
    good = gold.copy()
    flip = rng.random((n, labels)) < 0.05
    good[flip] = ~good[flip]
    bad = rng.random((n, labels)) < 0.3
    return gold, good, bad


def test_f1s_agree_with_the_headline_metric():
    gold, good, _ = _data()
    mi, ma = stats.f1s(gold, good)
    h = metrics.headline_of_labels(gold.astype(int), good.astype(int))  # sklearn inside
    assert mi == pytest.approx(h["micro_f1"]) and ma == pytest.approx(h["macro_f1"])
    # a label never in gold and never predicted counts 0 in macro
    g2, p2 = (
        np.hstack([gold, np.zeros((len(gold), 1), bool)]),
        np.hstack([good, np.zeros((len(gold), 1), bool)]),
    )
    assert stats.f1s(g2, p2)[1] == pytest.approx(ma * 6 / 7)


def test_verdicts():
    gold, good, bad = _data()
    c = stats.compare(gold, [good], [bad], n_resamples=300)
    assert c.verdict == stats.HOLDS and c.low > 0 and c.diff > 30 and c.p < 0.01
    r = stats.compare(gold, [bad], [good, good], "macro", n_resamples=300)
    assert r.verdict == stats.REVERSED and r.high < 0 and r.seeds_b == 2
    same = stats.compare(gold, [good], [good.copy()], n_resamples=300)
    assert same.diff == 0 and same.verdict == stats.UNRESOLVED and same.p == 1
    with pytest.raises(ValueError, match="at least one seed"):
        stats.compare(gold, [], [good])


def _noisy(gold, rate, rng):
    out = gold.copy()
    flip = rng.random(gold.shape) < rate
    out[flip] = ~out[flip]
    return out


def test_the_difference_is_the_seed_mean_difference():
    gold, good, bad = _data()
    rng = np.random.default_rng(3)
    a = [_noisy(gold, 0.05, rng) for _ in range(2)]
    b = [_noisy(gold, 0.1, rng) for _ in range(3)]  # 2 vs 3 seeds: paired as lcm = 6
    for k, metric in enumerate(("micro", "macro")):
        c = stats.compare(gold, a, b, metric, n_resamples=200)
        want = 100 * (
            np.mean([stats.f1s(gold, p)[k] for p in a])
            - np.mean([stats.f1s(gold, p)[k] for p in b])
        )
        assert c.diff == pytest.approx(want) and c.low < c.diff < c.high
        # the test is symmetric: B vs A is the same swaps with the sign flipped
        assert stats.randomisation_p(gold, a, b, metric, 300) == stats.randomisation_p(
            gold, b, a, metric, 300
        )


def test_vectorised_statistic_matches_the_f1_of_resampled_and_swapped_predictions():
    # the fast path (micro on per-text totals, float32 counts, column sums when every text
    # counts once) against F1 computed from explicitly resampled / swapped prediction arrays
    gold, _, _ = _data(n=60, labels=5)
    rng = np.random.default_rng(11)
    a = [_noisy(gold, 0.1, rng) for _ in range(2)]
    b = [_noisy(gold, 0.2, rng)]
    counts = stats._Counts(gold, a, b)
    idx = rng.integers(0, len(gold), (4, len(gold)))  # four bootstrap resamples
    w = np.zeros((4, len(gold)))
    np.add.at(w, (np.arange(4)[:, None], idx), 1.0)
    swap = rng.random((4, len(gold))) < 0.5
    for k in (0, 1):
        for r in range(4):
            want = 100 * (
                np.mean([stats.f1s(gold[idx[r]], p[idx[r]])[k] for p in a])
                - stats.f1s(gold[idx[r]], b[0][idx[r]])[k]
            )
            assert counts.diff(w[r : r + 1], k)[0] == pytest.approx(want, abs=1e-9)
            s = swap[r][:, None]
            want = 100 * np.mean(
                [
                    stats.f1s(gold, np.where(s, b[0], p))[k]
                    - stats.f1s(gold, np.where(s, p, b[0]))[k]
                    for p in a
                ]
            )
            assert counts.diff(None, k, swap[r : r + 1])[0] == pytest.approx(want, abs=1e-9)


def test_randomisation_p_is_calibrated_under_the_null():
    # two systems of the same quality (independent noise): p < 0.05 in about 5% of pairs,
    # and a real gap is found at the same size
    rng = np.random.default_rng(7)
    gold = rng.random((300, 8)) < 0.3
    ps = [
        stats.randomisation_p(
            gold, [_noisy(gold, 0.2, rng)], [_noisy(gold, 0.2, rng)], "micro", 200, s
        )
        for s in range(40)
    ]
    assert 0 < np.mean(np.array(ps) < 0.05) <= 0.15 and 0.3 < np.median(ps) < 0.7
    assert (
        stats.randomisation_p(
            gold, [_noisy(gold, 0.12, rng)], [_noisy(gold, 0.2, rng)], "micro", 200
        )
        < 0.01
    )


def test_macro_interval_resamples_labels_not_texts():
    # rare labels that A mostly gets right and B mostly misses: resampling *texts* shrinks
    # the macro difference toward 0 (a label seen once is absent from a third of the
    # resamples), so a text bootstrap's interval sits below its own estimate; the label
    # bootstrap is centred on it, and the text bootstrap still serves micro-F1
    rng = np.random.default_rng(0)
    n, common, rare = 200, 4, 40
    gold = np.zeros((n, common + rare), bool)
    gold[:, :common] = rng.random((n, common)) < 0.3
    gold[rng.choice(n, rare, replace=False), np.arange(common, common + rare)] = True
    a, b = gold.copy(), gold.copy()
    a[:, :common] = _noisy(gold[:, :common], 0.1, rng)
    b[:, :common] = _noisy(gold[:, :common], 0.1, rng)
    a[:, common:] &= rng.random((n, rare)) < 0.8  # A finds 80% of the rare ones
    b[:, common:] &= rng.random((n, rare)) < 0.3  # B 30%
    c = stats.compare(gold, [a], [b], "macro", n_resamples=1000)
    assert c.interval == "labels" and c.verdict == stats.HOLDS
    assert np.percentile(_percentile_resamples(gold, a, b), 97.5) < c.diff  # the old bias
    assert c.low < c.diff < c.high and abs((c.low + c.high) / 2 - c.diff) < (c.high - c.low) / 4
    assert stats.compare(gold, [a], [b], "micro", n_resamples=300).interval == "texts"
    with pytest.raises(ValueError, match="micro' or 'macro"):
        stats.compare(gold, [a], [b], "weighted")


def _percentile_resamples(gold, a, b, r=1000):
    rng = np.random.default_rng(1)
    out = []
    for _ in range(r):
        i = rng.integers(0, len(gold), len(gold))
        out.append(100 * (stats.f1s(gold[i], a[i])[1] - stats.f1s(gold[i], b[i])[1]))
    return np.array(out)


def _record(folder, method, prefix, seed, gold, pred, key, batch_size=16):
    d = folder / "runs" / key
    d.mkdir(parents=True)
    rec = {
        "key": key, "name": f"wos/{method}/s{seed}", "dataset": "wos", "method": method,
        "variant": "", "prefix_length": prefix, "contrastive": "", "seed": seed,
        "test": {"headline/micro_f1": 0.5, "headline/macro_f1": 0.4},
        "config": {"model": {"recipe": "htclib", "encoder_dropout": True}, "data": {"n_train": 48},  # a subset is a main row
                   "train": {"batch_size": batch_size, "lr": 0.01}},
    }  # fmt: skip
    (d / "result.json").write_text(json.dumps(rec))
    save_predictions(d, gold.astype(int), {"headline": pred.astype(int)})


def test_claims_table_from_records(tmp_path):
    gold, good, bad = _data()
    for s in range(2):
        _record(tmp_path, "spp", "30", s, gold, good, f"spp{s}")
        _record(tmp_path, "cls", "-", s, gold, bad, f"cls{s}")
    assert (load_predictions(tmp_path / "runs" / "spp0")["pred"]["headline"] == good).all()
    claims = [
        Claim("SPP >= CLS", Row("spp", prefix="30"), Row("cls", prefix="-")),
        Claim("copy > non", Row("local", "copy", "10/20"), Row("local", "non", "10/20")),
        Claim("SPP vs probe", Row("spp", prefix="30"), Row("linear-probe")),
    ]
    t = claims_table(tmp_path, claims, n_resamples=200)
    held = t[t.claim == "SPP >= CLS"]
    assert list(held.metric) == ["Mi-F1", "Ma-F1"] and set(held.verdict) == {stats.HOLDS}
    assert set(held["seeds A/B"]) == {"2/2"}
    assert "copy > non" not in set(t.claim)  # neither side ran: nothing to say
    assert t[t.claim == "SPP vs probe"].verdict.tolist() == ["no run of linear-probe on wos"]
    # the columns do not follow the first row: a table led by a "no run of" row has them too
    led = claims_table(tmp_path, claims[2:] + claims[:1], n_resamples=200)
    assert led.claim.iloc[0] == "SPP vs probe" and list(led.columns) == list(t.columns)
    shown = [c for c in t.columns if c not in NUMERIC_COLUMNS]  # the md's columns
    assert shown[5:11] == ["A - B", "95% CI", "p", "verdict", "p (BH)", "at 5% FDR"]
    assert "instance p" in shown and "instance verdict" in shown  # labelled as such


def test_fdr_counts_every_tested_row_and_can_undo_a_per_row_verdict():
    import pandas as pd

    from htclib.lab.claims import CLAIM_COLUMNS, NUMERIC_COLUMNS, with_fdr

    # four tested rows, one per-row "holds" at p 0.04 among nulls, and a row with no run
    rows = [
        {"claim": "c", "metric": "Mi-F1", "A - B": d, "p_value": p, "verdict": stats.verdict(d, p)}
        for d, p in [(2.0, 0.04), (-0.5, 0.6), (0.3, 0.8), (5.0, 0.001)]
    ] + [{"claim": "d", "metric": "", "verdict": "no run of x on wos"}]
    t = with_fdr(pd.DataFrame(rows, columns=CLAIM_COLUMNS + NUMERIC_COLUMNS))
    # BH: sorted p 0.001, 0.04, 0.6, 0.8 -> 0.004, 0.08, 0.8, 0.8 over the 4 tested rows
    assert np.allclose(t.p_bh[:4], [0.08, 0.8, 0.8, 0.004])
    assert t.verdict[0] == stats.HOLDS and t["at 5% FDR"][0] == stats.UNRESOLVED
    assert t["at 5% FDR"][3] == stats.HOLDS and t["p (BH)"][3] == "0.004"
    assert t["at 5% FDR"][4] == "" and np.isnan(t.p_bh[4])  # untested rows stay out


def test_results_md_holds_claims_with_and_without_both_sides(tmp_path):
    from htclib.lab.report import write_tables

    gold, good, bad = _data(n=40)
    for s in range(2):  # a method-level test needs two training runs a side
        _record(tmp_path, "spp", "10", s, gold, good, f"spp{s}")
        _record(tmp_path, "cls", "-", s, gold, bad, f"cls{s}")
    md = write_tables(tmp_path, "smoke")["md"].read_text()  # smoke: global P = 10
    assert "| SPP >= CLS-tuning at < 1% of the parameters | wos | spp 10 | cls | Mi-F1 |" in md
    row = next(ln for ln in md.splitlines() if "| spp 10 | cls | Mi-F1 |" in ln)
    cells = [c.strip() for c in row.split("|")]
    assert cells[cells.index("Mi-F1") + 4] == "holds" and "| 2/2 | 40 |" in row
    assert "no run of linear-probe on wos" in md


def test_report_cli_regenerates_tables_and_names_a_missing_folder(tmp_path, capsys):
    """``python -m htclib.report`` is what a finished grid calls in a fresh interpreter (so its
    tables come from the code on disk, not from what the grid imported hours before)."""
    from htclib.lab.report import main

    gold, good, bad = _data(n=40)
    _record(tmp_path, "spp", "10", 0, gold, good, "spp0")
    assert main(["--profile", "smoke", "--results", str(tmp_path)]) == 0
    assert "SPP >= CLS-tuning" in (tmp_path / "results.md").read_text()
    with pytest.raises(SystemExit):
        main(["--profile", "smoke", "--results", str(tmp_path / "nope")])
    assert "nope/runs: no run records there" in capsys.readouterr().err


def test_token_initialised_prefix_is_its_own_row():
    """A run whose prefix started from tokens is neither pooled with the plain SPP row in a
    claim nor in the summary table."""
    from htclib.lab.results import to_frame

    def rec(init):
        prefix = {"length": 30} if init == "random" else {"length": 30, "init": init}
        t = {"headline/micro_f1": 0.5, "headline/macro_f1": 0.2}
        return {"dataset": "wos", "method": "spp", "prefix_length": "30", "seed": 0, "test": t,
                "config": {"model": {"recipe": "htclib", "prefix": prefix, "encoder_dropout": True},
                           "data": {}}}  # fmt: skip

    plain, tok = rec("random"), rec("tokens")
    assert Row("spp", prefix="30").matches(plain) and not Row("spp", prefix="30").matches(tok)
    assert Row("spp", prefix="30", init="tokens").matches(tok)
    assert list(to_frame([plain, tok]).recipe) == ["htclib", "htclib+tokinit"]
    probed = rec("random")
    probed["config"]["model"]["head_probe"] = 100.0  # a head fitted first (LP-FT): its own row
    assert not Row("spp", prefix="30").matches(probed)
    assert Row("spp", prefix="30", head_probe=100.0).matches(probed)
    assert to_frame([probed]).recipe.iloc[0] == "htclib+probe100"


def test_f1_vs_prefix_length_plots_the_sweep_rows_only():
    """The P = 30 point is htclib's random-start SPP alone: the P-tuning v2 recipe, a prefix
    started from label names, a training subset and a CL -> BCE row at the same P stay out."""
    import pandas as pd

    from htclib.lab import plots

    base = {"dataset": "wos", "method": "spp", "contrastive": "", "train_subset": None}
    rows = [
        {**base, "prefix": "10", "recipe": "htclib", "micro_f1": 50.0, "macro_f1": 10.0},
        {**base, "prefix": "30", "recipe": "htclib", "micro_f1": 56.0, "macro_f1": 18.0},
        {**base, "prefix": "30", "recipe": "htclib", "micro_f1": 58.0, "macro_f1": 20.0},
        {**base, "prefix": "30", "recipe": "ptv2", "micro_f1": 30.0, "macro_f1": 5.0},
        {**base, "prefix": "30", "recipe": "htclib+tokinit", "micro_f1": 31.0, "macro_f1": 6.0},
        {**base, "prefix": "30", "recipe": "htclib", "train_subset": 0.1, "micro_f1": 20.0,
         "macro_f1": 2.0},
        {**base, "prefix": "30", "recipe": "htclib", "contrastive": "simcse", "micro_f1": 25.0,
         "macro_f1": 3.0},
    ]  # fmt: skip
    fig = plots.f1_vs_prefix_length(pd.DataFrame(rows), "test")
    micro, macro = (ax.lines[-1] for ax in fig.axes[:2])  # the mean line (dots: per seed)
    assert list(micro.get_xdata()) == [10, 30]
    assert list(micro.get_ydata()) == [50.0, 57.0]  # the mean of the two seeds, nothing else
    assert list(macro.get_ydata()) == [10.0, 19.0]


def test_local_variants_one_row_per_dataset_every_seed_a_dot():
    """Data sets never share a panel (their labels differ); every seed is a dot and the mean a
    bar, on an axis fitted to the runs (no bar from 0 hiding a 1-point difference)."""
    import pandas as pd

    from htclib.lab import plots

    base = {"method": "local", "recipe": "htclib", "contrastive": "", "train_subset": None}
    rows = [
        {**base, "dataset": "wos", "variant": "copy", "prefix": "10/20", "micro_f1": 50.0,
         "macro_f1": 10.0},
        {**base, "dataset": "wos", "variant": "copy", "prefix": "10/20", "micro_f1": 54.0,
         "macro_f1": 14.0},
        {**base, "dataset": "amazon3", "variant": "copy", "prefix": "10/20", "micro_f1": 90.0,
         "macro_f1": 80.0},
    ]  # fmt: skip
    fig = plots.local_variants(pd.DataFrame(rows), "test")
    (amazon, _), (wos, _) = (fig.axes[:2], fig.axes[2:4])
    assert [ax.get_title() for ax in (amazon, wos)] == ["amazon3: Mi-F1", "wos: Mi-F1"]
    dots, mean = wos.lines[0], wos.lines[1]
    assert sorted(dots.get_ydata()) == [50.0, 54.0]  # never mixed with amazon3's 90
    assert list(mean.get_ydata()) == [52.0, 52.0]
    assert wos.get_ylim()[0] > 40  # fitted to the runs, not from 0
    assert "(2 seeds)" in wos.get_xticklabels()[0].get_text()


def test_runs_with_the_frozen_encoder_in_eval_mode_are_their_own_row():
    """Records of htclib's recipe from before the encoder's dropout was turned on (2026-11-30)
    are ``htclib-nodrop``: never pooled with the current recipe's rows, matched by their own
    claim row; CLS-tuning ignores the switch."""
    from htclib.lab.results import recipe_label, to_frame

    def rec(method, dropout):
        t = {"headline/micro_f1": 0.5, "headline/macro_f1": 0.2}
        model = {"recipe": "htclib", "encoder_dropout": dropout}
        return {"dataset": "wos", "method": method, "prefix_length": "30", "seed": 0, "test": t,
                "config": {"model": model, "data": {}}}  # fmt: skip

    on, off = rec("spp", True), rec("spp", False)
    assert Row("spp", prefix="30").matches(on) and not Row("spp", prefix="30").matches(off)
    assert Row("spp", prefix="30", recipe="htclib-nodrop").matches(off)
    assert list(to_frame([on, off]).recipe) == ["htclib", "htclib-nodrop"]
    assert recipe_label(rec("cls", False)) == recipe_label(rec("cls", True)) == "htclib"
    assert recipe_label(rec("local", False)) == "htclib-nodrop"


def test_claims_csv_and_forest_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from htclib.lab import plots
    from htclib.lab.report import write_tables

    gold, good, bad = _data()
    for s in range(2):
        _record(tmp_path, "spp", "30", s, gold, good, f"spp{s}")
        _record(tmp_path, "cls", "-", s, gold, bad, f"cls{s}")
    paths = write_tables(tmp_path, "test")
    claims = pd.read_csv(paths["claims"])
    tested = claims[claims.metric.notna()]
    assert len(tested) == 2 and (tested.ci_low > 0).all() and (tested.p_value < 0.05).all()
    assert "ci_low" not in paths["md"].read_text()  # the numbers for plots stay out of the md
    fig = plots.claims_forest(claims, "test")
    # one line per claim and data set, Mi-F1 and Ma-F1 side by side: in each, one interval and
    # one point, green for "holds"; 0 marked
    for ax in fig.axes[:2]:
        greens = [ln for ln in ax.lines if ln.get_color() == plots.VERDICT_COLOURS["holds"]]
        assert len(greens) == 2
        assert any(tuple(ln.get_xdata()) == (0, 0) for ln in ax.lines)
    # both verdicts survive the false-discovery control here: filled dots, none hollow
    dots = [ln for ax in fig.axes[:2] for ln in ax.lines if ln.get_marker() == "o"]
    assert len(dots) == 2 and all(ln.get_markerfacecolor() != "white" for ln in dots)
    weak = claims.assign(**{"at 5% FDR": stats.UNRESOLVED})  # p < 0.05 per row only
    hollow = [
        ln for ax in plots.claims_forest(weak, "test").axes for ln in ax.lines
        if ln.get_marker() == "o"
    ]  # fmt: skip
    assert hollow and all(ln.get_markerfacecolor() == "white" for ln in hollow)
    # the SPP-vs-probe style rows without a side are counted under the plot, not drawn
    assert any("without runs on both sides" in t.get_text() for t in fig.texts)
    assert "No claim" in plots.claims_forest(claims.iloc[0:0], "test").axes[0].texts[0].get_text()
    # a tall forest (many claims): the figure's title stays clear of the first panel's title
    many = [claims.assign(claim=claims.claim + f" {i}") for i in range(20)]
    tall = plots.claims_forest(pd.concat(many, ignore_index=True), "test")
    tall.canvas.draw()
    renderer = tall.canvas.get_renderer()
    (title,) = [t for t in tall.findobj(matplotlib.text.Text) if "[profile: test]" in t.get_text()]
    panel = tall.axes[0].title.get_window_extent(renderer)
    assert tall.get_figheight() > 5 and panel.y1 <= title.get_window_extent(renderer).y0
    # an interval running past the axis (its point inside) names the end it reaches: the axis
    # fits the effects up to 10 points, and one of 10.4 falls inside it while its interval
    # does not (the wos P-tuning v2 row of the cpu profile)
    t = claims[claims.metric.notna()].copy()
    wide = t.iloc[:1].assign(claim="wide", diff=-10.4, ci_low=-14.1, ci_high=-6.6)
    wide = pd.concat([t.assign(diff=1.0, ci_low=-10.2, ci_high=8.0), wide], ignore_index=True)
    texts = [a.get_text() for ax in plots.claims_forest(wide, "test").axes for a in ax.texts]
    assert "← -14.1" in texts


def test_ablation_rows_pin_their_settings_across_folders(tmp_path):
    # a profile folder and an ablation folder read together: the ablation's runs (batch 8)
    # must not pool with the profile's row (batch 16), and each side finds its own
    from benchmarks.ablation_claims import ablation_claims

    gold, good, bad = _data()
    prof, abl = tmp_path / "cpu", tmp_path / "ablations"
    for s in range(2):
        _record(prof, "cls", "-", s, gold, bad, f"cls{s}")
    for s in range(2):
        _record(abl, "cls", "-", s, gold, good, f"cls-bs8-{s}", batch_size=8)
    claim = Claim(
        "batch 8 vs 16",
        Row("cls", prefix="-", train=(("batch_size", 8),), tag="batch 8"),
        Row("cls", prefix="-", train=(("batch_size", 16),)),
    )
    t = claims_table([prof, abl], [claim], n_resamples=200)
    assert set(t["seeds A/B"]) == {"2/2"} and set(t.verdict) == {stats.HOLDS}
    assert t.A.iloc[0] == "cls batch 8"
    assert claims_table(prof, [claim], n_resamples=200).verdict.tolist() == [
        "no run of cls batch 8 on wos"
    ]
    # the shipped ablation claims pin every setting an ablation changes, on both sides
    for c in ablation_claims("cpu"):
        assert (
            {k for k, _ in c.a.train}
            == {k for k, _ in c.b.train}
            == {"batch_size", "lr", "head_lr", "max_epochs"}
        )
        # the two sides select different runs (the tag is only their label)
        assert replace(c.a, tag="") != replace(c.b, tag="")


def test_training_curves_facet_data_sets_share_a_colour_per_model_and_split_levels():
    """A row per data set; a model's seeds share its colour (line style tells them apart); a
    local model's levels are separate curves, never one line running from the last epoch of
    level 1 back to epoch 1 of level 2."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import to_hex

    from htclib.lab import plots

    def hist(n, level=None):
        return [{"epoch": e, "train_loss": 1 / e, "dev_headline": e / 10,
                 **({"level": level} if level else {})} for e in range(1, n + 1)]  # fmt: skip

    recs = [
        {"name": "wos/spp-P10/s0", "dataset": "wos", "seed": 0, "history": hist(4)},
        {"name": "wos/spp-P10/s1", "dataset": "wos", "seed": 1, "history": hist(5)},
        {
            "name": "wos/local-copy-10-20/s0",
            "dataset": "wos",
            "seed": 0,
            "history": hist(3, 1) + hist(6, 2),
        },  # fmt: skip
        {"name": "amazon3/cls/s0", "dataset": "amazon3", "seed": 0, "history": hist(2)},
    ]
    fig = plots.training_curves(recs, "test")
    wos_dev, amazon_dev = fig.axes[1], fig.axes[3]
    assert "wos" in wos_dev.get_title() and "amazon3" in amazon_dev.get_title()
    lines = wos_dev.lines
    assert [len(ln.get_xdata()) for ln in lines] == [4, 5, 3, 6]  # levels split, none joined
    assert all(list(ln.get_xdata()) == sorted(ln.get_xdata()) for ln in lines)
    assert to_hex(lines[0].get_color()) == to_hex(lines[1].get_color())  # seeds of spp-P10
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert to_hex(lines[2].get_color()) != to_hex(lines[3].get_color())  # L1 and L2
    labels = [t.get_text() for t in wos_dev.get_legend().get_texts()]
    # the top level is shared by a seed's variants: one curve, named so
    assert labels == ["spp-P10", "local L1 (shared)", "local-copy-10-20 L2", "seed 0", "seed 1"]
    assert len(amazon_dev.lines) == 1
    # a second variant of the same seed draws its own L2 and no second L1
    recs.append({"name": "wos/local-non-10-20/s0", "dataset": "wos", "seed": 0,
                 "history": hist(3, 1) + hist(4, 2)})  # fmt: skip
    wos_dev = plots.training_curves(recs, "test").axes[1]
    assert [len(ln.get_xdata()) for ln in wos_dev.lines] == [4, 5, 3, 6, 4]
    # one colour per model across data sets: cls in the amazon3 panel keeps its own colour
    both = [*recs, {"name": "wos/cls/s0", "dataset": "wos", "seed": 0, "history": hist(2)}]
    fig = plots.training_curves(both, "test")
    cls_colours = {to_hex(ax.lines[-1].get_color()) for ax in (fig.axes[1], fig.axes[3])}
    assert len(cls_colours) == 1


def test_cpu_claims_cover_the_papers_local_ordering_end_to_end():
    """copy > transform > non is asked link by link and end to end (copy > non), with the
    variants' own rows on each side."""
    from htclib.lab.claims import claims_for

    local = {c.text: (c.a.variant, c.b.variant) for c in claims_for("cpu") if c.a.method == "local"}
    assert local["local copy > transform (10/20)"] == ("copy", "transform")
    assert local["local transform > non (10/20)"] == ("transform", "non")
    assert local["local copy > non (10/20)"] == ("copy", "non")


def test_verdicts_markdown_shows_a_topics_rows_adjusted_over_the_whole_table(tmp_path):
    from htclib.lab.claims import claims_for, claims_table, verdicts_markdown

    gold, good, bad = _data()
    for s in range(2):
        _record(tmp_path, "spp", "30", s, gold, good, f"spp{s}")
        _record(tmp_path, "cls", "-", s, gold, bad, f"cls{s}")
    text = verdicts_markdown(tmp_path, "no-such-profile", ["CLS-tuning"])
    full = claims_table(tmp_path, claims_for("no-such-profile"))
    row = full[(full.claim.str.contains("CLS-tuning")) & (full.metric == "Mi-F1")].iloc[0]
    assert f"p {row['p']} (BH {row['p (BH)']}) → **holds**" in text
    assert "linear probe" not in text  # another topic's rows stay out
    # what a 1-point effect would take, in words: seeds, or the test texts' floor
    from htclib.lab.claims import _one_point

    assert _one_point(row["seeds for 1 pt"]) in text and _one_point(row["seeds for 1 pt"])
    assert _one_point("8") == "1 point needs 8 seeds a side; "
    assert "MDE floor is 2.31" in _one_point("none: texts (2.31)")


def test_cached_compare_reuses_only_an_identical_question(tmp_path, monkeypatch):
    monkeypatch.setenv("HTCLIB_CACHE", str(tmp_path))
    gold, good, bad = _data()
    first = stats.cached_compare(gold, [good], [bad], "micro", 300)
    assert first == stats.compare(gold, [good], [bad], "micro", 300)
    (entry,) = (tmp_path / "compare").iterdir()
    # read back, not recomputed: a planted answer comes back
    planted = replace(first, diff=-1.0)
    entry.write_text(json.dumps(planted.__dict__))
    assert stats.cached_compare(gold, [good], [bad], "micro", 300) == planted
    # another prediction, metric or resample count is another question
    flipped = good.copy()
    flipped[0, 0] = ~flipped[0, 0]
    stats.cached_compare(gold, [flipped], [bad], "micro", 300)
    stats.cached_compare(gold, [good], [bad], "macro", 300)
    stats.cached_compare(gold, [good], [bad], "micro", 301)
    assert len(list((tmp_path / "compare").iterdir())) == 4
    # a damaged entry is recomputed, not trusted
    entry.write_text("{not json")
    assert stats.cached_compare(gold, [good], [bad], "micro", 300) == first


def test_main_tables_hold_the_grids_every_seed_rows_only():
    # results.md's main tables: the rows the grid trains with every seed, and the baselines;
    # earlier recipes and the grid's one-seed ablation (tokinit) go to "Other records"
    import pandas as pd

    from htclib.lab.profiles import grid_plan
    from htclib.lab.report import _split_by_plan

    plan = grid_plan("cpu")[1]
    spp = next(c for c in plan if c.name == "wos/spp-P30/s0")
    tok = next(c for c in plan if "tokinit" in c.name)
    # a row with extra seeds beyond the claim seeds (Profile.extra_seeds) is the grid's too
    more = next(c for c in plan if c.name == "amazon3/spp-P30/s0")
    df = pd.DataFrame(
        {
            "key": [spp.key(), tok.key(), "an-older-recipe", "b", more.key()],
            "method": ["spp", "spp", "spp", "linear-probe", "spp"],
        }
    )
    grid, other = _split_by_plan(df, "cpu")
    assert list(grid.key) == [spp.key(), "b", more.key()]
    assert list(other.key) == [tok.key(), "an-older-recipe"]
    # a folder none of whose runs the plan names (a test's, another config's): one table
    whole, none = _split_by_plan(df.iloc[2:4], "cpu")
    assert len(whole) == 2 and none.empty
    assert _split_by_plan(df, "no-such-profile")[1].empty
