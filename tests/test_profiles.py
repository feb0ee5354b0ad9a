"""Profiles turn into run configs; each CL run has a BCE-only twin with the same cache key."""

import pytest

from htclib import profiles as P


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
    assert [c.contrastive.denominator for c in P.cl_runs(cpu, "wos")] == ["simcse", "paper"]
    assert [c.contrastive.denominator for c in P.cl_runs(cpu, "amazon3")] == ["simcse"]
    wos, am = P.plan(cpu, "03", "wos")[0], P.plan(cpu, "03", "amazon3")[0]
    assert wos.train.bf16 and not am.train.bf16  # bf16 only for the 128-token data
    assert am.data.n_train == 1600 and am.data.n_test is None


def test_unknown_profile_is_named():
    with pytest.raises(ValueError, match="unknown profile 'gpu'"):
        P.get_profile("gpu")
