import json

import pytest

from htclib.io import atomic_write_json
from htclib.widgets import PrefixLengthExplorer


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
    ex.slider.value = 30
    assert "micro-F1 70.0" in ex.view.value and "params 3.00%" in ex.view.value
    assert list(ex.level.options) == ["all labels", "L1", "L2"]
    ex.level.value = "L2"
    assert "micro-F1 60.0" in ex.view.value
    ex.slider.value = 20
    assert "not trained yet" in ex.view.value and "[10, 30]" in ex.view.value
    ex.dataset.value = "amazon3"
    assert "Stored: none" in ex.view.value


def test_train_button_trains_and_refreshes(tmp_path):
    res = tmp_path / "results" / "cpu"
    calls = []

    def fake_train(dataset, length):
        calls.append((dataset, length))
        _record(tmp_path / "results" / "smoke", dataset, length, 0.4)
        return {"ok": True}

    ex = PrefixLengthExplorer(res, ["wos"], "cpu", train_fn=fake_train)
    ex.slider.value = 15
    assert "not trained yet" in ex.view.value
    assert ex.on_train() == {"ok": True}
    assert calls == [("wos", 15)]
    assert "micro-F1 40.0" in ex.view.value  # smoke-slice runs are shown, kept out of the cpu table
    assert not (res / "runs").exists()
    assert ex.widget().children


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
    assert d["P"] == [10, 30] and d["seeds"] == [1, 2] and d["selected"] == 20
    assert d["micro"][1] == pytest.approx(65.0) and d["micro_sd"][1] > 0  # two seeds: mean ± std
    before = ex.plot.value
    ex.slider.value = 30
    assert ex.plot_data["selected"] == 30
    assert ex.plot.value[:4] == b"\x89PNG" and ex.plot.value != before  # the image follows
    ex.level.value = "L1"
    assert ex.plot_data["level"] == "L1" and ex.plot_data["micro"][0] == pytest.approx(60.0)


def test_predict_box_without_run_or_text(tmp_path):
    res = tmp_path / "results" / "cpu"
    _record(res, "wos", 10, 0.5)
    ex = PrefixLengthExplorer(res, ["wos"], "cpu", train_fn=lambda d, p: {})
    assert "Paste a text first" in ex.on_predict()
    ex.text.value = "some abstract"
    ex.slider.value = 25
    assert "train it first" in ex.on_predict()
    ex.slider.value = 10
    assert "has no artifact here" in ex.on_predict()  # a record without its weights
