"""The grid on Ray: two local worker processes, one killed mid-run; its run completes on a
retried task from the epoch checkpoint, with the numbers of an uninterrupted run."""

import os
import signal
import threading
import time

import pytest

from htclib.method.configs import DataConfig
from htclib.method.models import ModelConfig
from htclib.method.prefix import PrefixConfig
from htclib.training.experiment import RunConfig, run
from htclib.training.train import TrainConfig
from tests.conftest import tiny_workspace

pytestmark = pytest.mark.integration


def _config(work, seed):
    return RunConfig(
        f"data/spp-P4/s{seed}",
        DataConfig("data", path=str(work / "data")),
        ModelConfig("spp", str(work / "enc"), PrefixConfig(length=4)),
        # several passes over the 160 toy texts an epoch: epochs long enough to kill one
        TrainConfig(
            max_epochs=4,
            patience=10,
            batch_size=16,
            max_length=24,
            seed=seed,
            epoch_repeats=6,
            schedule="constant",
        ),  # fmt: skip
    )


def test_a_killed_worker_s_run_completes_elsewhere_with_the_same_numbers(tmp_path):
    pytest.importorskip("ray")
    from htclib.lab.ray_engine import run_on_ray

    work = tiny_workspace(tmp_path)
    cfgs = [_config(work, 3), _config(work, 4)]
    ref = run(cfgs[0], tmp_path / "ref", progress=False)  # uninterrupted, in this process
    results = tmp_path / "ray"
    folder = results / "runs" / cfgs[0].key()
    got, errors = {}, []

    def drive():
        try:
            got["records"] = run_on_ray(cfgs, results, num_cpus=2)
        except Exception as e:  # surfaced below
            errors.append(e)

    t0 = time.perf_counter()
    driver = threading.Thread(target=drive)
    driver.start()
    # kill the worker of the first run once it has checkpointed an epoch, before it finishes
    deadline = time.time() + 300
    while not (folder / "checkpoint" / "MANIFEST.json").exists():
        assert time.time() < deadline and driver.is_alive(), f"no checkpoint: {errors}"
        time.sleep(0.2)
    assert not (folder / "result.json").exists()
    pid = int((folder / "worker.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    driver.join(timeout=600)
    elapsed = time.perf_counter() - t0
    assert not errors and len(got["records"]) == 2, errors
    assert int((folder / "worker.pid").read_text()) != pid  # another worker finished it
    rec = next(r for r in got["records"] if r["key"] == cfgs[0].key())
    keys = ("epoch", "train_loss", "dev_headline")
    assert [{k: h[k] for k in keys} for h in rec["history"]] == [
        {k: h[k] for k in keys} for h in ref["history"]
    ]
    assert rec["test"] == ref["test"]
    print(f"ray: two runs, one worker killed, {elapsed:.0f} s")  # shown with -s
    # a finished record is never run again
    assert run_on_ray(cfgs, results, num_cpus=2) == []
