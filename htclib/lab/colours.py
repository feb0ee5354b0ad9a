"""One colour per model in every figure of every notebook.

A model's family fixes its hue (CLS-tuning red, global SPP blue, the local variants green /
purple / orange, CL -> BCE pink, PEFT cyan, the classical baselines greys); a variant inside a
family (another prefix length, recipe, CL lr, lengths) is a lighter or darker shade of it,
chosen from the label alone, so the same model has the same colour in 02 as in 06 whatever else
a figure shows. Labels come in the forms the records and tables use: run rows
(``spp-P30-cl-simcse``), claim sides (``spp+cl 30 CL lr 0.001``, ``local copy 10/20``) and
methods (``cls``, ``local``).
"""

from __future__ import annotations

import colorsys
import hashlib
import re

from matplotlib.colors import to_hex, to_rgb

FAMILY_COLOURS = {
    "cls": "#b2182b",
    "spp": "#1f77b4",
    "local-copy": "#1b9e77",
    "local-transform": "#7570b3",
    "local-non": "#d95f02",
    # a local model named without its variant (the variants' shared top level in the training
    # curves, the method as a whole): none of the variants' hues
    "local": "#3a3a3a",
    "spp+cl": "#e7298a",
    "peft": "#17becf",
    "linear-probe": "#7f7f7f",
    "tfidf-lr": "#525252",
    "hiclass": "#a6a6a6",
    # the other parameter-efficient methods (htclib.method.peft_methods)
    "lora": "#ff7f0e",
    "ia3": "#9467bd",
    "prompt": "#8c564b",
    "bitfit": "#bcbd22",
    "adapter": "#2ca02c",
}
# models of no known family: a stable colour chosen by the label, none of them a family's
OTHER = ("#17a589", "#b8860b", "#5d6d7e", "#6c3483", "#a04000", "#1e8449")
# the families a label names by its first word (after the compound names family() tries first)
_PLAIN = ("cls", "spp", "local", "peft", "hiclass", "lora", "ia3", "prompt", "bitfit", "adapter")
# how a model's part of a run name starts (``wos/spp-P30/s0`` -> ``spp-P30``)
_STARTS = _PLAIN + ("linear-probe", "tfidf-lr", "cl")


def family(label: str) -> str:
    """The family of a model label (run row, claim side or method name)."""
    s = label.lower().replace(" ", "-")
    # a run name (``wos/spp-P30/s0``): the part that names the model
    parts = [x for x in s.split("/") if x.startswith(_STARTS)]
    s = parts[0] if parts and not s.startswith(_STARTS) else s
    for name in ("local-copy", "local-transform", "local-non", "linear-probe", "tfidf-lr"):
        if s.startswith(name):  # a local model with a CL stage stays in its variant's hue
            return name
    if (
        "cl-simcse" in s
        or s.startswith("spp+cl")
        or (s.startswith("cl") and not s.startswith("cls"))
    ):
        return "spp+cl"
    for name in _PLAIN:
        if s.startswith(name):
            return name
    return "other"


def _shade(hex_colour: str, step: float) -> str:
    """Lighter (step > 0) or darker (step < 0): HLS lightness moved by 0.13 a step."""
    h, lum, s = colorsys.rgb_to_hls(*to_rgb(hex_colour))
    return to_hex(colorsys.hls_to_rgb(h, min(0.85, max(0.15, lum + 0.13 * step)), s))


def _variant_step(label: str, fam: str) -> float:
    """How far a variant sits from its family's base colour: 0 for the base model (P = 30,
    htclib's recipe, the whole training split), a fixed step for the variants the profiles
    train, a stable hash-chosen one for anything else."""
    s = label.lower()
    if fam in ("cls", "linear-probe", "tfidf-lr", "hiclass", "ia3", "bitfit"):
        return 0.0
    if fam in ("lora", "adapter"):  # the size matched to the prefix's share is the base
        m = re.search(r"(?:-|\s)[rw](\d+)", s)
        return 0.0 if not m or int(m.group(1)) in (15, 29) else 1.2
    if fam in ("spp", "peft", "prompt"):  # by P: ``prompt P30``, ``prompt 30``, ``prompt-P30``
        m = re.search(r"(?:-p| p?)(\d+)", s)
        length = int(m.group(1)) if m else 30
        extra = {"nodrop": -1.6, "ptv2": -2.4, "tokinit": 1.8}
        for k, v in extra.items():
            if k in s:
                return v
        return {30: 0.0, 40: -0.8, 20: 0.7, 10: 1.4, 5: 2.1}.get(length, 0.0)
    if fam == "spp+cl":
        return 1.4 if ("0.01" in s and "0.001" not in s) else 0.0
    if fam.startswith("local"):
        # lengths: 10/20 base, 10/30 darker, 10/20/30 (three levels) base; levels lighter
        step = -1.0 if re.search(r"10[-/]30(?![-/]\d)", s) else 0.0
        m = re.search(r"\bl(\d)\b", s)
        return step + (0.8 * (int(m.group(1)) - 1) if m else 0.0)
    rest = s.split(" ")[1:] + s.split("-")[1:]
    if not rest:
        return 0.0
    digest = int(hashlib.sha256(" ".join(rest).encode()).hexdigest(), 16)
    return [-1.2, -0.6, 0.6, 1.2][digest % 4]


def colour_of(label: str) -> str:
    """The colour of a model label in every figure."""
    fam = family(label)
    if fam == "other":
        return OTHER[int(hashlib.sha256(label.encode()).hexdigest(), 16) % len(OTHER)]
    base = FAMILY_COLOURS[fam]
    if any(t in label for t in ("pct", "% of")):  # the training-size curve's subsets
        return _shade(base, 1.0)
    step = _variant_step(label, fam)
    level = re.search(r"\bL(\d)\b", label)  # a local model's level: lighter further down
    if level and not fam.startswith("local"):
        step += 0.8 * (int(level.group(1)) - 1)
    return _shade(base, step)
