"""Amazon Beauty builder on a small file in the metadata's format (Python dict literals)."""

import gzip
import json

import pytest

from htclib import data
from htclib.data import DataError
from htclib.data.amazon import build_amazon_beauty, read_meta


def _meta(tmp_path, lines):
    f = tmp_path / "meta_Beauty.json.gz"
    with gzip.open(f, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return f


def _product(i, cats, title="Rose Face Cream {i}"):
    d = {"asin": f"B{i:05d}", "categories": cats, "salesRank": {"Beauty": i}}
    if title is not None:
        d["title"] = title.format(i=i)
    return repr(d)  # single quotes: a Python literal, not JSON


def test_build_rules_and_paper_split(tmp_path):
    face = ["Beauty", "Skin Care", "Face", "Creams & Moisturizers", "Face Creams", "Night", "Extra"]
    lines = [
        _product(i, [face, ["Beauty", "Skin Care"], ["Health & Personal Care", "Vitamins"]])
        for i in range(60)
    ]
    lines += [
        _product(
            100 + i,
            [["Beauty", "Hair Care", "Shampoos"], ["Beauty", "Fragrance"]],
            title="Argan  Shampoo {i}",
        )
        for i in range(40)
    ]
    lines += [_product(200, [["Beauty", "Makeup"]], title=None)]  # no title
    lines += [_product(201, [["Grocery", "Tea"]])]  # no Beauty path
    report = build_amazon_beauty(_meta(tmp_path, lines), tmp_path / "out", progress=False)
    assert report["lines"] == 102 and report["no_title"] == 1 and report["no_beauty_path"] == 1
    assert report["texts"] == 100 and report["multi_path"] == 40
    assert (report["train"], report["dev"], report["test"]) == (56, 14, 30)  # the paper's 56/14/30
    ds = data.load("beauty", tmp_path / "out")
    assert ds.hierarchy.depth == 5  # cut to 5 levels below the root
    rec = json.loads((tmp_path / "out" / "train.jsonl").read_text().splitlines()[0])
    # Root removed, the prefix path ("Skin Care",) dropped (the longer path implies it).
    assert rec["labels"] in (
        [["Skin Care", "Face", "Creams & Moisturizers", "Face Creams", "Night"]],
        [["Hair Care", "Shampoos"], ["Fragrance"]],
    )
    assert "  " not in " ".join(ds.train.texts)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["paper"]["labels"] == 241


def test_min_label_count_truncates_rare_labels(tmp_path):
    lines = [_product(i, [["Beauty", "Makeup", "Eyes"]]) for i in range(12)]
    lines += [_product(50, [["Beauty", "Makeup", "Rare Thing"]])]
    report = build_amazon_beauty(
        _meta(tmp_path, lines), tmp_path / "o", min_label_count=2, progress=False
    )
    assert report["labels_per_level"] == [1, 1] and report["texts"] == 13


def test_lines_are_never_evaluated(tmp_path):
    f = _meta(
        tmp_path, [_product(1, [["Beauty", "Makeup"]]), "__import__('os').system('echo hacked')"]
    )
    with pytest.raises(DataError, match=r"line 2: not a Python dict literal"):
        read_meta(f, progress=False)
    f = _meta(tmp_path, ["[1, 2]"])
    with pytest.raises(DataError, match="line 1: expected a dict"):
        read_meta(f, progress=False)
