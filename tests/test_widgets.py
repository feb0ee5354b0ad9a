import json

import pytest

from htclib.io import atomic_write_json
from htclib.lab.widgets import PrefixLengthExplorer


def _record(folder, dataset, length, mi):
    rec = {
        "key": f"k{length}",
        "name": f"{dataset}/spp-P{length}",
        "dataset": dataset,
        "method": "spp",
        "contrastive": "",
        "prefix_length": str(length),
        "multi_path": False,
        "params_pct": 0.1 * length,
        "train_seconds": 3.0,
        "n_train": 48,
        "config": {"model": {"encoder_dropout": True}},  # htclib's recipe (not -nodrop)
        "test": {
            "best_path/micro_f1": mi,
            "best_path/macro_f1": mi / 2,
            "best_path/L1_micro_f1": mi + 0.1,
            "best_path/L1_macro_f1": 0.2,
            "best_path/L2_micro_f1": mi - 0.1,
            "best_path/L2_macro_f1": 0.1,
        },
    }
    atomic_write_json(folder / "runs" / rec["key"] / "result.json", rec)


def test_slider_and_level_callbacks(tmp_path):
    res = tmp_path / "results" / "cpu"
    _record(res, "wos", 10, 0.5)
    _record(res, "wos", 30, 0.7)
    ex = PrefixLengthExplorer(res, ["wos", "amazon3"], "cpu", train_fn=lambda d, p: {})
    assert ex.slider.value == 30  # opens on the claims' length, which has a run
    assert "seed 0" in ex.view.value and "mean over 1 seed(s) micro-F1 70.00" in ex.view.value
    assert "params 3.00%" in ex.view.value
    assert list(ex.level.options) == ["all labels", "L1", "L2"]
    ex.level.value = "L2"
    assert "micro-F1 60.00" in ex.view.value
    ex.slider.value = 20
    assert "not trained yet" in ex.view.value and "[10, 30]" in ex.view.value
    ex.dataset.value = "amazon3"
    assert "Stored: none" in ex.view.value


def test_train_button_trains_and_refreshes_on_the_smoke_profile(tmp_path):
    res = tmp_path / "results" / "smoke"
    calls = []

    def fake_train(dataset, length):
        calls.append((dataset, length))
        _record(res, dataset, length, 0.4)
        return {"ok": True}

    ex = PrefixLengthExplorer(res, ["wos"], "smoke", train_fn=fake_train)
    ex.slider.value = 15
    assert "not trained yet" in ex.view.value
    assert ex.on_train() == {"ok": True}
    assert calls == [("wos", 15)]
    assert "micro-F1 40.00" in ex.view.value
    assert ex.widget().children


def test_smoke_runs_beside_the_cpu_records_change_no_cpu_view(tmp_path):
    """A smoke run (one epoch, score ~0) next to converged cpu seeds must not enter their curve:
    it once drew a prefix-length effect that does not exist."""
    cpu, smoke = tmp_path / "results" / "cpu", tmp_path / "results" / "smoke"
    _record(cpu, "wos", 10, 0.55)
    _record(cpu, "wos", 30, 0.59)
    before = PrefixLengthExplorer(cpu, ["wos"], "cpu")
    curve, view = dict(before.plot_data), before.view.value
    for length in (5, 10, 20, 30):
        _record(smoke, "wos", length, 0.0)
    after = PrefixLengthExplorer(cpu, ["wos"], "cpu")
    assert after.plot_data == curve and after.view.value == view
    assert after.button.disabled  # training here would use the smoke slice


def test_plot_follows_the_slider_and_seeds(tmp_path):
    res = tmp_path / "results" / "cpu"
    _record(res, "wos", 10, 0.5)
    _record(res, "wos", 30, 0.7)
    rec = json.loads((res / "runs" / "k30" / "result.json").read_text())
    (res / "runs" / "k30b").mkdir()
    (res / "runs" / "k30b" / "result.json").write_text(
        json.dumps(
            {**rec, "key": "k30b", "seed": 1, "test": {k: v - 0.1 for k, v in rec["test"].items()}}
        )
    )
    ex = PrefixLengthExplorer(res, ["wos"], "cpu", train_fn=lambda d, p: {})
    d = ex.plot_data
    assert d["P"] == [10, 30] and d["seeds"] == [1, 2] and d["selected"] == 30
    assert d["micro"][1] == pytest.approx(65.0) and d["micro_sd"][1] > 0  # two seeds: mean ± std
    before = ex.plot.value
    ex.slider.value = 10
    assert ex.plot_data["selected"] == 10
    assert ex.plot.value[:4] == b"\x89PNG" and ex.plot.value != before  # the image follows
    ex.level.value = "L1"
    assert ex.plot_data["level"] == "L1" and ex.plot_data["micro"][0] == pytest.approx(60.0)
    assert "mean over 1 seed(s)" in ex.view.value
    ex.slider.value = 30
    assert "mean over 2 seed(s) micro-F1 75.00" in ex.view.value  # level L1: 0.8 and 0.7


def test_predict_box_without_run_or_text(tmp_path):
    res = tmp_path / "results" / "cpu"
    _record(res, "wos", 10, 0.5)
    ex = PrefixLengthExplorer(res, ["wos"], "cpu", train_fn=lambda d, p: {})
    assert "Paste a text first" in ex.on_predict()
    ex.text.value = "some abstract"
    ex.slider.value = 25
    assert "train it first" in ex.on_predict()
    ex.slider.value = 10
    msg = ex.on_predict()
    assert "has no artifact here (results/cpu/runs/k10/artifact)" in msg  # no absolute path
    assert str(tmp_path) not in msg
    ex.dataset.value = "wos"
    ex.slider.value = 5
    assert ex.prediction.value == ""  # a stale message is cleared


def test_a_prediction_below_the_threshold_is_shown_as_candidates():
    from htclib.lab.widgets import prediction_html

    low = {"paths": [["Medical", "Osteoporosis"]], "probabilities": [[0.29, 0.06]]}
    html = prediction_html(low, 0)
    assert "no label path passes 0.5" in html and "candidates" in html
    high = {"paths": [["CS", "Machine learning"]], "probabilities": [[0.93, 0.71]]}
    assert prediction_html(high, 0).startswith("seed 0's prefix, label path:")
