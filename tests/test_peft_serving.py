"""The serving benchmark's equality check: mixed passes equal per-task passes, and it notices a
mixed pass that serves a row with another task's adapter."""

import pytest
import torch
from transformers import BertConfig, BertModel

from benchmarks import peft_serving as bench

pytest.importorskip("peft")


def tiny():
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    return BertModel(cfg, add_pooling_layer=False)


def test_mixed_passes_equal_per_task_passes_and_a_wrong_one_is_caught():
    enc, prefixes, lora = bench.build(3, make_encoder=tiny)
    ids = torch.randint(5, 100, (9, 12))
    mask = torch.ones_like(ids)
    mask[0, 8:] = 0  # a padded row
    fns, task = bench.passes(enc, prefixes, lora, ids, mask)
    assert bench.check(fns, prefixes, enc, ids, mask, task) < 1e-5
    names = list(fns)
    wrong = dict(fns)
    # every row served by task 0's adapter: the per-task passes differ from it
    wrong[names[2]] = lambda: lora(
        input_ids=ids, attention_mask=mask, adapter_names=["t0"] * len(ids)
    ).last_hidden_state[:, 0]
    with pytest.raises(AssertionError, match="differs"):
        bench.check(wrong, prefixes, enc, ids, mask, task)
