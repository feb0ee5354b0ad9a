"""The GPU-hours estimate counts FLOPs on the meta device: cheap, and ordered as it must be."""

from benchmarks import gpu_hours as G


def test_prefix_steps_cost_less_than_fine_tuning_and_scale_with_the_batch():
    full, frozen = G.step_flops(False, batch=2), G.step_flops(True, prefix=4, batch=2)
    assert 0.5 * full < frozen < full  # no weight gradients, the input gradients remain
    assert G.step_flops(False, batch=4) == 2 * full  # linear in the batch
    infer = G.step_flops(False, batch=2, train=False)
    assert 2.5 < full / infer < 3.5  # training ~ 3x a forward pass


def test_hours_grow_with_epochs_and_fall_with_utilisation():
    a = G.hours("wos", "CLS-tuning", 1e12, 1e11, 1, 15, 0.4)
    assert G.hours("wos", "CLS-tuning", 1e12, 1e11, 1, 40, 0.4) > a
    assert G.hours("wos", "CLS-tuning", 1e12, 1e11, 1, 15, 1.0) < a
    # CL -> BCE adds its contrastive stage; CLS-tuning (a name with "CL" in it) does not
    assert G.hours("wos", "global SPP, CL -> BCE", 1e12, 1e11, 1, 15, 0.4) > a
