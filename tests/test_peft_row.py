"""The PEFT cross-check row (``method="peft"``): same head and trainer, PEFT's prefix engine."""

import pytest
import torch

from htclib.method import prefix as P
from htclib.method.models import GlobalSPP, ModelConfig, build_model
from htclib.method.prefix import PrefixConfig
from htclib.serve import cli
from tests.conftest import tiny_bert, tiny_workspace
from tests.test_prefix import H2

peft = pytest.importorskip("peft")


def _skip_new_transformers():
    import transformers

    if transformers.__version__ >= "5.24":
        pytest.skip("PEFT 0.21.2 prefix tuning does not run on transformers >= 5.24")


def test_peft_row_trains_prompt_and_head_and_equals_ours_with_the_same_prefix(batch):
    _skip_new_transformers()
    ids, mask = batch
    cfg = ModelConfig("peft", prefix=PrefixConfig(length=5))
    theirs = build_model(cfg, H2, tiny_bert(seed=3)).eval()
    trained = {n for n, p in theirs.named_parameters() if p.requires_grad}
    assert trained == {"peft.prompt_encoder.default.embedding.weight"} | {
        f"head.linear.{w}" for w in ("weight", "bias")
    }
    assert theirs.n_served() == 2 * 2 * 32 * 5 + theirs.head.linear.weight.numel() + len(H2.labels)
    # the same prefix and head in ours (text numbered from P, as PEFT does) gives the same logits
    ours = GlobalSPP(
        ModelConfig("spp", prefix=PrefixConfig(length=5, shift_positions=True)),
        H2,
        tiny_bert(seed=3),
    ).eval()
    ours.head.load_state_dict(theirs.head.state_dict())
    table = theirs.peft.prompt_encoder["default"].embedding.weight  # (P, L*2*hidden)
    layers, heads, dim = P.encoder_dims(ours.encoder)
    with torch.no_grad():
        ours.prefix.kv.copy_(table.view(5, layers, 2, heads, dim).permute(1, 2, 3, 0, 4))
    torch.testing.assert_close(ours(ids, mask), theirs(ids, mask), atol=1e-5, rtol=0)


def test_peft_row_through_the_cli(tmp_path, capsys):
    _skip_new_transformers()
    work = tiny_workspace(tmp_path)
    argv = ["train", "--data", str(work / "data"), "--out", str(work / "run"), "--method", "peft",
            "--encoder", str(work / "enc"), "--prefix-length", "4", "--epochs", "2",
            "--batch-size", "16", "--max-length", "24", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    meta = (work / "run" / "artifact" / "config.json").read_text()
    assert '"method": "peft"' in meta
    texts = tmp_path / "in.txt"
    texts.write_text("top0 top0 sub01 w3\n")
    assert cli.main(["predict", str(work / "run"), "--input", str(texts)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"paths"' in line
