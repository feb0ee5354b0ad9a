"""Seeded initialisation: a config's numbers depend on its seed, not on what ran before."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import tiny_bert, toy_texts

WORKER = Path(__file__).with_name("determinism_worker.py")


def _workspace(tmp_path: Path) -> Path:
    from transformers import BertTokenizerFast

    texts, paths = toy_texts(160)
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "all.jsonl", "w") as f:
        for t, p in zip(texts, paths, strict=True):
            f.write(json.dumps({"text": t, "labels": [list(q) for q in p]}) + "\n")
    words = sorted({w for t in texts for w in t.split()})
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tok = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    bert = tiny_bert(vocab=len(tok), init=0.2, pooler=True)
    tok.save_pretrained(tmp_path / "enc")
    bert.save_pretrained(tmp_path / "enc")
    return tmp_path


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
    work = _workspace(tmp_path)
    after_a = _run(work, "A", "B")
    alone = _run(work, "B")
    assert after_a["test"] == alone["test"]
    assert [h["train_loss"] for h in after_a["history"]] == [
        h["train_loss"] for h in alone["history"]
    ]
