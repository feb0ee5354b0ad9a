"""Profiles turn into run configs; each CL run has a BCE-only twin with the same cache key."""

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from htclib.lab import profiles as P


def test_cl_twins_share_keys_with_the_bce_only_runs():
    p = P.get_profile("smoke")
    cl = P.cl_runs(p, "wos")
    spp_keys = {c.key() for c in P.spp_runs(p, "wos", [p.global_lengths[-1]])}
    local_keys = {c.key() for c in P.local_runs(p, "wos")}
    kinds = {c.model.method for c in cl}
    assert kinds == {"spp", "local"}  # smoke exercises the local CL option too
    for c in cl:
        t = P.twin(c)
        assert t.contrastive is None and "-cl-" not in t.name
        assert t.key() in (spp_keys if c.model.method == "spp" else local_keys)
    with pytest.raises(ValueError, match="no contrastive stage"):
        P.twin(P.twin(cl[0]))


def test_cpu_profile_choices():
    cpu = P.get_profile("cpu")
    cl = P.cl_runs(cpu, "wos")
    # 3 seeds at the collapse-free lr, and the paper's 1e-2 as its own labelled row
    assert sorted({(c.contrastive.lr, c.name.split("/")[1]) for c in cl}) == [
        (0.001, "spp-P30-cl-simcse"),
        (0.01, "spp-P30-cl-simcse-lr0.01"),
    ]
    # claim rows get the claim seeds (5): a test over training runs needs them
    assert len(cl) == 10 and {c.train.seed for c in cl} == {0, 1, 2, 3, 4}
    wos, am = P.plan(cpu, "03", "wos")[0], P.plan(cpu, "03", "amazon3")[0]
    assert not wos.train.bf16 and not am.train.bf16  # fp32: the same numbers on any CPU
    assert am.data.n_train is None and wos.train.patience >= 4 and wos.train.max_epochs >= 40
    # MiniLM's pooler is untrained: P-tuning v2's recipe classifies on [CLS] there
    recipes = [c for c in P.plan(cpu, "03", "wos") if c.model.recipe.startswith("ptv2")]
    assert len(recipes) == 5 and all(c.model.pooling == "cls" for c in recipes)
    assert {c.model.recipe for c in recipes} == {"ptv2-cls"}
    assert P.plan(cpu, "03", "amazon3") and not any(
        c.model.recipe.startswith("ptv2") for c in P.plan(cpu, "03", "amazon3")
    )


def test_claim_rows_get_the_claim_seeds_and_the_rest_keep_theirs():
    cpu = P.get_profile("cpu")
    seeds = {}
    for c in P.grid_plan("cpu")[1]:
        row, s = c.name.rsplit("/", 1)
        seeds.setdefault(row, set()).add(int(s[1:]))
    five, three = {0, 1, 2, 3, 4}, {0, 1, 2}
    for row in (
        "wos/cls",
        "wos/spp-P30",
        "wos/local-copy-10-30",
        "wos/local-non-10-20",
        "dbpedia/local-transform-10-20-30",
        "wos/peft-P30",
    ):
        assert seeds[row] == five, row
    # rows with extra seeds where the power estimate asks for more (Profile.extra_seeds)
    for row in cpu.extra_seeds:
        assert seeds[row] == five | {5, 6, 7}, row
    assert "amazon3/spp-P30-nodrop" in cpu.extra_seeds
    # rows no claim compares: the sweep, the other local lengths, the training-size curve
    for row in ("wos/spp-P10", "amazon3/spp-P20", "wos/local-non-10-30", "wos/cls-50pct"):
        assert seeds[row] == three, row
    assert cpu.claim_seeds == sorted(five)


def test_extra_seeds_add_runs_to_one_row_only_with_the_rows_config():
    from dataclasses import replace

    cpu = P.get_profile("cpu")
    more = replace(cpu, extra_seeds={"amazon3/spp-P30-cl-simcse": [5, 6], "wos/cls": [2, 7]})
    base = {c.name: c for nb in ("02", "03", "05") for c in P.plan(cpu, nb, "amazon3")}
    got = {c.name: c for nb in ("02", "03", "05") for c in P.plan(more, nb, "amazon3")}
    added = sorted(set(got) - set(base))
    assert added == ["amazon3/spp-P30-cl-simcse/s5", "amazon3/spp-P30-cl-simcse/s6"]
    s0, s5 = got["amazon3/spp-P30-cl-simcse/s0"], got["amazon3/spp-P30-cl-simcse/s5"]
    assert s5.train.seed == 5 and s5.key() != s0.key()
    assert replace(s5, name=s0.name, train=replace(s5.train, seed=0)).key() == s0.key()
    # a CL row's new seed brings its BCE-only twin, the comparison's other side, into the grid
    assert P.twin(s5).name == "amazon3/spp-P30/s5"
    # wos/cls already has seed 2: only 7 is new, and nothing else changes
    wos = [c.name for c in P.plan(more, "02", "wos")]
    assert wos == [c.name for c in P.plan(cpu, "02", "wos")] + ["wos/cls/s7"]


def test_training_size_curve_runs_get_the_whole_splits_steps_per_epoch():
    cpu = P.get_profile("cpu")
    curve = P.curve_runs(cpu, "wos")
    assert curve and {c.data.train_fraction for c in curve} == {0.1, 0.25, 0.5}
    for c in curve:
        assert c.train.epoch_repeats == round(1 / c.data.train_fraction)
    full = {c.name for c in P.cls_runs(cpu, "wos")}
    assert all(c.train.epoch_repeats == 1 for c in P.cls_runs(cpu, "wos")) and full


def test_keys_ignore_fields_at_their_default():
    from dataclasses import asdict

    from htclib.method.configs import prune_defaults, stable_key

    cfg = P.plan("cpu", "03", "wos")[0]
    d = cfg.to_dict()
    d.pop("name")
    # a config gaining a new field at its default keeps its key
    grown = {**d, "train": {**d["train"], "new_option": None}}
    defaults = {
        **type(cfg)().to_dict(),
        "train": {**asdict(cfg.train.__class__()), "new_option": None},
    }
    assert stable_key(grown, defaults) == stable_key(d, defaults)
    assert prune_defaults({"a": 1, "b": {"c": 2, "d": 3}}, {"a": 1, "b": {"c": 2}}) == {
        "b": {"d": 3}
    }
    other = P.plan("cpu", "03", "wos")[1]
    assert other.key() != cfg.key()


def test_unknown_profile_is_named():
    with pytest.raises(ValueError, match="unknown profile 'gpu'"):
        P.get_profile("gpu")


@contextlib.contextmanager
def _live_grid_worker():
    """The pid of a live process whose command line names htclib.lab.grid (what a claim respects)."""
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "htclib.lab.grid"]
    )
    try:
        for _ in range(100):  # until the child has exec'd (before, /proc shows our cmdline)
            if b"htclib.lab.grid" in Path(f"/proc/{other.pid}/cmdline").read_bytes():
                break
            time.sleep(0.05)
        yield other.pid
    finally:
        other.kill()
        other.wait()


def test_grid_workers_never_share_a_run(tmp_path):
    """A claim held by a live grid worker is respected; one left by a dead worker is taken
    over; this process may re-enter its own claim."""
    import os

    from htclib.io import CLAIM, claim, release

    run = tmp_path / "runs" / "abc"
    assert claim(run) and claim(run)  # ours, re-entrant
    release(run)
    assert not (run / CLAIM).exists()
    with _live_grid_worker() as pid:  # a live process whose command line names htclib.lab.grid
        (run / CLAIM).write_text(str(pid))
        assert not claim(run)
    assert claim(run)  # its worker died: taken over
    assert (run / CLAIM).read_text() == str(os.getpid())


def test_a_busy_shared_level_raises_instead_of_waiting_when_asked(tmp_path):
    """A grid worker does not sit idle while another trains the top level two local runs
    share: with ``wait=False`` the busy level raises LevelBusy (the grid queues the run for
    later); a finished level is reused and a free one is claimed either way."""
    from htclib.io import CLAIM, release
    from htclib.training.topdown import LevelBusy, _hold_level

    level = tmp_path / "levels" / "top"
    assert _hold_level(level, False, "L1", wait=False)  # free: ours to train
    release(level)
    with _live_grid_worker() as pid:
        (level / CLAIM).write_text(str(pid))
        with pytest.raises(LevelBusy, match="L1: another process is training this level"):
            _hold_level(level, False, "L1", wait=False)
        (level / "MANIFEST.json").write_text("{}")
        assert _hold_level(level, False, "L1", wait=False) is False  # finished: reuse it


def test_records_only_reads_finished_runs_and_names_the_missing(tmp_path, capsys):
    """``run_many(train=False)``: a fresh clone of a long profile draws from the records it
    has, trains nothing, and says which runs have no record yet."""
    from htclib.method.configs import DataConfig, ModelConfig
    from htclib.method.prefix import PrefixConfig
    from htclib.training import experiment
    from htclib.training.baselines import run_baseline
    from htclib.training.experiment import RunConfig
    from htclib.training.train import TrainConfig
    from tests.conftest import tiny_workspace

    work = tiny_workspace(tmp_path)
    data = DataConfig("toy", path=str(work / "data"))
    train = TrainConfig(max_epochs=1, batch_size=16, max_length=24)
    a, b = (
        RunConfig(
            f"toy/spp-P{p}/s0", data, ModelConfig("spp", str(work / "enc"), PrefixConfig(p)), train
        )
        for p in (3, 4)
    )
    out = tmp_path / "out"
    experiment.run(a, out, progress=False)
    recs = experiment.run_many([b, a, b, a], out, train=False)  # each run counted once
    assert [r["key"] for r in recs] == [a.key()]
    assert not (out / "runs" / b.key()).exists()  # nothing trained, nothing written
    assert "1 of 2 runs have no record yet (toy/spp-P4/s0)\n" in capsys.readouterr().out
    assert run_baseline("tfidf-lr", data, out, train=False) is None


def test_turning_the_encoders_dropout_on_renames_prefix_runs_only():
    """The default changed (2026-11-30): runs keyed before keep their keys (the committed
    records are found again), the prefix runs of the new default get new ones, and CLS-tuning,
    which ignores the switch, keeps its key."""
    from dataclasses import replace

    p = P.get_profile("cpu")
    cls = P.cls_runs(p, "wos")[0]
    spp = next(c for c in P.spp_runs(p, "wos", [30]) if c.train.seed == 0)
    assert (
        cls.key()
        == "d6167b088617"
        == replace(cls, model=replace(cls.model, encoder_dropout=False)).key()
    )  # the committed wos/cls/s0
    assert spp.model.encoder_dropout
    off = replace(spp, model=replace(spp.model, encoder_dropout=False))
    assert off.key() == "bec1ba623642"  # the committed wos/spp-P30/s0, trained with it off
    assert spp.key() != off.key()


def test_grid_match_trains_a_rows_seeds_only(capsys):
    from htclib.lab.grid import main

    assert main(["--profile", "cpu", "--dataset", "wos", "--match", "spp-P10/", "--dry-run"]) == 0
    runs = [ln.split()[0] for ln in capsys.readouterr().out.splitlines() if ln.startswith("wos/")]
    assert runs == ["wos/spp-P10/s0", "wos/spp-P10/s1", "wos/spp-P10/s2"]
    with pytest.raises(SystemExit):
        main(["--profile", "cpu", "--dataset", "wos", "--match", "no-such-run", "--dry-run"])


def test_grid_trains_other_runs_while_a_shared_level_is_busy(tmp_path, monkeypatch, capsys):
    """The grid queues a run whose shared level is busy behind the rest and then waits for it."""
    from htclib.lab import grid as G
    from htclib.training import experiment
    from htclib.training.topdown import LevelBusy

    class Cfg:
        def __init__(self, name):
            self.name = name

        def key(self):
            return self.name.replace("/", "-")

    calls = []

    def fake_run(cfg, results, force=False, progress=True, wait_for_levels=True):
        calls.append((cfg.name, wait_for_levels))
        if cfg.name == "copy" and not wait_for_levels:
            raise LevelBusy("copy L1: another process is training this level")
        return {"test": {"headline/micro_f1": 0.5, "headline/macro_f1": 0.25}}

    monkeypatch.setattr(G, "grid", lambda *a: ([], [Cfg("copy"), Cfg("spp"), Cfg("cls")]))
    monkeypatch.setattr(experiment, "run", fake_run)
    monkeypatch.setattr(G.subprocess, "run", lambda *a, **k: None)
    assert G.main(["--profile", "smoke", "--out", str(tmp_path)]) == 0
    assert calls == [("copy", False), ("spp", False), ("cls", False), ("copy", True)]
    assert "copy L1: another process is training this level; back to it later" in (
        capsys.readouterr().out
    )
    assert not list((tmp_path / "results").rglob(".grid-claim"))  # every claim released
