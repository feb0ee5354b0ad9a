"""The ``htclib`` command and the prediction API, end to end on a tiny random encoder."""

import json

import numpy as np
import pytest

from htclib import cli
from htclib.predict import PrefixServer, load_predictor
from tests.conftest import tiny_workspace


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tiny_workspace(tmp_path_factory.mktemp("cli"))
    out = {}
    for name, p in (("a", "5"), ("b", "10")):
        argv = ["train", "--data", str(work / "data"), "--out", str(work / f"run-{name}"),
                "--encoder", str(work / "enc"), "--prefix-length", p, "--epochs", "3",
                "--batch-size", "16", "--max-length", "24", "--quiet"]  # fmt: skip
        assert cli.main(argv) == 0
        out[name] = work / f"run-{name}"
    return work, out


def test_train_prints_scores_and_links_the_artifact(trained, capsys):
    work, runs = trained
    assert (runs["a"] / "artifact" / "config.json").exists()
    meta = json.loads((runs["a"] / "artifact" / "config.json").read_text())
    assert meta["serving"] == {"max_length": 24, "multi_path": False, "bf16": False}
    assert meta["model"]["prefix"]["length"] == 5


def test_predict_jsonl_and_plain_lines_with_bom(trained, tmp_path, capsys):
    work, runs = trained
    f = tmp_path / "in.txt"
    f.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"text": "top0 top0 sub01 w3"}\ntop1 sub10 sub10 w7\n\n{"text": "w1 w2"}\n'
    )
    capsys.readouterr()
    assert cli.main(["predict", str(runs["a"]), "--input", str(f)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["text"] for x in lines] == ["top0 top0 sub01 w3", "top1 sub10 sub10 w7", "w1 w2"]
    for x in lines:
        (path,) = x["paths"]  # best path: exactly one, top level first
        assert len(path) == 2 and path[0] in ("A0", "A1") and path[1].startswith("B" + path[0][1])
        assert len(x["probabilities"][0]) == 2 and len(x["top"]) == 2
    out = tmp_path / "pred.jsonl"
    assert (
        cli.main(["predict", str(runs["a"] / "artifact"), "--input", str(f), "--output", str(out)])
        == 0
    )
    assert [json.loads(x) for x in out.read_text().splitlines()] == lines


def test_evaluate_matches_the_run_record(trained, capsys):
    work, runs = trained
    capsys.readouterr()
    assert cli.main(["evaluate", str(runs["a"]), "--data", str(work / "data")]) == 0
    ev = json.loads(capsys.readouterr().out)
    rec = json.loads(next((runs["a"] / "runs").glob("*/result.json")).read_text())
    assert ev["headline"]["micro_f1"] == pytest.approx(rec["test"]["headline/micro_f1"], abs=1e-4)
    assert ev["texts"] == rec["n_test"]


def test_bad_input_exit_code_2(trained, tmp_path, capsys):
    work, runs = trained
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": 3}\n')
    assert cli.main(["predict", str(runs["a"]), "--input", str(bad)]) == 2
    assert "bad.jsonl, line 1: a JSON line needs a string 'text'" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path), "--data", str(work / "data")]) == 2
    assert "not an htclib artifact" in capsys.readouterr().err
    assert cli.main(["data", str(tmp_path / "missing")]) == 2
    other = tmp_path / "other.jsonl"
    other.write_text(
        "".join(json.dumps({"text": f"w{i}", "labels": [["Z", "Q"]]}) + "\n" for i in range(5))
    )
    assert cli.main(["evaluate", str(runs["a"]), "--data", str(other)]) == 2
    assert "label 'Z > Q'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--data", "x"])  # --out is required: argparse exits 2


def test_prefix_server_equals_each_predictor(trained):
    work, runs = trained
    texts = ["top0 sub00 w1", "top1 sub11 w2 w3", "w4 top0 top0", "sub10 top1"]
    tasks = ["a", "b", "b", "a"]
    server = PrefixServer({t: runs[t] / "artifact" for t in ("a", "b")})
    together = server.predict(texts, tasks)
    for t in ("a", "b"):
        alone = load_predictor(runs[t] / "artifact")
        mine = [i for i, k in enumerate(tasks) if k == t]
        ref = alone.predict([texts[i] for i in mine])
        for i, r in zip(mine, ref, strict=True):
            assert together[i]["task"] == t and together[i]["paths"] == r["paths"]
            np.testing.assert_allclose(together[i]["probabilities"], r["probabilities"], atol=2e-3)
    with pytest.raises(ValueError, match="unknown task"):
        server.predict(texts[:1], ["c"])
    with pytest.raises(TypeError, match="list of texts"):
        load_predictor(runs["a"] / "artifact").predict("one string")


def test_explorer_labels_a_pasted_text_with_the_selected_prefix(trained):
    from htclib.widgets import PrefixLengthExplorer

    work, runs = trained
    ex = PrefixLengthExplorer(runs["a"], ["data"], "cpu", train_fn=lambda d, p: {})
    ex.slider.value = 5
    assert ex.plot_data["P"] == [5]
    ex.text.value = "top1 top1 sub10 w4"
    html = ex.on_predict()
    assert html.startswith("label path: <b>A") and " &gt; <b>B" in html


def test_top_layers_flag_sets_the_prefix_depth_and_bad_combinations_are_named(tmp_path):
    work = tiny_workspace(tmp_path)
    base = ["train", "--data", str(work / "data"), "--out", str(tmp_path / "r")]
    cfg = cli._config(cli.build_parser().parse_args([*base, "--top-layers", "1"]))
    assert cfg.model.prefix.top_layers == 1 and cfg.model.method == "spp"
    for extra, why in (
        (["--recipe", "ptv2"], "not with shift_positions"),
        (["--method", "local"], "global SPP switch"),
    ):
        with pytest.raises(ValueError, match=why):
            cli._config(cli.build_parser().parse_args([*base, "--top-layers", "1", *extra]))


def test_dropout_masks_flag_reaches_the_model_config(tmp_path):
    work = tiny_workspace(tmp_path)
    base = ["train", "--data", str(work / "data"), "--out", str(tmp_path / "r")]
    parse = cli.build_parser().parse_args
    assert cli._config(parse(base)).model.dropout_masks == "rand"
    assert cli._config(parse([*base, "--dropout-masks", "words"])).model.dropout_masks == "words"
    with pytest.raises(SystemExit):  # argparse names the choices
        parse([*base, "--dropout-masks", "bits"])
