"""benchmarks.time_to_accuracy: epochs and seconds to a target dev score, global and local."""

import json

import pytest

from benchmarks.time_to_accuracy import dev_curve, main, time_to_accuracy


def _write(tmp_path, key, rec):
    d = tmp_path / "runs" / key
    d.mkdir(parents=True)
    (d / "result.json").write_text(json.dumps(rec))


def _global(method, seed, devs, secs=10.0):
    hist = [{"epoch": i + 1, "dev_headline": d, "seconds": secs} for i, d in enumerate(devs)]
    return {
        "dataset": "wos",
        "method": method,
        "seed": seed,
        "prefix_length": 10 if method == "spp" else None,
        "best_dev": max(devs),
        "history": hist,
        "config": {"model": {"encoder_dropout": True}, "data": {}},
    }


def test_global_and_local_epochs_and_seconds_to_target(tmp_path):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))  # target 0.95 * 0.8 = 0.76
    _write(tmp_path, "spp", _global("spp", 0, [0.5, 0.77, 0.7], secs=4.0))
    # local: level 1 kept at its epoch 2 (tp 30, fp 5, fn 10); level 2's own counts per epoch
    l1 = [(10, 20, 30), (30, 5, 10), (28, 6, 12)]
    l2 = [(10, 10, 40), (40, 10, 10), (45, 5, 5)]
    hist = [
        {"level": 1, "epoch": i + 1, "seconds": 2.0, "dev_headline": 0.0}
        | dict(zip(("dev_headline_tp", "dev_headline_fp", "dev_headline_fn"), c, strict=True))
        for i, c in enumerate(l1)
    ] + [
        {"level": 2, "epoch": i + 1, "seconds": 3.0, "dev_headline": 0.0}
        | dict(zip(("dev_headline_tp", "dev_headline_fp", "dev_headline_fn"), c, strict=True))
        for i, c in enumerate(l2)
    ]
    local = {
        "dataset": "wos",
        "method": "local",
        "variant": "copy",
        "seed": 0,
        "prefix_length": "10/20",
        "best_dev": 0.0,
        "levels": [{"level": 1, "best_epoch": 2}, {"level": 2, "best_epoch": 3}],
        "history": hist,
        "config": {"model": {"encoder_dropout": True}, "data": {}},
    }
    _write(tmp_path, "local", local)
    curve = dev_curve(local)
    # after level 2's epoch 2: tp 70, fp 15, fn 20 -> 140 / 175 = 0.8
    assert [round(c["dev"], 4) for c in curve] == [round(80 / 145, 4), 0.8, round(150 / 175, 4)]
    rows = {r["model"].split()[0]: r for r in time_to_accuracy(tmp_path, "wos", 0.95)}
    assert rows["cls"]["epochs_to_target"] == 3 and rows["cls"]["seconds_to_target"] == 30
    assert rows["spp"]["epochs_to_target"] == 2 and rows["spp"]["seconds_to_target"] == 8
    loc = rows["local"]
    assert loc["epochs_by_level"] == {1: 3, 2: 2}  # all of level 1's epochs count
    assert loc["epochs_to_target"] == 5 and loc["seconds_to_target"] == 3 * 2 + 2 * 3
    assert loc["best_dev_mi_f1"] == round(100 * 150 / 175, 2)
    # a local record without the counts (trained before they were kept) gets no row
    for h in local["history"]:
        del h["dev_headline_tp"]
    assert dev_curve(local) is None


def test_rows_name_lrs_and_batch_sizes_other_than_the_recipes(tmp_path):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    base = _global("spp", 0, [0.5, 0.77])
    base["config"] = {
        "model": {"encoder_dropout": True},
        "data": {},
        "train": {"lr": 1e-2, "head_lr": 1e-3},
    }
    faster = _global("spp", 0, [0.77, 0.7])
    faster["config"] = {
        "model": {"encoder_dropout": True},
        "data": {},
        "train": {"lr": 2e-2, "head_lr": 1e-2},
    }
    small = _global("spp", 0, [0.6, 0.77])
    small["config"] = {"model": {"encoder_dropout": True}, "data": {}, "train": {"batch_size": 8}}
    quiet = _global("spp", 0, [0.6, 0.77])
    quiet["config"] = {"model": {"encoder_dropout": False}, "data": {}, "train": {}}
    _write(tmp_path, "spp", base)
    _write(tmp_path, "spp-lr", faster)
    _write(tmp_path, "spp-bs8", small)
    _write(tmp_path, "spp-nodrop", quiet)
    rows = {r["model"]: r for r in time_to_accuracy(tmp_path, "wos", 0.95)}
    assert set(rows) == {
        "cls None",
        "spp 10",
        "spp 10 lr 0.02 head lr 0.01",
        "spp 10 batch 8",
        "spp 10 [htclib-nodrop]",
    }
    assert rows["spp 10 lr 0.02 head lr 0.01"]["epochs_to_target"] == 1
    assert rows["spp 10"]["epochs_to_target"] == 2
    # lrs train at the same speed, a batch size does not: it is timed apart
    assert rows["spp 10"]["speed_key"] == rows["spp 10 lr 0.02 head lr 0.01"]["speed_key"]
    assert rows["spp 10"]["speed_key"] != rows["spp 10 batch 8"]["speed_key"]
    # the encoder's dropout masks cost time too
    assert rows["spp 10"]["speed_key"] != rows["spp 10 [htclib-nodrop]"]["speed_key"]


def test_cli_prints_epochs_to_target_from_records(tmp_path, capsys):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    _write(tmp_path, "spp", _global("spp", 0, [0.5, 0.6, 0.7]))  # never reaches 0.76
    assert main(["--results", str(tmp_path), str(tmp_path / "missing")]) == 0
    out = capsys.readouterr().out
    assert f"(records: {tmp_path})" in out
    assert "| cls None | 0 | 76.0 | 3 | 80.0 | 3 |" in out
    assert "| spp 10 | 0 | 76.0 | never | 70.0 | 3 |" in out


def test_a_time_to_accuracy_rerun_replaces_section_7_only(tmp_path):
    import pytest

    from benchmarks.run_all import GOALS_HEADING, TTA_HEADING, splice_tta

    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        f"# B\n\n## 6. Sizes\n\nkept\n\n{TTA_HEADING}\n\nold row\n\n{GOALS_HEADING}\n\nmine\n"
    )
    row = {
        "model": "spp 10", "seed": 0, "target_dev_mi_f1": 59.76, "epochs_to_target": 10,
        "epochs_by_level": {1: 10}, "epoch_seconds_quiet": 35.9,
        "epoch_seconds_quiet_range": [33.6, 38.2], "seconds_to_target_quiet": 359,
        "seconds_to_target": 1522, "best_dev_mi_f1": 60.62, "epochs_run": 16,
    }  # fmt: skip
    res = {
        "date": "2026-11-30",
        "seconds": 597.2,
        "time_to_accuracy": {"results": ["r"], "rows": [row]},
    }
    splice_tta(res, doc)
    out = doc.read_text()
    assert out.startswith("# B\n\n## 6. Sizes\n\nkept\n\n" + TTA_HEADING)
    assert "old row" not in out and out.endswith(f"{GOALS_HEADING}\n\nmine\n")
    assert "rerun on 2026-11-30 in 597 s" in out
    assert "| spp 10 | 0 | 59.76 | 10 | 35.9 (33.6-38.2) | **359** | 1522 | 60.62 | 16 |" in out
    # a section after 7 (a "7b" timing of a few rows) stays
    doc.write_text(f"{TTA_HEADING}\n\nold row\n\n## 7b. Few rows\n\nkept 7b\n\n{GOALS_HEADING}\n")
    splice_tta(res, doc)
    out = doc.read_text()
    assert "old row" not in out and "## 7b. Few rows\n\nkept 7b\n\n" + GOALS_HEADING in out
    doc.write_text("# B\n\nno sections\n")
    with pytest.raises(ValueError, match="BENCHMARKS.md"):
        splice_tta(res, doc)
    assert doc.read_text() == "# B\n\nno sections\n"  # untouched


def test_a_utilisation_rerun_replaces_section_5_only_and_says_how_it_timed(tmp_path):
    from benchmarks.run_all import GOALS_HEADING, TTA_HEADING, UTIL_HEADING, splice_utilisation

    doc = tmp_path / "BENCHMARKS.md"
    before = f"# B\n\n{UTIL_HEADING}\n\nold table\n\n## 6. Sizes\n\nkept\n\n{TTA_HEADING}\n\n7\n\n"
    doc.write_text(before + f"{GOALS_HEADING}\n\nmine\n")
    row = {
        "setup": "base", "threads": 2, "batch": 16, "step_gflop": 77.7, "step_seconds": 0.665,
        "ex_s": 24.06, "gflops": 116.8, "share_of_matmul_peak": 0.47,
        "share_rounds": [0.422, 0.682], "ex_s_over_base": 1.0,
    }  # fmt: skip
    u = {"rounds": 12, "rows": [row], "matmul_peak_gflops": {"2": 261.7},
         "theoretical_gflops": 294.4, "peak_note": "note"}  # fmt: skip
    res = {"date": "2026-12-07", "seconds": 514.0, "utilisation": u,
           "command": "python -m benchmarks.run_all --only utilisation --rounds 12"}  # fmt: skip
    splice_utilisation(res, doc)
    out = doc.read_text()
    assert "old table" not in out and out.startswith(f"# B\n\n{UTIL_HEADING}\n\n*This section")
    assert f"## 6. Sizes\n\nkept\n\n{TTA_HEADING}\n\n7\n\n{GOALS_HEADING}\n\nmine\n" in out
    assert "`python -m benchmarks.run_all --only utilisation --rounds 12`" in out
    assert "right before each step in each of 12 interleaved rounds" in out
    assert "| base | 2 | 16 | 77.7 | 0.665 | 24.06 | 116.8 | **0.47** | 0.422-0.682 | 1.0 |" in out
    del u["rounds"]  # a record from before the paired timing says it timed one matmul a round
    doc.write_text(before + GOALS_HEADING + "\n")
    splice_utilisation(res, doc)
    assert "the matmul timed in the same interleaved rounds" in doc.read_text()


def test_target_is_the_profiles_cls_run_not_an_ablations(tmp_path):
    profile, ablations = tmp_path / "cpu", tmp_path / "ablations"
    _write(profile, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))  # target 0.76
    _write(profile, "spp", _global("spp", 0, [0.5, 0.77]))
    better = _global("cls", 0, [0.7, 0.9])  # batch 8: its own row, not the yardstick
    better["config"]["train"] = {"batch_size": 8}
    _write(ablations, "cls-bs8", better)
    rows = {r["model"]: r for r in time_to_accuracy([profile, ablations], "wos", 0.95)}
    assert {r["target_dev_mi_f1"] for r in rows.values()} == {76.0}
    assert (
        rows["spp 10"]["epochs_to_target"] == 2
        and rows["cls None batch 8"]["epochs_to_target"] == 2
    )


def test_benchmark_header_names_the_isa_and_says_when_it_was_not_recorded():
    """One machine name has stood for AVX2-only and for AVX-512 + bf16 CPUs across sessions:
    the header says which one a run had, and that an older record did not keep it."""
    from benchmarks.common import machine
    from benchmarks.run_all import machine_line

    m = machine()
    assert m["isa"] in {"AVX-512", "AVX2", "other"} and isinstance(m["native_bf16"], bool)
    assert f"({m['isa']}, native bf16: {'yes' if m['native_bf16'] else 'no'})" in machine_line(m)
    old = {k: v for k, v in m.items() if k not in ("isa", "native_bf16")}
    assert "(ISA not recorded, native bf16: not recorded)" in machine_line(old)


def test_a_head_probe_counts_its_seconds_before_epoch_one(tmp_path):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    probed = _global("spp", 0, [0.5, 0.77], secs=4.0)
    probed["config"]["model"]["head_probe"] = 100.0
    probed["head_probe_seconds"] = 3.0
    _write(tmp_path, "spp", probed)
    (row,) = [r for r in time_to_accuracy(tmp_path, "wos", 0.95) if r["model"].startswith("spp")]
    assert row["model"] == "spp 10 probe head C 100"
    assert row["epochs_to_target"] == 2 and row["seconds_to_target"] == 3 + 2 * 4
    assert row["speed_key"].endswith("probe100")  # timed apart from the unprobed runs


def test_a_top_layers_prefix_is_its_own_row_and_speed(tmp_path):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    top = _global("spp", 0, [0.5, 0.77], secs=4.0)
    top["config"]["model"]["prefix"] = {"top_layers": 4}
    _write(tmp_path, "spp", top)
    (row,) = [r for r in time_to_accuracy(tmp_path, "wos", 0.95) if r["model"].startswith("spp")]
    assert row["model"] == "spp 10 top 4 layers" and row["speed_key"].endswith("top4")


def test_cli_keeps_the_named_models_and_names_an_unknown_one(tmp_path, capsys):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    _write(tmp_path, "spp", _global("spp", 0, [0.5, 0.77, 0.7]))
    assert main(["--results", str(tmp_path), "--model", "spp 10"]) == 0
    out = capsys.readouterr().out
    assert "| spp 10 | 0 |" in out and "| cls - |" not in out
    with pytest.raises(SystemExit):
        main(["--results", str(tmp_path), "--model", "spp 99"])
    assert "no row is labelled ['spp 99']" in capsys.readouterr().err


def test_contrastive_pretraining_counts_before_epoch_one_and_times_apart(tmp_path):
    _write(tmp_path, "cls", _global("cls", 0, [0.4, 0.6, 0.8]))
    plain = _global("spp", 0, [0.5, 0.77], secs=4.0)
    _write(tmp_path, "spp", plain)
    cl = _global("spp", 0, [0.5, 0.77], secs=4.0)
    cl["config"]["contrastive"] = {"epochs": 2, "batch_size": 64, "lr": 0.001}
    cl["contrastive_history"] = {"seconds": 30.0, "steps": 26}
    _write(tmp_path, "spp-cl", cl)
    rows = {r["model"]: r for r in time_to_accuracy(tmp_path, "wos", 0.95)}
    a, b = rows["spp 10"], rows["spp 10 (CL lr 0.001)"]
    assert a["seconds_to_target"] == 2 * 4 and b["seconds_to_target"] == 30 + 2 * 4
    assert a["speed_key"] != b["speed_key"] and b["speed_key"].endswith("cl2x64")


def test_a_local_runs_levels_pretraining_counts_before_its_first_score():
    hist = [
        {
            "level": lv,
            "epoch": e,
            "dev_headline": 0.0,
            "seconds": 5.0,
            "dev_headline_tp": 1,
            "dev_headline_fp": 0,
            "dev_headline_fn": 1,
        }
        for lv in (1, 2)
        for e in (1, 2)
    ]
    rec = {
        "method": "local",
        "history": hist,
        "levels": [
            {"level": 1, "best_epoch": 2, "contrastive": {"seconds": 7.0}},
            {"level": 2, "best_epoch": 2, "contrastive": {"seconds": 3.0}},
        ],
    }
    curve = dev_curve(rec)
    # both levels' pre-training, level 1's two epochs, then level 2's first epoch
    assert curve[0]["seconds"] == 7 + 3 + 2 * 5 + 5
