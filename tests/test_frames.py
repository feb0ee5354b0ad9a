"""DataFrames and Hugging Face datasets as data sets."""

import pandas as pd
import pytest

from htclib.data import DataError
from htclib.data.frames import from_frame, from_hf


def _df(n=40):
    return pd.DataFrame(
        {
            "text": [f"text number {i}" for i in range(n)],
            "labels": [[["A" if i % 2 else "B", f"x{i % 3}"]] for i in range(n)],
            "l1": ["A" if i % 2 else "B" for i in range(n)],
            "l2": [f"x{i % 3}" if i % 4 else None for i in range(n)],  # some paths end at level 1
            "split": [["train", "train", "train", "validation", "test"][i % 5] for i in range(n)],
        }
    )


def test_frame_with_path_column_is_split_64_16_20():
    ds = from_frame(_df())
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (25, 7, 8)
    assert ds.hierarchy.sizes == [2, 6]  # path-keyed: x0 under A and under B are two labels


def test_frame_with_level_columns_and_given_split():
    ds = from_frame(_df(), level_cols=["l1", "l2"], split_col="split")
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (24, 8, 8)
    assert ("B",) in [tuple(p) for ps in ds.train.paths for p in ps]  # an empty l2 ends the path
    bad = _df().assign(split="holdout")
    with pytest.raises(DataError, match="row 1: split='holdout'"):
        from_frame(bad, split_col="split")
    with pytest.raises(DataError, match="no label column 'cats'"):
        from_frame(_df(), label_col="cats")
    with pytest.raises(DataError, match="row 3: empty or non-text 'text'"):
        from_frame(_df().assign(text=["ok", "ok", "", *["ok"] * 37]))


def test_hf_dataset_and_dataset_dict():
    datasets = pytest.importorskip("datasets")
    d = datasets.Dataset.from_pandas(_df())
    assert len(from_hf(d).test) == 8
    dd = datasets.DatasetDict(
        {"train": d, "validation": d.select(range(10)), "test": d.select(range(5))}
    )
    ds = from_hf(dd, level_cols=["l1", "l2"])
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (40, 10, 5)
    with pytest.raises(DataError, match="expected train, validation"):
        from_hf(datasets.DatasetDict({"train": d}))
