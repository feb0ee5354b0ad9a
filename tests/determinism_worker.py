"""Subprocess for the determinism test: runs configs in order in one fresh process.

``python tests/determinism_worker.py WORK A B`` trains config A then B and prints B's test
scores as JSON; ``... WORK B`` trains B alone. WORK holds the data and a tiny encoder folder.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from htclib.method.models import ModelConfig  # noqa: E402
from htclib.method.prefix import PrefixConfig  # noqa: E402
from htclib.training.experiment import DataConfig, RunConfig, run  # noqa: E402
from htclib.training.train import TrainConfig  # noqa: E402


def config(work: Path, which: str) -> RunConfig:
    model = {
        "A": ModelConfig("local", encoder=str(work / "enc"), level_lengths=[2, 3]),
        "B": ModelConfig("spp", encoder=str(work / "enc"), prefix=PrefixConfig(length=4)),
    }[which]
    return RunConfig(
        which,
        DataConfig("toy", path=str(work / "data")),
        model,
        TrainConfig(max_epochs=2, batch_size=16, max_length=24, seed=3),
    )


def main(work: str, *names: str) -> None:
    work = Path(work)
    out = work / ("out-" + "".join(names))
    for name in names:
        result = run(config(work, name), out, progress=False)
    print(json.dumps({"test": result["test"], "history": result["history"]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
