"""Tokenisation through Hugging Face ``datasets``, cached on disk.

The cache key is (texts hash, tokenizer name and vocabulary size, max length), so notebooks
re-run without re-tokenising and a changed file or tokenizer never reuses stale ids.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

from datasets import Dataset, disable_progress_bars, load_from_disk

disable_progress_bars()  # tokenising takes seconds; training has its own progress bars

_warned_truncation = False


def cache_dir() -> Path:
    return Path(os.environ.get("HTCLIB_CACHE", Path.home() / ".cache" / "htclib"))


def tokenize(texts: list[str], tokenizer, max_length: int, use_cache: bool = True) -> Dataset:
    """``datasets.Dataset`` with ``input_ids``, ``attention_mask``, ``length`` and ``idx``.

    Texts longer than ``max_length`` tokens are truncated (a warning says how many, once).
    """
    global _warned_truncation
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 tokens, got {max_length}")
    key = hashlib.sha256()
    key.update("\x00".join(texts).encode())
    key.update(f"{tokenizer.name_or_path}|{len(tokenizer)}|{max_length}".encode())
    folder = cache_dir() / "tokens" / key.hexdigest()[:24]
    if use_cache and (folder / "dataset_info.json").exists():
        try:
            return load_from_disk(str(folder))
        except Exception:  # a damaged cache is rebuilt, never trusted
            shutil.rmtree(folder, ignore_errors=True)

    def encode(batch):
        enc = tokenizer(batch["text"], truncation=True, max_length=max_length)
        full = (
            tokenizer(batch["text"], truncation=False)["input_ids"]
            if not _warned_truncation
            else None
        )
        enc["length"] = [len(x) for x in enc["input_ids"]]
        if full is not None:
            enc["truncated"] = [len(f) > max_length for f in full]
        return enc

    ds = Dataset.from_dict({"text": texts, "idx": list(range(len(texts)))})
    ds = ds.map(encode, batched=True, remove_columns=["text"], desc="tokenising")
    if "truncated" in ds.column_names:
        n = sum(ds["truncated"])
        ds = ds.remove_columns("truncated")
        if n and not _warned_truncation:
            warnings.warn(
                f"{n} of {len(texts)} texts are longer than max_length={max_length} tokens "
                "and were truncated",
                stacklevel=2,
            )
            _warned_truncation = True
    if use_cache:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        try:
            ds.save_to_disk(str(tmp))
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            ds = load_from_disk(str(folder))
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return ds
