"""benchmarks.ablation_train: the cpu profile's run with one training setting changed."""

import pytest

from benchmarks.ablation_train import config
from htclib.lab import profiles


def test_one_setting_changes_and_the_rest_is_the_profiles():
    p = profiles.get_profile("cpu")
    base = next(c for c in profiles.spp_runs(p, "wos", [10]) if c.train.seed == 1)
    c = config(batch_size=8, seed=1)
    assert c.name == "wos/spp-P10-bs8/s1" and c.train.batch_size == 8
    assert c.model == base.model and c.data == base.data
    assert c.train.lr == base.train.lr and c.train.head_lr == base.train.head_lr
    assert c.key() != base.key()  # its own record, never the profile's
    h = config(head_lr=3e-3, lr=2e-2)
    assert h.name == "wos/spp-P10-lr0.02-headlr0.003/s0" and h.train.batch_size == 16
    cls = config(batch_size=8, method="cls")
    assert cls.model.method == "cls" and cls.name == "wos/cls-bs8/s0"
    assert cls.train.lr == p.cls_lr
    d = config(no_encoder_dropout=True, length=30)
    assert d.name == "wos/spp-P30-nodrop/s0" and not d.model.encoder_dropout
    base30 = next(c for c in profiles.spp_runs(p, "wos", [30]) if c.train.seed == 0)
    assert d.train == base30.train and d.model.prefix == base30.model.prefix


def test_bad_requests_say_what_is_wrong():
    with pytest.raises(ValueError, match="--batch-size"):
        config()
    with pytest.raises(ValueError, match="method must be"):
        config(batch_size=8, method="peft")
    with pytest.raises(ValueError, match="prefix model's switch"):
        config(no_encoder_dropout=True, method="cls")


def test_head_probe_is_a_model_setting_with_its_own_record():
    p = profiles.get_profile("cpu")
    base = next(c for c in profiles.spp_runs(p, "wos", [10]) if c.train.seed == 0)
    c = config(head_probe=100.0, batch_size=8)
    assert c.name == "wos/spp-P10-bs8-probe100/s0" and c.model.head_probe == 100.0
    assert c.model.prefix == base.model.prefix and c.key() != config(batch_size=8).key()
    assert config(head_probe=10.0, method="cls").name == "wos/cls-probe10/s0"


def test_max_epochs_shortens_the_schedule_in_its_own_record():
    c = config(batch_size=8, max_epochs=12, method="cls", seed=1)
    assert c.name == "wos/cls-bs8-ep12/s1" and c.train.max_epochs == 12
    assert c.key() != config(batch_size=8, method="cls", seed=1).key()
    assert config(max_epochs=12).train.batch_size == 16  # alone, it changes only the cap
    with pytest.raises(ValueError, match="--max-epochs must be >= 1"):
        config(max_epochs=0)


def test_projection_is_a_prefix_setting_with_its_own_record_and_row():
    from htclib.lab.claims import Row
    from htclib.lab.results import recipe_label

    c = config(projection=True, batch_size=8)
    assert c.name == "wos/spp-P10-bs8-proj/s0" and c.model.prefix.projection
    assert c.key() != config(batch_size=8).key()
    with pytest.raises(ValueError, match="CLS-tuning has no prefix"):
        config(projection=True, method="cls")
    rec = {"method": "spp", "prefix_length": 10, "dataset": "wos", "config": c.to_dict()}
    plain = {**rec, "config": config(batch_size=8).to_dict()}
    assert recipe_label(rec) == "htclib+proj" and recipe_label(plain) == "htclib"
    assert Row("spp", prefix="10", projection=True).matches(rec)
    assert not Row("spp", prefix="10").matches(rec) and Row("spp", prefix="10").matches(plain)


def test_top_layers_is_a_prefix_setting_with_its_own_record_and_row():
    from htclib.lab.claims import Row
    from htclib.lab.results import recipe_label

    c = config(top_layers=4, length=30)
    assert c.name == "wos/spp-P30-top4/s0" and c.model.prefix.top_layers == 4
    with pytest.raises(ValueError, match="CLS-tuning has no prefix"):
        config(top_layers=4, method="cls")
    rec = {"method": "spp", "prefix_length": 30, "dataset": "wos", "config": c.to_dict()}
    plain = {**rec, "config": config(lr=0.01, length=30).to_dict()}
    assert recipe_label(rec) == "htclib+top4" and recipe_label(plain) == "htclib"
    assert Row("spp", prefix="30", top_layers=4).matches(rec)
    assert not Row("spp", prefix="30").matches(rec) and Row("spp", prefix="30").matches(plain)
    assert Row("spp", prefix="30", top_layers=4).label() == "spp 30 top 4 layers"
