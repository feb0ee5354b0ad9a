import pytest
import torch

from htclib.data.hierarchy import Hierarchy
from htclib.io import CorruptFileError
from htclib.method.models import CLSTuning, GlobalSPP, ModelConfig
from htclib.method.prefix import PrefixConfig
from htclib.training.artifacts import (
    ArtifactMismatchError,
    artifact_bytes,
    load_artifact,
    save_artifact,
)
from tests.conftest import tiny_bert

H = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "z")])


def spp(seed=0):
    torch.manual_seed(seed)
    return GlobalSPP(
        ModelConfig(method="spp", prefix=PrefixConfig(length=3)), H, tiny_bert(seed=0)
    ).eval()


def test_roundtrip_identical_logits(tmp_path, batch):
    model = spp()
    save_artifact(model, tmp_path / "art")
    back = load_artifact(tmp_path / "art", encoder=tiny_bert(seed=0), hierarchy=H)
    ids, mask = batch
    with torch.no_grad():
        torch.testing.assert_close(model(ids, mask), back(ids, mask), atol=0, rtol=0)


def test_wrong_encoder_or_labels_refused(tmp_path):
    save_artifact(spp(), tmp_path / "art")
    with pytest.raises(ArtifactMismatchError, match="different encoder"):
        load_artifact(tmp_path / "art", encoder=tiny_bert(seed=1))
    other = Hierarchy.from_paths([("a", "x"), ("c", "q")])
    with pytest.raises(ArtifactMismatchError, match="label set"):
        load_artifact(tmp_path / "art", encoder=tiny_bert(seed=0), hierarchy=other)


def test_corrupt_artifact_detected(tmp_path):
    save_artifact(spp(), tmp_path / "art")
    w = tmp_path / "art" / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:-10])
    with pytest.raises(CorruptFileError, match="truncated"):
        load_artifact(tmp_path / "art", encoder=tiny_bert(seed=0))
    with pytest.raises(FileNotFoundError, match="not an htclib artifact"):
        load_artifact(tmp_path / "nothing")


def test_prefix_artifact_much_smaller_than_full_model(tmp_path):
    save_artifact(spp(), tmp_path / "spp")
    full = CLSTuning(ModelConfig(method="cls"), H, tiny_bert(seed=0))
    save_artifact(full, tmp_path / "cls")
    assert artifact_bytes(tmp_path / "spp") * 5 < artifact_bytes(tmp_path / "cls")


def test_unwritable_folder_is_refused_cleanly(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(PermissionError, match="not writable"):
            save_artifact(spp(), ro)
    finally:
        ro.chmod(0o700)


def test_a_top_layers_prefix_roundtrips_and_stays_out_of_the_mixed_server(tmp_path, batch):
    from htclib.serve.predict import PrefixServer

    torch.manual_seed(0)
    cfg = ModelConfig(method="spp", prefix=PrefixConfig(length=3, top_layers=1))
    model = GlobalSPP(cfg, H, tiny_bert(seed=0)).eval()
    art = save_artifact(model, tmp_path / "art")
    back = load_artifact(art, encoder=tiny_bert(seed=0), hierarchy=H)
    assert back.prefix.kv.shape[0] == 1
    ids, mask = batch
    with torch.no_grad():
        torch.testing.assert_close(model(ids, mask), back(ids, mask), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="top layers only"):
        PrefixServer({"t": art})
