"""Results tables: method names, seed aggregation, ordering, the paper's numbers beside ours."""

import numpy as np

from htclib.lab.analysis import best_per_method
from htclib.lab.results import method_label, summary_table, to_frame


def _rec(method, micro, seed=0, prefix="10", contrastive="", variant="", dataset="wos", dev=None):
    test = {
        "best_path/micro_f1": micro,
        "best_path/macro_f1": micro / 2,
        "best_path/macro_f1_all": micro / 3,
        "best_path/L1_micro_f1": micro,
        "best_path/L2_micro_f1": micro,
    }
    return {
        "dataset": dataset,
        "method": method,
        "variant": variant,
        "contrastive": contrastive,
        "prefix_length": prefix,
        "seed": seed,
        "multi_path": False,
        "test": test,
        "params_pct": 0.5,
        "best_dev": micro if dev is None else dev,
        "train_seconds": 10.0,
        "key": f"{method}{seed}{prefix}{contrastive}{variant}",
        "name": method,
    }


def test_method_label_is_shared_by_tables_and_analysis():
    r = _rec("local", 0.4, contrastive="simcse", variant="copy", prefix="10/20")
    assert method_label(r) == "local+cl"
    assert method_label(r, with_variant=True) == "local+cl copy"
    assert to_frame([r]).method.tolist() == ["local+cl"]


def test_summary_averages_seeds_and_orders_methods():
    recs = [
        _rec("spp", 0.50, seed=0, prefix="30"),
        _rec("spp", 0.60, seed=1, prefix="30"),
        _rec("cls", 0.55, prefix="-"),
        _rec("tfidf-lr", 0.40, prefix="-"),
        _rec("spp", 0.45, prefix="10"),
    ]
    s = summary_table(to_frame(recs))
    assert s.method.tolist() == ["tfidf-lr", "cls", "spp", "spp"]
    assert s.prefix.tolist()[-2:] == ["10", "30"]  # numeric order within a method
    row = s[(s.method == "spp") & (s.prefix == "30")].iloc[0]
    assert row["Mi-F1"] == f"55.00 ± {np.std([50.0, 60.0], ddof=1):.2f}"
    assert row.seeds == 2
    assert row["paper Mi/Ma"] == "86.84 / 79.77"  # the paper's global SPP row on WoS


def test_paper_cl_numbers_only_beside_the_paper_denominator():
    recs = [
        _rec("spp", 0.4, prefix="30", contrastive="paper"),
        _rec("spp", 0.4, prefix="30", contrastive="simcse"),
    ]
    s = summary_table(to_frame(recs)).set_index("contrastive")
    assert s.loc["paper", "paper Mi/Ma"] == "87.55 / 80.07"
    assert s.loc["simcse", "paper Mi/Ma"] == ""


def test_best_per_method_keeps_cl_apart():
    recs = [
        _rec("spp", 0.5, prefix="10"),
        _rec("spp", 0.6, prefix="30"),
        _rec("spp", 0.7, prefix="30", contrastive="simcse"),
    ]
    best = {method_label(r): r["prefix_length"] for r in best_per_method(recs, "wos")}
    assert best == {"spp": "30", "spp+cl": "30"}
    # chosen on dev, never on test: the better test score with the worse dev score loses
    recs.append(_rec("spp", 0.9, prefix="40", dev=0.1))
    best = {method_label(r): r["prefix_length"] for r in best_per_method(recs, "wos")}
    assert best["spp"] == "30"


def test_seconds_left_estimate_uses_the_rows_seeds_then_the_method():
    from types import SimpleNamespace

    from htclib.lab.report import _estimate_left
    from htclib.lab.results import row_and_seed

    def todo(name, method):
        return SimpleNamespace(name=name, model=SimpleNamespace(method=method))

    finished = [
        {"name": "wos/spp-P30/s0", "method": "spp", "train_seconds": 100.0},
        {"name": "wos/spp-P30/s1", "method": "spp", "train_seconds": 300.0},
        {"name": "wos/spp-P10/s0", "method": "spp", "wall_seconds": 50.0, "train_seconds": 40.0},
    ]
    assert row_and_seed("wos/spp-P30/s2") == ("wos/spp-P30", "s2")
    assert row_and_seed("wos/cls-10pct/s12") == ("wos/cls-10pct", "s12")
    assert row_and_seed("wos/local-copy L2") == ("wos/local-copy L2", "")
    assert row_and_seed("wos/spp/seedless") == ("wos/spp/seedless", "")
    # its own row's seeds (mean 200); a row with no finished seed: the method's mean (150);
    # a method with no finished run: unknown
    left, unknown = _estimate_left(
        [
            todo("wos/spp-P30/s2", "spp"),
            todo("wos/spp-P30-tokinit/s0", "spp"),
            todo("wos/local-copy-10-20/s0", "local"),
        ],
        finished,
    )
    assert left == 200.0 + (100.0 + 300.0 + 50.0) / 3
    assert unknown == 1
