import pytest
import torch

from htclib.data.hierarchy import Hierarchy
from htclib.method import prefix as P
from htclib.method.models import GlobalSPP, ModelConfig
from tests.conftest import tiny_bert

H2 = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "z")])


def test_cache_keyword_detection():
    class New(torch.nn.Module):
        def forward(self, input_ids=None, cache=None): ...

    class Old(torch.nn.Module):
        def forward(self, input_ids=None, past_key_values=None): ...

    class Neither(torch.nn.Module):
        def forward(self, input_ids=None): ...

    assert P.cache_keyword(New()) == "cache"
    assert P.cache_keyword(Old()) == "past_key_values"
    with pytest.raises(TypeError):
        P.cache_keyword(Neither())


def test_masked_prefix_reproduces_plain_encoder(bert, batch):
    ids, mask = batch
    plain = P.encode(bert, ids, mask)
    pre = P.PrefixEncoder(P.PrefixConfig(length=5), bert)
    kv = P.expand_prefix(pre(), 3)
    with_prefix = P.encode(bert, ids, mask, kv)
    masked = P.encode(bert, ids, mask, kv, prefix_mask=torch.zeros(3, 5, dtype=torch.long))
    assert not torch.allclose(plain, with_prefix, atol=1e-4)
    torch.testing.assert_close(plain, masked, atol=1e-5, rtol=0)


def test_padding_tokens_do_not_matter(bert, batch):
    ids, mask = batch
    pre = P.PrefixEncoder(P.PrefixConfig(length=4), bert)
    kv = P.expand_prefix(pre(), 3)
    a = P.encode(bert, ids, mask, kv)
    ids2 = ids.clone()
    ids2[1, 6:] = 42
    b = P.encode(bert, ids2, mask, kv)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_positions_are_not_shifted(bert, batch):
    # With a prefix whose keys make it unattended (huge negative logits are impossible to set
    # via keys alone, so mask it) the text must see positions 0..T-1 exactly as without it.
    ids, mask = batch
    pre = P.PrefixEncoder(P.PrefixConfig(length=7), bert)
    kv = P.expand_prefix(pre(), 3)
    masked = P.encode(bert, ids, mask, kv, prefix_mask=torch.zeros(3, 7, dtype=torch.long))
    shifted = bert(
        input_ids=ids, attention_mask=mask, position_ids=torch.arange(7, 16).expand(3, -1)
    ).last_hidden_state[:, 0]
    plain = bert(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
    torch.testing.assert_close(masked, plain, atol=1e-5, rtol=0)
    assert not torch.allclose(masked, shifted, atol=1e-4)


def test_only_prefix_and_head_change_after_a_step(bert, batch):
    ids, mask = batch
    model = GlobalSPP(ModelConfig(method="spp", prefix=P.PrefixConfig(length=3)), H2, bert)
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    p0, h0 = model.prefix.kv.clone(), model.head.linear.weight.clone()
    opt = torch.optim.AdamW(model.body_parameters() + model.head_parameters(), lr=1e-2)
    model.train()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        model(ids, mask), torch.ones(3, H2.n_labels)
    )
    loss.backward()
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in model.encoder.state_dict().items())
    assert not torch.equal(p0, model.prefix.kv) and not torch.equal(h0, model.head.linear.weight)
    assert all(not p.requires_grad for p in model.encoder.parameters())
    assert model.encoder.training  # htclib's recipe: the frozen encoder's dropout on
    quiet = GlobalSPP(ModelConfig(prefix=P.PrefixConfig(length=3), encoder_dropout=False), H2, bert)
    assert not quiet.train().encoder.training  # off: the frozen encoder stays in eval mode


def test_projection_prefix_shape_and_grad(bert, batch):
    ids, mask = batch
    pre = P.PrefixEncoder(P.PrefixConfig(length=6, projection=True, projection_hidden=16), bert)
    kv = pre()
    assert kv.shape == (2, 2, 4, 6, 8)
    out = P.encode(bert, ids, mask, P.expand_prefix(kv, 3))
    (out @ torch.randn(32)).sum().backward()
    assert pre.mlp[0].weight.grad.abs().sum() > 0
    assert pre.materialise().shape == kv.shape


@pytest.mark.parametrize("length", [0, -3, 10_000, 2.5])
def test_bad_prefix_length(bert, length):
    with pytest.raises(ValueError, match="prefix length must be an integer"):
        P.PrefixEncoder(P.PrefixConfig(length=length), bert)


def test_mixed_prefix_batch_equals_separate_runs(bert, batch):
    ids, mask = batch
    a = P.PrefixEncoder(P.PrefixConfig(length=3), bert)()
    b = P.PrefixEncoder(P.PrefixConfig(length=6), bert)()
    stacked, pmask = P.stack_prefixes([a, b])
    rows = torch.tensor([0, 1, 0])
    kv = stacked[rows].permute(1, 2, 0, 3, 4, 5)  # (L, 2, B, H, P, D)
    mixed = P.encode(bert, ids, mask, kv, prefix_mask=pmask[rows])
    sep_a = P.encode(bert, ids, mask, P.expand_prefix(a, 3))
    sep_b = P.encode(bert, ids, mask, P.expand_prefix(b, 3))
    torch.testing.assert_close(mixed[[0, 2]], sep_a[[0, 2]], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[1], sep_b[1], atol=1e-5, rtol=0)


def test_matches_peft_prefix_tuning(batch):
    peft = pytest.importorskip("peft")
    import transformers

    if transformers.__version__ >= "5.24":
        pytest.skip("PEFT 0.21.2 prefix tuning does not run on transformers >= 5.24")
    ids, mask = batch
    bert = tiny_bert(seed=3)
    ours = P.PrefixEncoder(P.PrefixConfig(length=5), bert)
    cfg = peft.PrefixTuningConfig(task_type=peft.TaskType.FEATURE_EXTRACTION, num_virtual_tokens=5)
    pm = peft.get_peft_model(tiny_bert(seed=3), cfg).eval()
    kv = ours()
    # PEFT's table is (P, L*2*hidden) laid out as (P, L, 2, H, D); ours is (L, 2, H, P, D).
    with torch.no_grad():
        pm.prompt_encoder["default"].embedding.weight.copy_(
            kv.permute(3, 0, 1, 2, 4).reshape(5, -1)
        )
    theirs = pm(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
    # PEFT numbers the text from P (transformers' default with a cache); ours does so on request.
    mine = P.encode(bert, ids, mask, P.expand_prefix(kv, 3), shift_positions=True)
    torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=0)
    unshifted = P.encode(bert, ids, mask, P.expand_prefix(kv, 3))
    assert not torch.allclose(unshifted, theirs, atol=1e-3)


@pytest.mark.parametrize("pooling", ["cls", "pooler"])
@pytest.mark.parametrize("with_prefix", [True, False])
@pytest.mark.parametrize("attention", ["sdpa", "eager"])  # boolean and additive masks
def test_cls_only_last_layer_is_exact(pooling, with_prefix, attention):
    """The last layer computed for [CLS] alone (keys and values folded into the query) gives
    the full computation's [CLS] state and prefix gradients (padding in the batch, pooler or
    not, with or without a prefix, either attention implementation's mask)."""
    bert = tiny_bert(seed=0, init=0.2, pooler=True).eval()
    bert.set_attn_implementation(attention)
    layers, heads, dim = P.encoder_dims(bert)
    kv = torch.randn(layers, 2, heads, 5, dim, requires_grad=True)
    ids = torch.randint(5, 90, (3, 12), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    outs = []
    # CLS-tuning trains these: their gradients must not change either
    last = bert.encoder.layer[-1].attention.self
    weights = [
        bert.encoder.layer[-1].intermediate.dense.weight,
        bert.encoder.layer[0].attention.self.query.weight,
        last.query.weight,
        last.key.weight,
        last.key.bias,
        last.value.weight,
        last.value.bias,
    ]
    for enabled in (False, True):
        kv.grad = None
        bert.zero_grad(set_to_none=True)
        with P.cls_only_last_layer(bert, enabled):  # disabled: the inner call is a no-op
            h = P.encode(
                bert, ids, mask, P.expand_prefix(kv, 3) if with_prefix else None, pooling=pooling
            )
        h.sin().sum().backward()
        outs.append(
            (
                h.detach(),
                None if kv.grad is None else kv.grad.clone(),
                [w.grad.clone() for w in weights],
            )
        )
    torch.testing.assert_close(outs[1][0], outs[0][0], atol=1e-5, rtol=0)
    if with_prefix:
        torch.testing.assert_close(outs[1][1], outs[0][1], atol=1e-5, rtol=0)
    for a, b in zip(outs[1][2], outs[0][2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    with P.cls_only_last_layer(bert):
        out = bert(input_ids=ids, attention_mask=mask)
    assert out.last_hidden_state.shape == (3, 1, bert.config.hidden_size)
    assert "forward" not in vars(bert.encoder.layer[-1])  # restored


def test_token_key_values_are_the_encoders_own_and_cycle(bert):
    ids = torch.tensor([[1, 11, 12, 13, 2]])  # [CLS] three words [SEP]
    kv = P.token_key_values(bert, ids, 5)
    layers, heads, dim = P.encoder_dims(bert)
    assert kv.shape == (layers, 2, heads, 5, dim)
    with torch.no_grad():
        bert.eval()
        emb = bert.embeddings(input_ids=ids)
        k0 = bert.encoder.layer[0].attention.self.key(emb)[0].view(5, heads, dim)
    words = [1, 2, 3, 1, 2]  # the three words, cycled; never [CLS]/[SEP]
    torch.testing.assert_close(kv[0, 0], k0[words].transpose(0, 1))
    enc = P.PrefixEncoder(P.PrefixConfig(length=5, init="tokens"), bert)
    enc.init_from_tokens(bert, ids)
    torch.testing.assert_close(enc(), kv)
    with pytest.raises(ValueError, match="random' or 'tokens"):
        P.PrefixConfig(init="words")


def test_token_init_run_starts_from_the_label_names(tmp_path, monkeypatch):
    """A run with ``init="tokens"`` starts its prefix from the encoder's key/values of the
    label names (captured at the first training step) and trains to a record."""
    from htclib.method.configs import DataConfig
    from htclib.training import experiment
    from htclib.training import train as T
    from htclib.training.experiment import RunConfig
    from htclib.training.train import TrainConfig
    from tests.conftest import tiny_workspace

    work = tiny_workspace(tmp_path)
    cfg = RunConfig(
        "toy/tokinit",
        DataConfig("toy", path=str(work / "data")),
        ModelConfig("spp", str(work / "enc"), P.PrefixConfig(length=4, init="tokens")),
        TrainConfig(max_epochs=1, batch_size=16, max_length=24),
    )
    seen = {}
    real_fit = T.fit

    def fit(model, *a, **k):
        seen["start"] = model.prefix.kv.detach().clone()
        return real_fit(model, *a, **k)

    monkeypatch.setattr(T, "fit", fit)
    rec = experiment.run(cfg, tmp_path / "out", progress=False)
    tok, enc = experiment.get_encoder(str(work / "enc"))
    ds = experiment.get_data(cfg.data)
    want = P.token_key_values(enc, experiment.label_name_ids(ds.hierarchy, tok, cfg.model), 4)
    torch.testing.assert_close(seen["start"], want)
    assert rec["config"]["model"]["prefix"]["init"] == "tokens"
    # every record carries its provenance: the code, the packages, the machine
    prov = rec["provenance"]
    assert len(prov["commit"]) == 40 and isinstance(prov["dirty"], bool)
    assert prov["packages"]["torch"].startswith("2.") and "transformers" in prov["packages"]
    assert prov["machine"]["torch_threads"] >= 1 and prov["machine"]["isa"]
    assert prov["started_utc"] <= prov["finished_utc"] and len(prov["source_hash"]) == 12


def test_shared_and_per_row_prefix_give_the_same_outputs_and_gradients(bert, batch):
    # A shared (L, 2, H, P, D) prefix is expanded per layer inside build_cache; a per-row
    # (L, 2, B, H, P, D) one is unbound. Both must equal the reference of one explicit copy
    # per row (cloned, so nothing is shared), outputs and prefix gradients alike.
    ids, mask = batch
    kv = P.PrefixEncoder(P.PrefixConfig(length=4), bert).kv
    grads, outs = [], []
    for make in (
        lambda t: t,
        lambda t: P.expand_prefix(t, 3),
        lambda t: torch.stack([t.clone() for _ in range(3)], dim=2),
    ):
        kv.grad = None
        out = P.encode(bert, ids, mask, make(kv))
        out.pow(2).sum().backward()
        outs.append(out.detach())
        grads.append(kv.grad.clone())
    for o, g in zip(outs[1:], grads[1:], strict=True):
        torch.testing.assert_close(o, outs[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(g, grads[0], atol=1e-6, rtol=1e-6)
    assert grads[0].abs().sum() > 0
    with pytest.raises(ValueError, match="batch size"):
        P.build_cache(kv)
    with pytest.raises(ValueError, match=r"\(L, 2, \[B,\] H, P, D\)"):
        P.encode(bert, ids, mask, kv[0])


def test_cls_mask_row_reads_every_mask_kind():
    # [CLS]'s row of the mask, whichever form the encoder passes: 4-D boolean (SDPA), 4-D
    # additive (eager), 2-D padding (flash-attention paths), or None.
    scores = torch.zeros(2, 3, 4)
    keep = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    want = torch.zeros(2, 3, 4).masked_fill(~keep.bool()[:, None], float("-inf"))
    rows = keep.bool()[:, None, None, :].expand(2, 1, 4, 4)
    additive = torch.zeros(2, 1, 4, 4).masked_fill(~rows, torch.finfo(torch.float32).min)
    assert torch.equal(P._mask_row(rows, scores), want)
    assert torch.equal(P._mask_row(keep, scores), want)
    assert torch.equal(P._mask_row(None, scores), scores)
    got = P._mask_row(additive, scores)
    assert torch.equal(got.softmax(-1), want.softmax(-1))
