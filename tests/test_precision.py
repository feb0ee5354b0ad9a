"""The arithmetic a run trains in (htclib.training.precision): resolved per device, recorded,
fp16 with a gradient scaler only where it belongs (CUDA)."""

import pytest
import torch

from htclib.training import precision as P
from htclib.training.train import TrainConfig, make_accelerator, precision_of, predict_logits
from tests.test_train import toy_problem, train_once


@pytest.mark.parametrize(
    "mode, bf16, device, native, want",
    [
        (None, False, "cpu", False, "no"),  # the older switch, unchanged
        (None, True, "cpu", False, "bf16"),
        ("auto", False, "cuda", True, "bf16"),  # A100, H100
        ("auto", False, "cuda", False, "fp16"),  # V100, T4: fp16 with a gradient scaler
        ("auto", False, "cpu", True, "bf16"),  # AVX-512 BF16 / AMX
        ("auto", False, "cpu", False, "no"),  # AVX2 only: emulated bf16 would be ~18x slower
        ("bf16", False, "cpu", False, "bf16"),  # asked for explicitly: kept (and warned)
        ("fp16", False, "cuda", True, "fp16"),
        ("no", False, "cuda", True, "no"),
    ],
)
def test_resolve(mode, bf16, device, native, want):
    assert P.resolve(mode, bf16, device, native=native) == want


def test_bad_modes_fail_with_the_choices():
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        TrainConfig(mixed_precision="half")
    with pytest.raises(ValueError, match="is a CUDA mode"):
        P.resolve("fp16", False, "cpu")
    with pytest.raises(ValueError, match="contradicts"):
        P.resolve("no", True, "cuda")


def test_cpu_run_with_auto_trains_and_predicts_in_the_resolved_mode(toy_tok):
    cfg = TrainConfig(mixed_precision="auto", device="cpu")
    want = P.resolve("auto", False, "cpu")
    assert precision_of(cfg, "cpu") == want
    assert make_accelerator(cfg).mixed_precision == want
    _, auto = train_once(toy_tok, epochs=1, mixed_precision="auto", device="cpu")
    _, fp32 = train_once(toy_tok, epochs=1, device="cpu")
    loss = auto.history[0]["train_loss"]
    if want == "no":  # a CPU without native bf16: exactly the fp32 run
        assert loss == fp32.history[0]["train_loss"]
    else:  # native bf16 here: trained under bf16 autocast, other digits than fp32's
        assert (
            abs(loss - fp32.history[0]["train_loss"]) < 0.05
            and loss != fp32.history[0]["train_loss"]
        )


def test_to_device_on_cpu_is_a_plain_move():
    t = torch.arange(6).view(2, 3)
    assert P.to_device(t, torch.device("cpu")).equal(t)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mode", ["fp16", "bf16", "auto"])
def test_gpu_mixed_precision_trains(toy_tok, mode):
    if mode == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    cfg = TrainConfig(mixed_precision=mode)
    acc = make_accelerator(cfg)
    assert acc.device.type == "cuda" and acc.mixed_precision == precision_of(cfg, "cuda")
    assert (acc.scaler is not None) == (acc.mixed_precision == "fp16")
    model, res = train_once(toy_tok, epochs=2, mixed_precision=mode)
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in res.history)
    _, _, _, dv, _ = toy_problem(toy_tok)
    logits = predict_logits(model, dv, 0, 64, torch.device("cuda"), acc.mixed_precision)
    assert logits.dtype.name == "float32" and logits.shape[0] == len(dv)
