"""Data-parallel check: ``accelerate launch --cpu --num_processes 2 tests/ddp_worker.py OUT B``
trains the toy global SPP with ``B`` rows per process; ``python tests/ddp_worker.py OUT 2B`` is
the one-process run with the same global batch. The main process writes the dev history and
the trained prefix and head to ``OUT`` (a ``.pt`` file)."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import ToyTokenizer  # noqa: E402
from tests.test_train import train_once  # noqa: E402


def main(out: str, batch_size: int) -> None:
    model, res = train_once(
        ToyTokenizer(),
        seed=1,
        epochs=2,
        batch_size=batch_size,
        head_dropout=0.0,  # no dropout: each process would draw its own masks
        schedule="linear",  # warmup then decay: the schedule must follow global steps
        warmup_ratio=0.2,
        bucketing=True,  # shuffled batches: each step must see the one-process batch
    )
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return
    torch.save(
        {
            "history": [
                {k: r[k] for k in ("epoch", "train_loss", "dev_headline", "dev_micro_f1")}
                for r in res.history
            ],
            "params": {
                k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad
            },
        },
        out,
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
