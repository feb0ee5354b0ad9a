"""Seeded initialisation: a config's numbers depend on its seed, not on what ran before."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import tiny_workspace

WORKER = Path(__file__).with_name("determinism_worker.py")


def _run(work: Path, *names: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        [sys.executable, str(WORKER), str(work), *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_config_b_after_a_equals_b_alone(tmp_path):
    work = tiny_workspace(tmp_path)
    after_a = _run(work, "A", "B")
    alone = _run(work, "B")
    assert after_a["test"] == alone["test"]
    assert [h["train_loss"] for h in after_a["history"]] == [
        h["train_loss"] for h in alone["history"]
    ]
