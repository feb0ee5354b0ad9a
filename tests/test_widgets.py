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
