"""Resume after SIGKILL, atomic writes, corruption detection, determinism, hostile inputs."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from htclib.io import (
    CorruptFileError,
    atomic_write_json,
    read_json,
    verify_manifest,
    write_manifest,
)
from tests.conftest import ToyTokenizer
from tests.test_train import train_once

REPO = Path(__file__).resolve().parent.parent
WORKER = REPO / "tests" / "resume_worker.py"


def _worker(out, mode, tmp_path):
    env = {**os.environ, "HTCLIB_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, str(WORKER), str(out), mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    killed = _worker(tmp_path / "run", "kill", tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    ck = read_json(tmp_path / "run" / "history.json")
    assert [r["epoch"] for r in ck] == [1]  # epoch 1 was checkpointed, epoch 2 was cut short
    resumed = _worker(tmp_path / "run", "resume", tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = json.loads(resumed.stdout.strip().splitlines()[-1])
    _, ref = train_once(ToyTokenizer(), seed=3, epochs=3, out_dir=tmp_path / "ref")
    want = [
        {k: r[k] for k in ("epoch", "train_loss", "dev_micro_f1", "dev_auto")} for r in ref.history
    ]
    assert got == want


def test_corrupt_checkpoint_is_reported_not_used(tmp_path):
    train_once(ToyTokenizer(), epochs=1, out_dir=tmp_path)
    state = tmp_path / "checkpoint" / "state.pt"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    with pytest.raises(CorruptFileError, match="state.pt.*truncated"):
        train_once(ToyTokenizer(), epochs=2, out_dir=tmp_path, resume=True)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    f = tmp_path / "r.json"
    atomic_write_json(f, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(f, {"a": object()})
    assert read_json(f) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind


def test_manifest_detects_edits(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"abcdef")
    write_manifest(tmp_path, ["x.bin"])
    verify_manifest(tmp_path)
    (tmp_path / "x.bin").write_bytes(b"abcdeX")
    with pytest.raises(CorruptFileError, match="hash differs"):
        verify_manifest(tmp_path)
    (tmp_path / "x.bin").unlink()
    with pytest.raises(CorruptFileError, match="missing"):
        verify_manifest(tmp_path)


def test_corrupt_result_json_named(tmp_path):
    f = tmp_path / "result.json"
    f.write_text('{"a": ')
    with pytest.raises(CorruptFileError, match="result.json: not valid JSON"):
        read_json(f)


def test_same_config_same_metrics_twice(tmp_path):
    _, a = train_once(ToyTokenizer(), seed=11, epochs=2)
    _, b = train_once(ToyTokenizer(), seed=11, epochs=2)
    assert [(r["train_loss"], r["dev_micro_f1"]) for r in a.history] == [
        (r["train_loss"], r["dev_micro_f1"]) for r in b.history
    ]


def test_unknown_profile_and_dataset_in_notebook_parameters(tmp_path, capsys):
    from htclib.lab import profiles, run

    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        profiles.plan("nope", "02", "wos")
    assert (
        run.main(
            [
                "--profile",
                "smoke",
                "--dataset",
                "no-such-set",
                "--only",
                "01",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "01_data_exploration failed" in err and "no-such-set" in err


def test_checkpoint_of_another_model_is_refused_by_name(tmp_path):
    from htclib.training.checkpoint import CheckpointError

    train_once(ToyTokenizer(), epochs=1, out_dir=tmp_path)  # a prefix model's checkpoint
    with pytest.raises(CheckpointError, match="do not match this model's trainable parameters"):
        train_once(ToyTokenizer(), method="cls", epochs=2, out_dir=tmp_path, resume=True)


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    import pickle

    from htclib.io import write_manifest
    from htclib.training.checkpoint import CheckpointError

    train_once(ToyTokenizer(), epochs=1, out_dir=tmp_path)
    ck = tmp_path / "checkpoint"

    class Boom:
        def __reduce__(self):
            return (print, ("ran code from a checkpoint",))

    (ck / "state.pt").write_bytes(pickle.dumps({"model": Boom()}, protocol=2))
    write_manifest(ck, ["state.pt"])  # the manifest matches: only the loader can refuse it
    with pytest.raises(CheckpointError, match="not a checkpoint htclib can load safely"):
        train_once(ToyTokenizer(), epochs=2, out_dir=tmp_path, resume=True)


def test_checkpoint_with_numpys_rng_array_still_resumes(tmp_path):
    """Checkpoints written before the RNG state was stored as plain types (NumPy's array)."""
    import torch

    from htclib.io import write_manifest

    _, full = train_once(ToyTokenizer(), seed=3, epochs=2, out_dir=tmp_path / "ref")
    train_once(ToyTokenizer(), seed=3, epochs=1, out_dir=tmp_path / "old")
    ck = tmp_path / "old" / "checkpoint"
    blob = torch.load(ck / "state.pt", weights_only=True)
    name, keys, *rest = blob["rng"]["numpy"]
    blob["rng"]["numpy"] = (name, keys.numpy().astype(np.uint32), *rest)  # the old layout
    torch.save(blob, ck / "state.pt")
    write_manifest(ck, ["state.pt"])
    _, resumed = train_once(ToyTokenizer(), seed=3, epochs=2, out_dir=tmp_path / "old", resume=True)
    assert [r["dev_micro_f1"] for r in resumed.history] == [r["dev_micro_f1"] for r in full.history]


def test_atomic_writes_get_the_mode_of_a_plain_open(tmp_path):
    import stat

    f = atomic_write_json(tmp_path / "r.json", {"a": 1})
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert stat.S_IMODE(f.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
