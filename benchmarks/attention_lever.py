"""One lever measured on its own: attention dropout through :mod:`htclib.attention` instead of
SDPA's math fallback (what the encoder does by default when its attention dropout is on).

``python -m benchmarks.attention_lever`` times htclib's SPP training step with the frozen
encoder's dropout on (the like-for-like setting of section 1), MiniLM and a BERT-base-sized
config at seq 128 and 256, batch 16, both ways, interleaved in one process at the default thread
count; writes ``benchmarks/results/attention.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.modeling_utils import AttentionInterface

from benchmarks.common import SPP, batch, encoder, interleaved, machine, train_step_fn

# transformers' own SDPA under another name: htclib.attention only takes over from "sdpa", so
# an encoder set to this one keeps SDPA's behaviour (the math path when dropout is on)
PLAIN = "sdpa_plain"
AttentionInterface.register(PLAIN, sdpa_attention_forward)
AttentionMaskInterface.register(PLAIN, sdpa_mask)


def main() -> int:
    rows = []
    for kind in ("minilm", "bert-base"):
        enc = encoder(kind)
        for seq in (128, 256):
            ids, mask = batch(16, seq)
            model = SPP(enc, encoder_dropout=True)
            step = train_step_fn(model, ids, mask)

            def plain(enc=enc, step=step):
                enc.config._attn_implementation = PLAIN
                try:
                    step()
                finally:
                    enc.config._attn_implementation = "sdpa"

            t = interleaved({"htclib": step, "sdpa": plain}, reps=3, steps=2)
            rows.append(
                {
                    "encoder": kind,
                    "seq": seq,
                    "ex_s_sdpa_fallback": round(16 / t["sdpa"], 2),
                    "ex_s_htclib_attention": round(16 / t["htclib"], 2),
                    "gain": round(t["sdpa"] / t["htclib"], 3),
                }
            )
            print(rows[-1], flush=True)
    out = Path(__file__).parent / "results" / "attention.json"
    out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
