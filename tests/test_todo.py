"""The grid's --todo listing: what is left to train, its state and an estimate."""

import json
import os
from types import SimpleNamespace

from htclib.lab.todo import format_todo, todo


def _cfg(name, key):
    return SimpleNamespace(name=name, key=lambda: key)


def test_todo_lists_unfinished_runs_with_state_and_their_rows_median_time(tmp_path):
    runs = tmp_path / "runs"
    for key, secs in (("k0", 100.0), ("k1", 300.0), ("k2", 200.0)):
        (runs / key).mkdir(parents=True)
        (runs / key / "result.json").write_text(json.dumps({"train_seconds": secs}))
    (runs / "k3" / "checkpoint").mkdir(parents=True)  # a stopped run: resumes
    (runs / "k4").mkdir()
    (runs / "k4" / ".grid-claim").write_text(str(os.getpid()))  # a live worker holds it
    plan = [
        _cfg("wos/spp-P30/s0", "k0"),
        _cfg("wos/spp-P30/s1", "k1"),
        _cfg("wos/spp-P30/s2", "k2"),
        _cfg("wos/spp-P30/s3", "k3"),
        _cfg("wos/spp-P30/s4", "k4"),
        _cfg("wos/lora-r8/s0", "k5"),  # a row with no finished seed
    ]
    items = todo(plan, runs)
    assert [(t.name, t.state, t.estimate_s) for t in items] == [
        ("wos/spp-P30/s3", "checkpoint", 200.0),
        ("wos/spp-P30/s4", "running", 200.0),
        ("wos/lora-r8/s0", "new", None),
    ]
    text = format_todo(items)
    assert "~3 min" in text and "no estimate" in text
    assert "3 runs to train; ~0.1 h of one worker" in text and "1 runs of rows with none" in text


def test_todo_says_when_nothing_is_left(tmp_path):
    (tmp_path / "k0").mkdir()
    (tmp_path / "k0" / "result.json").write_text(json.dumps({"train_seconds": 5}))
    assert todo([_cfg("a/s0", "k0")], tmp_path) == []
    assert format_todo([]).startswith("nothing to train")
