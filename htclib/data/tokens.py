"""Tokenisation through Hugging Face ``datasets``, cached on disk.

The cache key is (texts hash, tokenizer name and vocabulary size, max length), so notebooks
re-run without re-tokenising and a changed file or tokenizer never reuses stale ids.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from datasets import Dataset, disable_progress_bars, load_from_disk

disable_progress_bars()  # tokenising takes seconds; training has its own progress bars

_said_truncation = False


def _read_count(folder: Path) -> int:
    f = folder / "truncated.txt"
    return int(f.read_text()) if f.exists() else 0


def _note_truncation(n: int, total: int, max_length: int) -> None:
    """One plain line per process (not a warning with a file and line number)."""
    global _said_truncation
    if n and not _said_truncation:
        _said_truncation = True
        print(f"note: {n} of {total} texts are longer than {max_length} tokens; each is cut to "
              f"its first {max_length} (max_length)", flush=True)  # fmt: skip


def cache_dir() -> Path:
    return Path(os.environ.get("HTCLIB_CACHE", Path.home() / ".cache" / "htclib"))


def tokenize(texts: list[str], tokenizer, max_length: int, use_cache: bool = True) -> Dataset:
    """``datasets.Dataset`` with ``input_ids``, ``attention_mask``, ``length`` and ``idx``.

    Texts longer than ``max_length`` tokens are truncated; a plain line says how many, once a
    process (the count is cached with the tokens, so a cached split says it too).
    """
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 tokens, got {max_length}")
    key = hashlib.sha256()
    key.update("\x00".join(texts).encode())
    key.update(f"{tokenizer.name_or_path}|{len(tokenizer)}|{max_length}".encode())
    folder = cache_dir() / "tokens" / key.hexdigest()[:24]
    if use_cache and (folder / "dataset_info.json").exists():
        try:
            ds = load_from_disk(str(folder))
            _note_truncation(_read_count(folder), len(texts), max_length)
            return ds
        except Exception:  # a damaged cache is rebuilt, never trusted
            shutil.rmtree(folder, ignore_errors=True)

    def encode(batch):
        enc = tokenizer(batch["text"], truncation=True, max_length=max_length)
        full = tokenizer(batch["text"], truncation=False)["input_ids"]
        enc["length"] = [len(x) for x in enc["input_ids"]]
        enc["truncated"] = [len(f) > max_length for f in full]
        return enc

    ds = Dataset.from_dict({"text": texts, "idx": list(range(len(texts)))})
    # no progress bar: a split tokenises in a second, and in a notebook the bar is stderr noise
    ds = ds.map(encode, batched=True, remove_columns=["text"])
    n = sum(ds["truncated"])
    ds = ds.remove_columns("truncated")
    _note_truncation(n, len(texts), max_length)
    if use_cache:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        try:
            ds.save_to_disk(str(tmp))
            (tmp / "truncated.txt").write_text(str(n))
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            ds = load_from_disk(str(folder))
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return ds
