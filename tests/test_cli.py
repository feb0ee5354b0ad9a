"""The ``htclib`` command and the prediction API, end to end on a tiny random encoder."""

import json

import numpy as np
import pytest

from htclib.serve import cli
from htclib.serve.predict import PrefixServer, load_predictor
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
    assert cli.main(["predict", str(runs["a"]), "--input", str(f), "--echo"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["text"] for x in lines] == ["top0 top0 sub01 w3", "top1 sub10 sub10 w7", "w1 w2"]
    assert [x["n"] for x in lines] == [1, 2, 3]
    for x in lines:
        (path,) = x["paths"]  # best path: exactly one, top level first
        assert len(path) == 2 and path[0] in ("A0", "A1") and path[1].startswith("B" + path[0][1])
        assert len(x["probabilities"][0]) == 2 and len(x["top"]) == 2
    out = tmp_path / "pred.jsonl"
    assert (
        cli.main(["predict", str(runs["a"] / "artifact"), "--input", str(f), "--output", str(out)])
        == 0
    )
    quiet = [json.loads(x) for x in out.read_text().splitlines()]
    assert quiet == [{k: v for k, v in x.items() if k != "text"} for x in lines]  # no echo


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
    from htclib.lab.widgets import PrefixLengthExplorer

    work, runs = trained
    ex = PrefixLengthExplorer(runs["a"], ["data"], "cpu", train_fn=lambda d, p: {})
    ex.slider.value = 5
    assert ex.plot_data["P"] == [5]
    ex.text.value = "top1 top1 sub10 w4"
    html = ex.on_predict()
    # a 3-epoch toy prefix: a path passing 0.5, or the best path shown as candidates
    assert "seed 0's prefix" in html and "<b>A" in html and " &gt; <b>B" in html
    assert "label path:" in html or "candidates" in html


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


def test_a_csv_goes_through_the_command_line(tmp_path, capsys):
    """A CSV written by hand, a text column and one column per level: data, train, predict and
    evaluate all take it through --text-col / --level-cols."""
    work = tiny_workspace(tmp_path)
    rows = [json.loads(x) for x in (work / "data" / "all.jsonl").read_text().splitlines()]
    csv = tmp_path / "mine.csv"
    csv.write_text("abstract,field,subfield\n" + "".join(
        f'"{r["text"]}",{r["labels"][0][0]},{r["labels"][0][1]}\n' for r in rows))  # fmt: skip
    flags = ["--text-col", "abstract", "--level-cols", "field,subfield"]
    assert cli.main(["data", str(csv), *flags]) == 0
    assert "subfield" not in capsys.readouterr().err
    out = tmp_path / "run"
    argv = ["train", "--data", str(csv), *flags, "--out", str(out), "--encoder",
            str(work / "enc"), "--prefix-length", "4", "--epochs", "1", "--max-length", "24",
            "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    assert cli.main(["evaluate", str(out), "--data", str(csv), *flags]) == 0
    assert cli.main(["data", str(csv)]) == 2  # without the columns: a message naming the flag
    assert "--level-cols" in capsys.readouterr().err


def test_run_folders_survive_cp_mv_and_tar_and_force_retrains(trained, tmp_path, capsys):
    import shutil
    import subprocess
    import tarfile

    work, runs = trained
    src = tmp_path / "orig"
    shutil.copytree(runs["b"], src, symlinks=True)
    assert not (src / "artifact").is_symlink()  # a real copy: no link to follow or break
    copied, moved = tmp_path / "copied", tmp_path / "moved"
    subprocess.run(["cp", "-r", str(src), str(copied)], check=True)
    with tarfile.open(tmp_path / "run.tar", "w") as tar:
        tar.add(src, arcname="packed")
    shutil.move(src, moved)
    with tarfile.open(tmp_path / "run.tar") as tar:
        tar.extractall(tmp_path / "un", filter="data")
    for folder in (copied, moved, tmp_path / "un" / "packed"):
        assert load_predictor(folder).predict(["top0 sub00 w1"])[0]["paths"]  # a run folder
    # editing a copy leaves the original's weights alone
    w = copied / "artifact" / "weights.safetensors"
    w.write_bytes(b"\x00" * 16)
    assert load_predictor(moved).predict(["top0 sub00 w1"])
    # a damaged weights file whose manifest still matches: a message, exit 2
    from htclib.io import write_manifest

    write_manifest(copied / "artifact", ["weights.safetensors", "config.json"])
    capsys.readouterr()
    assert cli.main(["predict", str(copied), "--input", str(tmp_path / "x.txt")]) == 2
    (tmp_path / "x.txt").write_text("top0 sub00 w1\n")
    assert cli.main(["predict", str(copied), "--input", str(tmp_path / "x.txt")]) == 2
    assert "not a readable safetensors file" in capsys.readouterr().err


def test_a_finished_run_is_reused_and_force_trains_it_again(trained, capsys):
    work, runs = trained
    argv = ["train", "--data", str(work / "data"), "--out", str(runs["a"]), "--encoder",
            str(work / "enc"), "--prefix-length", "5", "--epochs", "3", "--batch-size", "16",
            "--max-length", "24"]  # fmt: skip
    capsys.readouterr()
    assert cli.main(argv) == 0
    assert "finished before" in capsys.readouterr().err
    rec = next((runs["a"] / "runs").glob("*/result.json"))
    before = rec.stat().st_mtime_ns
    assert cli.main([*argv, "--force"]) == 0
    assert rec.stat().st_mtime_ns != before
    said = capsys.readouterr()
    assert "resumed" not in said.out + said.err  # from the start, not the old checkpoint


def test_data_summarises_a_file_too_small_to_split(tmp_path, capsys):
    f = tmp_path / "one.jsonl"
    f.write_text(json.dumps({"text": "a text", "labels": [["CS", "ML"]]}) + "\n")
    assert cli.main(["data", str(f)]) == 0
    out = capsys.readouterr().out
    assert "1 text(s), too few to split" in out and "level 2: 1 label(s): ML" in out


def test_json_messages_say_where_and_name_json_types(tmp_path, capsys):
    from htclib.data import DataError, read_jsonl

    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "unterminated, "labels": []}\n')
    with pytest.raises(DataError, match="line 1: malformed JSON .* at column"):
        read_jsonl(f)
    f.write_text('{"text": null, "labels": [["a"]]}\n')
    with pytest.raises(DataError, match="got null"):
        read_jsonl(f)


def _copy_run(src, dst):
    import shutil

    shutil.copytree(src, dst)
    (run,) = (dst / "runs").iterdir()  # train --out holds the run folder under runs/<key>
    return run


def test_halve_stores_fp16_only_after_checking_every_recorded_prediction(trained, tmp_path, capsys):
    from safetensors import safe_open

    work, runs = trained
    run = _copy_run(runs["b"], tmp_path / "run-b")
    assert cli.main(["halve", str(run.parent.parent)]) == 2  # the --out folder, not the run
    assert "halve its run" in capsys.readouterr().err
    before = (run / "artifact" / "weights.safetensors").stat().st_size
    text = tmp_path / "in.txt"
    text.write_text("top0 top0 sub01 w3\ntop1 sub10 sub10 w7\nw1 w2 top2\n")
    assert cli.main(["predict", str(run), "--input", str(text)]) == 0
    fp32_out = capsys.readouterr().out
    assert cli.main(["halve", str(run)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["written"] and report["test_texts"] > 0
    assert report["fp32_changed_texts"] == 0 and report["fp16_changed_texts"] == 0
    after = (run / "artifact" / "weights.safetensors").stat().st_size
    assert after < 0.6 * before
    with safe_open(str(run / "artifact" / "weights.safetensors"), framework="pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}
    meta = json.loads((run / "artifact" / "config.json").read_text())
    assert meta["storage"]["dtype"] == "float16"
    assert meta["storage"]["check"]["test_texts"] == report["test_texts"]
    assert not (run / "artifact.half.tmp").exists() and not (run / "artifact.fp32.old").exists()
    # the labels a user sees are the fp32 artifact's
    assert cli.main(["predict", str(run), "--input", str(text)]) == 0
    got = [json.loads(x)["paths"] for x in capsys.readouterr().out.splitlines()]
    assert got == [json.loads(x)["paths"] for x in fp32_out.splitlines()]
    assert cli.main(["halve", str(run)]) == 2
    assert "already stored at half precision" in capsys.readouterr().err


def test_halve_refuses_an_artifact_that_does_not_reproduce_its_record(trained, tmp_path, capsys):
    work, runs = trained
    run = _copy_run(runs["b"], tmp_path / "run-b")
    rec = json.loads((run / "test_pred.json").read_text())
    for how in rec["pred"]:  # the record now says text 0 has every label: no model says that
        rec["pred"][how][0] = list(range(rec["n_labels"]))
    (run / "test_pred.json").write_text(json.dumps(rec))
    weights = (run / "artifact" / "weights.safetensors").read_bytes()
    assert cli.main(["halve", str(run), "--check"]) == 2
    err = capsys.readouterr().err
    assert "does not reproduce its record" in err and "1 of" in err
    assert (run / "artifact" / "weights.safetensors").read_bytes() == weights
