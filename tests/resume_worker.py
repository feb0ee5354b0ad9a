"""Subprocess for the kill-and-resume test: trains a tiny model with checkpoints.

``python tests/resume_worker.py OUT_DIR kill``: SIGKILLs itself mid-way through epoch 2,
after the epoch-1 checkpoint is on disk. ``... OUT_DIR resume``: resumes and prints the
final history as JSON.
"""

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import htclib.training.train as T  # noqa: E402
from tests.conftest import ToyTokenizer  # noqa: E402
from tests.test_train import train_once  # noqa: E402


def main(out_dir: str, mode: str) -> None:
    if mode == "kill":
        saved = {"n": 0}
        real_save, real_collate = T.save_checkpoint, T.collate

        def save(*a, **k):
            real_save(*a, **k)
            saved["n"] += 1

        calls = {"n": 0}

        def collate(*a, **k):
            if saved["n"] >= 1:
                calls["n"] += 1
                if calls["n"] == 3:  # the third batch of epoch 2
                    os.kill(os.getpid(), signal.SIGKILL)
            return real_collate(*a, **k)

        T.save_checkpoint, T.collate = save, collate
    _, res = train_once(
        ToyTokenizer(), seed=3, epochs=3, out_dir=out_dir, resume=(mode == "resume")
    )
    print(
        json.dumps(
            [
                {k: r[k] for k in ("epoch", "train_loss", "dev_micro_f1", "dev_auto")}
                for r in res.history
            ]
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
