"""Run keys: the committed records' folders are their configs' keys, every config field has a
frozen default, and a changed default never hashes like the finished runs of the old one."""

import json
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from htclib.method.configs import ContrastiveConfig, DataConfig, ModelConfig
from htclib.method.keydefaults import KEY_DEFAULTS
from htclib.method.prefix import PrefixConfig
from htclib.training.experiment import RunConfig
from htclib.training.train import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def _field_paths(cls, prefix=""):
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default
        if is_dataclass(default):
            yield from _field_paths(type(default), f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


@pytest.mark.parametrize(
    "section, cls",
    [("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig),
     ("contrastive", ContrastiveConfig)],
)  # fmt: skip
def test_every_config_field_has_a_frozen_default(section, cls):
    for path in _field_paths(cls):
        node = KEY_DEFAULTS[section]
        for part in path.split("."):
            assert part in node, (
                f"{section}.{path} is not in htclib/method/keydefaults.py: add it with the value every "
                "earlier run had (its default when it was introduced)"
            )
            node = node[part]


def test_committed_records_live_under_their_configs_key():
    folders = [d for r in ("cpu", "ablations") for d in (ROOT / "results" / r / "runs").glob("*")]
    checked = 0
    for d in folders:
        if (d / "config.json").exists():
            cfg = RunConfig(**json.loads((d / "config.json").read_text()))
            assert cfg.key() == d.name, f"{d}: config hashes to {cfg.key()}"
            checked += 1
    assert checked > 100


def test_a_changed_default_moves_the_key(monkeypatch):
    """Change TrainConfig's default patience (5 -> 7) in place, as an edit of the dataclass
    would: a config built with the new default must not hash like the runs of the old one."""
    old_key = RunConfig(name="a").key()
    names = [f.name for f in fields(TrainConfig)]
    defaults = list(TrainConfig.__init__.__defaults__)
    defaults[names.index("patience") - (len(names) - len(defaults))] = 7
    monkeypatch.setattr(TrainConfig.__init__, "__defaults__", tuple(defaults))
    assert TrainConfig().patience == 7
    assert RunConfig(name="a").key() != old_key
    # the default that changed for real (encoder_dropout, 2026-11-30) keys both values apart
    on = RunConfig(model=ModelConfig(encoder_dropout=True))
    off = RunConfig(model=ModelConfig(encoder_dropout=False))
    assert on.key() != off.key()
    assert KEY_DEFAULTS["model"]["encoder_dropout"] is False and ModelConfig().encoder_dropout


def test_a_new_field_at_its_frozen_default_keeps_the_key():
    cfg = RunConfig(model=ModelConfig("spp", prefix=PrefixConfig(length=30)))
    d = cfg.to_dict()
    del d["model"]["dropout_masks"], d["train"]["epoch_repeats"]  # as records before them
    assert RunConfig(**d).key() == cfg.key()
