"""Deep prefix (P-tuning v2 "soft prefix prompts") on a frozen BERT-family encoder.

Every layer gets P trainable key and value vectors per attention head. They enter the
encoder as a ``transformers.DynamicCache`` built fresh on every forward (the forward pass
mutates the cache), the attention mask is extended by P ones in front, and position ids are
passed explicitly as ``0..T-1`` so the text keeps its pretrained positions (BERT would
otherwise shift them by the cache length; P-tuning v2 on old transformers did shift them).

Shapes: L layers, H heads, P prefix length, D head size, B batch, T tokens.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import types
from dataclasses import dataclass

import torch
from torch import nn
from transformers import DynamicCache


@dataclass
class PrefixConfig:
    """How a prefix is parameterised.

    length: P, prefix positions per layer (the paper grid-searches 5..40).
    projection: P-tuning v2's ``prefix_projection``: an embedding (P, hidden) passed through a
        2-layer MLP (hidden -> projection_hidden -> L*2*hidden). More parameters during
        training, same prefix size at inference. Off by default: in the pilot it did not learn
        at lr 5e-3 where the direct prefix did (NOTES.md).
    projection_hidden: width of that MLP.
    dropout: dropout on the prefix key/values during training.
    init_std: std of the normal initialisation of direct prefix key/values.
    shift_positions: False keeps the text at positions 0..T-1, as pretrained; True numbers it
        from P like transformers does by default with a cache (P-tuning v2 and PEFT behave
        this way; set it to reproduce them exactly).
    init: ``"random"`` (normal, ``init_std``) or ``"tokens"``: the frozen encoder's own keys and
        values of real tokens, layer by layer (Li & Liang's prefix-tuning initialisation from
        real words' activations; :func:`token_key_values`). Which text: the trainer passes the
        label names, top level first (:mod:`htclib.training.experiment`).
    top_layers: the prefix in the top N layers only (None: every layer, the paper's deep
        prefix; P-tuning v2's "prompt depth" ablation found the top layers carry most of it).
        The layers below see no prefix and are frozen, so their output for a text never
        changes: it is computed once (eval mode, no dropout) and cached
        (:class:`LowerStates`), and an epoch runs only the top N layers, forward and backward.
        Global SPP only.

    Defaults are the ``htclib`` recipe; :mod:`htclib.method.recipes` sets the P-tuning v2 values.
    """

    length: int = 20
    projection: bool = False
    projection_hidden: int = 512
    dropout: float = 0.0
    init_std: float = 0.5
    shift_positions: bool = False
    init: str = "random"
    top_layers: int | None = None

    def __post_init__(self):
        if self.top_layers is not None and not (
            isinstance(self.top_layers, int) and self.top_layers >= 1
        ):
            raise ValueError(f"top_layers must be an int >= 1 or None, got {self.top_layers!r}")
        if self.top_layers is not None and self.shift_positions:
            raise ValueError(
                "top_layers caches the layers below with the text at positions 0..T-1:"
                " not with shift_positions"
            )
        if self.init not in ("random", "tokens"):
            raise ValueError(f"prefix init must be 'random' or 'tokens', got {self.init!r}")
        if self.init == "tokens" and self.projection:
            raise ValueError("prefix init 'tokens' sets the key/values directly: no projection")


def encoder_dims(encoder: nn.Module) -> tuple[int, int, int]:
    """(layers, heads, head size) of a BERT-family encoder."""
    cfg = encoder.config
    heads = cfg.num_attention_heads
    return cfg.num_hidden_layers, heads, cfg.hidden_size // heads


def cache_keyword(encoder: nn.Module) -> str:
    """The forward keyword that takes a cache: ``cache`` (transformers >= 5.24) or
    ``past_key_values`` (<= 5.23; there ``cache=`` is silently ignored)."""
    return _keyword_of(type(encoder))


@functools.cache
def _keyword_of(cls: type) -> str:
    # Once per class rather than inspecting the signature on every forward.
    params = inspect.signature(cls.forward).parameters
    if "cache" in params:
        return "cache"
    if "past_key_values" in params:
        return "past_key_values"
    raise TypeError(f"{cls.__name__}.forward takes neither 'cache' nor 'past_key_values'")


def check_prefix_length(length: int, encoder: nn.Module) -> None:
    limit = getattr(encoder.config, "max_position_embeddings", 512)
    if not isinstance(length, int) or isinstance(length, bool) or length < 1 or length > limit:
        raise ValueError(
            f"prefix length must be an integer in 1..{limit} for this encoder, got {length!r}"
        )


def first_prefix_layer(cfg: PrefixConfig, encoder: nn.Module) -> int:
    """Index of the lowest layer with a prefix (0 unless ``cfg.top_layers`` is set)."""
    n_layers = encoder_dims(encoder)[0]
    if cfg.top_layers is None:
        return 0
    if cfg.top_layers > n_layers:
        raise ValueError(f"top_layers={cfg.top_layers}, but the encoder has {n_layers} layers")
    return n_layers - cfg.top_layers


class PrefixEncoder(nn.Module):
    """Trainable prefix key/values for every layer: ``forward() -> (L, 2, H, P, D)`` (with
    ``top_layers=N``: the top N layers' only, ``(N, 2, H, P, D)``)."""

    def __init__(self, cfg: PrefixConfig, encoder: nn.Module):
        super().__init__()
        check_prefix_length(cfg.length, encoder)
        self.cfg = cfg
        self.n_layers, self.n_heads, self.head_dim = encoder_dims(encoder)
        self.first_layer = first_prefix_layer(cfg, encoder)
        self.n_layers -= self.first_layer
        hidden = self.n_heads * self.head_dim
        shape = (self.n_layers, 2, self.n_heads, cfg.length, self.head_dim)
        if cfg.projection:
            self.embedding = nn.Embedding(cfg.length, hidden)
            self.mlp = nn.Sequential(
                nn.Linear(hidden, cfg.projection_hidden),
                nn.Tanh(),
                nn.Linear(cfg.projection_hidden, self.n_layers * 2 * hidden),
            )
        else:
            self.kv = nn.Parameter(torch.randn(shape) * cfg.init_std)
        self.dropout = nn.Dropout(cfg.dropout)

    @property
    def length(self) -> int:
        return self.cfg.length

    def forward(self, batch: int | None = None) -> torch.Tensor:
        """``(L, 2, H, P, D)``; with ``batch`` and prefix dropout on in training, ``(L, 2, B, H,
        P, D)`` with a dropout mask of its own for each row, as P-tuning v2 draws it (its
        prefix encoder runs on the batch's expanded prefix tokens)."""
        if self.cfg.projection:
            x = self.mlp(self.embedding.weight)  # (P, L*2*hidden)
            kv = x.view(self.cfg.length, self.n_layers, 2, self.n_heads, self.head_dim)
            kv = kv.permute(1, 2, 3, 0, 4)  # (L, 2, H, P, D)
        else:
            kv = self.kv
        if batch is not None and self.training and self.dropout.p > 0:
            return self.dropout(expand_prefix(kv, batch))  # (L, 2, B, H, P, D)
        return self.dropout(kv)

    @torch.no_grad()
    def init_from_tokens(self, encoder: nn.Module, input_ids: torch.Tensor) -> None:
        """Start from the encoder's own key/values of a real text (``init="tokens"``)."""
        if self.cfg.projection:
            raise ValueError("init_from_tokens sets key/values directly: not with a projection")
        kv = token_key_values(encoder, input_ids.to(self.kv.device), self.cfg.length)
        self.kv.copy_(kv[self.first_layer :])

    @torch.no_grad()
    def materialise(self) -> torch.Tensor:
        """The prefix as plain key/values ``(L, 2, H, P, D)`` (projection applied, no dropout)."""
        if self.cfg.projection:
            was = self.training
            self.eval()
            kv = self.forward().detach().clone()
            self.train(was)
            return kv
        return self.kv.detach().clone()


@torch.no_grad()
def token_key_values(encoder: nn.Module, input_ids: torch.Tensor, length: int) -> torch.Tensor:
    """``(L, 2, H, length, D)``: each layer's key and value projections of the tokens of one
    text ``input_ids`` ``(1, T)`` run through the frozen encoder, its words (not [CLS]/[SEP])
    cycled to fill ``length`` positions."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not layers or not hasattr(getattr(layers[0], "attention", None), "self"):
        raise ValueError("prefix init 'tokens' needs a BERT-like encoder (attention.self.key)")
    got: dict[tuple[int, int], torch.Tensor] = {}
    hooks = []
    for i, layer in enumerate(layers):
        sa = layer.attention.self
        for j, proj in enumerate((sa.key, sa.value)):
            hooks.append(
                proj.register_forward_hook(
                    lambda _m, _i, out, key=(i, j): got.__setitem__(key, out[0])
                )
            )
    was = encoder.training
    encoder.eval()
    try:
        with cls_only_last_layer(encoder, False):
            encoder(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
    finally:
        for h in hooks:
            h.remove()
        encoder.train(was)
    n_layers, heads, dim = encoder_dims(encoder)
    seq = input_ids.shape[1]
    words = torch.arange(1, seq - 1) if seq > 2 else torch.arange(seq)
    pick = words[torch.arange(length) % len(words)]
    return torch.stack(
        [
            torch.stack([got[(i, j)].view(seq, heads, dim)[pick].transpose(0, 1) for j in (0, 1)])
            for i in range(n_layers)
        ]
    )


def build_cache(kv: torch.Tensor, batch: int | None = None) -> DynamicCache:
    """Prefix key/values -> a fresh ``DynamicCache``: ``(L, 2, B, H, P, D)`` one per row, or
    ``(L, 2, H, P, D)`` shared by all ``batch`` rows (expanded per layer, a view).

    Unbound, not indexed: ``kv[layer, 0]`` would make each of the 2L gradients a zero-filled
    tensor of the whole prefix that autograd then adds up (2L fills and adds of B*L*2*H*P*D
    floats a step); unbinding stacks them once, and a shared prefix is only expanded after
    unbinding, so its per-layer gradients stay ``(H, P, D)`` once summed over the batch."""
    if kv.dim() == 5:
        if batch is None:
            raise ValueError("a shared (L, 2, H, P, D) prefix needs the batch size")
        pairs = [
            tuple(x.unsqueeze(0).expand(batch, -1, -1, -1) for x in layer.unbind(0))
            for layer in kv.unbind(0)
        ]
    else:
        pairs = [tuple(layer.unbind(0)) for layer in kv.unbind(0)]
    if _takes_ddp_cache_data():
        return DynamicCache(ddp_cache_data=pairs)
    cache = DynamicCache()
    for layer, (k, v) in enumerate(pairs):
        cache.update(k, v, layer)
    return cache


@functools.cache
def _takes_ddp_cache_data() -> bool:
    return "ddp_cache_data" in inspect.signature(DynamicCache.__init__).parameters


def expand_prefix(kv: torch.Tensor, batch: int) -> torch.Tensor:
    """``(L, 2, H, P, D)`` -> ``(L, 2, B, H, P, D)``, one copy per row (a view, no memory)."""
    return kv.unsqueeze(2).expand(-1, -1, batch, -1, -1, -1)


def stack_prefixes(prefixes: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Several ``(L, 2, H, P_i, D)`` prefixes -> ``(N, L, 2, H, P_max, D)`` right-padded with zeros
    and a ``(N, P_max)`` mask of real positions (padding is masked out of attention)."""
    p_max = max(p.shape[3] for p in prefixes)
    out, mask = [], []
    for p in prefixes:
        pad = p_max - p.shape[3]
        out.append(nn.functional.pad(p, (0, 0, 0, pad)))
        mask.append(torch.cat([torch.ones(p.shape[3]), torch.zeros(pad)]))
    return torch.stack(out), torch.stack(mask).to(prefixes[0].device)


def check_pooling(encoder: nn.Module, pooling: str) -> None:
    """``"cls"`` or ``"pooler"``, the latter only on an encoder loaded with its pooler."""
    if pooling not in ("cls", "pooler"):
        raise ValueError(f"pooling must be 'cls' or 'pooler', got {pooling!r}")
    if pooling == "pooler" and getattr(encoder, "pooler", None) is None:
        raise ValueError(
            "pooling='pooler' needs an encoder loaded with its pooler (add_pooling_layer=True)"
        )


def encode(
    encoder: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    kv: torch.Tensor | None = None,
    prefix_mask: torch.Tensor | None = None,
    shift_positions: bool = False,
    pooling: str = "cls",
) -> torch.Tensor:
    """Run the encoder with per-row prefix key/values and return one vector per text
    ``(B, hidden)``: the [CLS] state (``pooling="cls"``) or BERT's pooler output
    (``"pooler"``, tanh(W h[CLS] + b) with the pretrained pooler, as P-tuning v2 classifies).

    kv: ``(L, 2, B, H, P, D)`` one prefix per row, ``(L, 2, H, P, D)`` one for every row, or
    None (plain encoder). prefix_mask: ``(B, P)`` 1 for real
    prefix positions (all ones when None). shift_positions: number each row's text from its
    own real prefix length (P-tuning v2 / PEFT) instead of 0.
    """
    batch, seq = input_ids.shape
    kwargs = {}
    mask = attention_mask
    start = torch.zeros(batch, 1, dtype=torch.long, device=input_ids.device)
    if kv is not None and kv.dim() not in (5, 6):
        raise ValueError(f"prefix key/values must be (L, 2, [B,] H, P, D), got {tuple(kv.shape)}")
    if kv is not None and kv.shape[-2] > 0:
        p = kv.shape[-2]
        if prefix_mask is None:
            prefix_mask = torch.ones(
                batch, p, dtype=attention_mask.dtype, device=attention_mask.device
            )
        if shift_positions:
            start = prefix_mask.sum(1, keepdim=True).long().to(input_ids.device)
        mask = torch.cat([prefix_mask.to(attention_mask.dtype), attention_mask], dim=1)
        kwargs[cache_keyword(encoder)] = build_cache(kv.to(next(encoder.parameters()).dtype), batch)
    positions = start + torch.arange(seq, device=input_ids.device).unsqueeze(0)  # (B, T)
    check_pooling(encoder, pooling)
    with cls_only_last_layer(encoder):
        out = encoder(
            input_ids=input_ids,
            attention_mask=mask,
            token_type_ids=torch.zeros_like(input_ids),
            position_ids=positions,
            use_cache=False,
            **kwargs,
        )
    return out.pooler_output if pooling == "pooler" else out.last_hidden_state[:, 0]


# ---- a prefix in the top layers only ---------------------------------------------------------
# With the prefix in the top N layers, the layers below run on the text alone with frozen
# weights: their output for a text is the same on every epoch, so it is computed once (eval
# mode: those layers draw no dropout) and the training step runs the top N layers only,
# forward and backward. The encoder's own forward still does the work above that point (mask
# building, the attention implementation, the [CLS]-only last layer): for the block, its
# embeddings hand back the cached states and its layer list is the top N layers (each keeps its
# own index, so it reads its own prefix from the cache).


@contextlib.contextmanager
def _layers(encoder: nn.Module, keep: slice, states: torch.Tensor | None = None):
    """Within the block the encoder runs ``layers[keep]`` only and, given ``states``, its
    embeddings return them as they are (BERT-like encoders: ``embeddings`` + ``encoder.layer``)."""
    body = getattr(encoder, "encoder", None)
    layers = getattr(body, "layer", None)
    if layers is None or not hasattr(encoder, "embeddings"):
        raise ValueError("top_layers needs a BERT-like encoder (embeddings + encoder.layer)")
    body.layer = nn.ModuleList(list(layers)[keep])
    if states is not None:
        encoder.embeddings.forward = lambda *a, **k: states
    try:
        yield
    finally:
        body.layer = layers
        if states is not None:
            del encoder.embeddings.forward


class LowerStates:
    """The frozen encoder's hidden states below layer ``first`` (no prefix, eval mode) for each
    text, computed the first time the text is seen and kept: ``(B, T, hidden)`` for a
    right-padded batch (zeros at padding, which attention masks out). Keyed by the text's
    token ids, so the same text padded to another batch length finds its states. Memory:
    every text seen (train, dev, test) x its tokens x hidden floats (wos: ~1,000 x 128 x 384 x 4
    bytes, 0.2 GB)."""

    def __init__(self, encoder: nn.Module, first: int):
        self.encoder, self.first = encoder, first
        self.store: dict[bytes, torch.Tensor] = {}
        self.computed = 0  # texts run through the lower layers (a test counts them)

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        batch, seq = input_ids.shape
        lens = attention_mask.sum(1)
        right = torch.arange(seq, device=lens.device).unsqueeze(0) < lens.unsqueeze(1)
        if not torch.equal(attention_mask.bool(), right):
            raise ValueError("top_layers needs right-padded batches (ones, then zeros)")
        lens = lens.tolist()
        ids = input_ids.cpu()
        keys = [ids[b, : lens[b]].numpy().tobytes() for b in range(batch)]
        missing = [b for b in range(batch) if keys[b] not in self.store]
        if missing:
            self._compute([keys[b] for b in missing], input_ids[missing], attention_mask[missing])
        hidden = self.encoder.config.hidden_size
        dtype = next(self.encoder.parameters()).dtype
        out = torch.zeros(batch, seq, hidden, dtype=dtype, device=input_ids.device)
        for b in range(batch):
            out[b, : lens[b]] = self.store[keys[b]]
        return out

    @torch.no_grad()
    def _compute(self, keys, input_ids, attention_mask) -> None:
        seq = int(attention_mask.sum(1).max())
        input_ids, attention_mask = input_ids[:, :seq], attention_mask[:, :seq]
        was = self.encoder.training
        self.encoder.eval()
        try:
            with _layers(self.encoder, slice(0, self.first)):
                h = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=torch.zeros_like(input_ids),
                    position_ids=torch.arange(seq, device=input_ids.device).expand_as(input_ids),
                ).last_hidden_state
        finally:
            self.encoder.train(was)
        for key, row, n in zip(keys, h, attention_mask.sum(1).tolist(), strict=True):
            self.store[key] = row[:n].clone()
        self.computed += len(keys)


def encode_top(
    encoder: nn.Module,
    states: torch.Tensor,
    attention_mask: torch.Tensor,
    kv: torch.Tensor,
    pooling: str = "cls",
) -> torch.Tensor:
    """:func:`encode` from the cached states below the prefix (``states`` ``(B, T, hidden)``,
    :class:`LowerStates`) through the top ``N = kv.shape[0]`` layers with the prefix ``kv``
    ``(N, 2, H, P, D)`` (one for every row). Returns ``(B, hidden)``."""
    if kv.dim() != 5:
        raise ValueError(f"top-layer prefix key/values must be (N, 2, H, P, D), got {kv.shape}")
    n_layers = encoder_dims(encoder)[0]
    first = n_layers - kv.shape[0]
    batch = states.shape[0]
    # Every layer index gets a cache entry (a layer reads its own index; the cache's length is
    # read at index 0): the layers that do not run get zeros they never read.
    full = torch.cat([kv.new_zeros(first, *kv.shape[1:]), kv]) if first else kv
    mask = torch.cat([attention_mask.new_ones(batch, kv.shape[-2]), attention_mask], dim=1)
    check_pooling(encoder, pooling)
    dtype = next(encoder.parameters()).dtype
    with _layers(encoder, slice(first, None), states), cls_only_last_layer(encoder):
        out = encoder(
            inputs_embeds=states,
            attention_mask=mask,
            use_cache=False,
            **{cache_keyword(encoder): build_cache(full.to(dtype), batch)},
        )
    return out.pooler_output if pooling == "pooler" else out.last_hidden_state[:, 0]


# ---- the last layer for [CLS] only ------------------------------------------------------------
# Classification reads one state of the last layer: [CLS]. Its query, attention output and
# feed-forward are needed at [CLS] alone; computing them for all T tokens is (T-1)/T of the
# layer's work wasted, forward and backward. Its keys and values are not needed either: with
# one query per head, q . (W_k x_t + b_k) = (W_k^T q) . x_t + q . b_k, and the attention output
# sum_t a_t (W_v x_t + b_v) = W_v (sum_t a_t x_t) + (sum_t a_t) b_v. So the scores and the
# weighted sum are taken on the layer's input x directly (H x T x hidden per text instead of
# the 2 x T x hidden^2 of the key and value projections). The prefix key/values, already
# projected, enter as they are. Exact up to float rounding (test: 1e-5), a whole layer
# (1/6 of MiniLM, 1/12 of BERT-base) of work saved but for one token.


def _mask_row(attention_mask, scores):
    """The [CLS] row of the encoder's attention mask applied to ``scores`` ``(B, H, K)``: a 4-D
    boolean (SDPA's, True = attend) or additive (eager's) mask, a 2-D padding mask (1 = attend,
    as flash-attention paths pass it), or None when nothing is masked."""
    if attention_mask is None:
        return scores
    if attention_mask.dim() == 2:
        return scores.masked_fill(~attention_mask.bool()[:, None], float("-inf"))
    m = attention_mask[:, :, 0]
    if m.dtype == torch.bool:
        return scores.masked_fill(~m, float("-inf"))
    return scores + m.to(scores.dtype)


def _cls_layer_forward(layer, hidden_states, attention_mask=None, *args, **kwargs):
    sa = layer.attention.self
    batch, seq, width = hidden_states.shape
    heads, dim = sa.num_attention_heads, sa.attention_head_size
    cls = hidden_states[:, :1]
    q = sa.query(cls).view(batch, heads, dim)  # (B, H, D)
    w_k = sa.key.weight.view(heads, dim, width)
    w_v = sa.value.weight.view(heads, dim, width)
    # text scores through the key projection folded into the query: (B, H, T)
    text = torch.bmm(torch.einsum("bhd,hdi->bhi", q, w_k), hidden_states.transpose(1, 2))
    if sa.key.bias is not None:
        text = text + (q * sa.key.bias.view(heads, dim)).sum(-1, keepdim=True)
    cache = kwargs.get("past_key_values", kwargs.get("cache"))
    pk = pv = None
    if cache is not None:  # the prefix: update with no text returns the cached key/values
        empty = q.new_zeros(batch, heads, 0, dim)
        pk, pv = cache.update(empty, empty, sa.layer_idx)  # (B, H, P, D)
    n_pre = 0 if pk is None else pk.shape[2]
    scores = text if n_pre == 0 else torch.cat([torch.einsum("bhd,bhpd->bhp", q, pk), text], -1)
    probs = torch.softmax(_mask_row(attention_mask, scores * sa.scaling), dim=-1)
    probs = sa.dropout(probs)  # the attention dropout, in training only (nn.Dropout)
    on_pre, on_text = probs.split([n_pre, seq], dim=-1)
    o = torch.einsum("bhi,hdi->bhd", torch.bmm(on_text, hidden_states), w_v)
    if sa.value.bias is not None:
        o = o + on_text.sum(-1, keepdim=True) * sa.value.bias.view(heads, dim)
    if n_pre:
        o = o + torch.einsum("bhp,bhpd->bhd", on_pre, pv)
    att = layer.attention.output(o.reshape(batch, 1, heads * dim), cls)
    return layer.output(layer.intermediate(att), att)  # (B, 1, hidden): [CLS] only


def _cls_only_ok(encoder: nn.Module):
    """The last layer when it has BERT's layout (self-attention only); None otherwise."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not layers:
        return None
    last = layers[-1]
    sa = getattr(getattr(last, "attention", None), "self", None)
    needed = (
        "query",
        "key",
        "value",
        "num_attention_heads",
        "attention_head_size",
        "scaling",
        "dropout",
    )
    if sa is None or not all(hasattr(sa, a) for a in needed):
        return None
    if getattr(last, "add_cross_attention", False) or getattr(last, "is_decoder", False):
        return None
    if not (hasattr(last, "intermediate") and hasattr(last, "output")):
        return None
    return last


@contextlib.contextmanager
def cls_only_last_layer(encoder: nn.Module, enabled: bool = True):
    """Within the block the encoder's last layer computes [CLS] only (``last_hidden_state`` is
    ``(B, 1, hidden)``); a no-op for encoders without BERT's layer layout. ``enabled=False``
    pins the full layer for the block (inner calls, e.g. :func:`encode`'s, then change nothing)."""
    last = _cls_only_ok(encoder)
    if last is None or "forward" in vars(last):  # not BERT-like, or an outer block decided
        yield
        return
    impl = _cls_layer_forward if enabled else type(last).forward
    last.forward = types.MethodType(impl, last)
    try:
        yield
    finally:
        del last.forward


class FrozenEncoderWithPrefix:
    """Mixin for an ``nn.Module`` holding ``encoder`` (frozen), ``prefix`` (a module returning
    ``(L, 2, H, P, D)``), ``cfg`` (a ModelConfig) and ``encoder_dropout``: the [CLS] states
    under the prefix, and a ``train()`` that keeps the frozen encoder's dropout off unless the
    recipe or a method (SimCSE's two views) turns it on. Shared by global SPP and each level of
    a local model."""

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder.train(mode and self.encoder_dropout)
        return self

    def cls_states(self, input_ids, attention_mask):
        # only a PrefixEncoder with top_layers starts above layer 0 (a local level's
        # transformed prefix, transfer.TransformedPrefix, covers every layer)
        first = getattr(self.prefix, "first_layer", 0)
        if first:
            if getattr(self, "lower_states", None) is None:
                self.lower_states = LowerStates(self.encoder, first)
            return encode_top(
                self.encoder,
                self.lower_states(input_ids, attention_mask),
                attention_mask,
                self.prefix(),
                pooling=self.cfg.pooling,
            )
        # (L, 2, H, P, D): one prefix for every row; (L, 2, B, H, P, D) where each row draws
        # its own prefix dropout mask (PrefixEncoder.forward)
        kv = (
            self.prefix(batch=input_ids.shape[0])
            if isinstance(self.prefix, PrefixEncoder)
            else self.prefix()
        )
        return encode(
            self.encoder,
            input_ids,
            attention_mask,
            kv,
            shift_positions=self.cfg.prefix.shift_positions,
            pooling=self.cfg.pooling,
        )


def n_prefix_params(cfg: PrefixConfig, encoder: nn.Module) -> int:
    """Parameters the prefix adds at inference (L * 2 * hidden * P); projection not counted."""
    layers, heads, dim = encoder_dims(encoder)
    layers -= first_prefix_layer(cfg, encoder)
    return layers * 2 * heads * dim * cfg.length


def prefix_norm(kv: torch.Tensor) -> float:
    """RMS of prefix key/values (a diagnostic for training curves)."""
    return float(kv.detach().pow(2).mean().sqrt()) if kv.numel() else math.nan
