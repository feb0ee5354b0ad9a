"""Shared fixtures: tiny random BERTs and hand-written hierarchies."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Tokenisation caches go to a per-session temp folder, never the user's home.
    monkeypatch.setenv("HTCLIB_CACHE", str(tmp_path_factory.getbasetemp() / "htclib-cache"))


def tiny_bert(
    seed: int = 0,
    vocab: int = 100,
    layers: int = 2,
    hidden: int = 32,
    heads: int = 4,
    init: float = 0.02,
    dropout: float = 0.1,
    pooler: bool = False,
) -> BertModel:
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=64,
        initializer_range=init,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    return BertModel(cfg, add_pooling_layer=pooler).eval()


@pytest.fixture
def bert():
    return tiny_bert()


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (3, 9), generator=g)
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 6:] = 0
    ids[1, 6:] = 0
    return ids, mask


class ToyTokenizer:
    """Whitespace tokenizer with a fixed vocabulary: enough for training-loop tests."""

    name_or_path = "toy"
    pad_token_id = 0

    def __init__(self, vocab=100):
        self.vocab = vocab

    def __len__(self):
        return self.vocab

    def __call__(self, texts, truncation=True, max_length=None):
        out = []
        for t in texts:
            ids = [1] + [5 + (sum(map(ord, w)) % (self.vocab - 5)) for w in t.split()] + [2]
            if truncation and max_length:
                ids = ids[: max_length - 1] + [2] if len(ids) > max_length else ids
            out.append(ids)
        return {"input_ids": out, "attention_mask": [[1] * len(i) for i in out]}


@pytest.fixture
def toy_tok():
    return ToyTokenizer()


def toy_texts(n: int, seed: int = 0):
    """Texts whose words reveal a 2-level label: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    texts, paths = [], []
    for _ in range(n):
        a = rng.integers(2)
        b = rng.integers(2)
        words = [f"top{a}"] * 3 + [f"sub{a}{b}"] * 3 + [f"w{rng.integers(50)}" for _ in range(4)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        paths.append([(f"A{a}", f"B{a}{b}")])
    return texts, paths


def tiny_workspace(tmp_path: Path) -> Path:
    """``data/all.jsonl`` (160 toy texts) and ``enc/`` (a tiny random BERT with a word-level
    tokenizer over their words): a full run through ``htclib.training.experiment.run`` in seconds."""
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
