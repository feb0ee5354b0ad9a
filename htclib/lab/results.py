"""Collecting run records into tables laid out like the paper's (ours beside theirs).

Every finished run (model or baseline) leaves ``result.json`` under
``results/<profile>/runs/<key>/``; :func:`collect` reads them all into one DataFrame,
:func:`htclib.lab.report.write_tables` writes ``results.csv`` and ``results.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_write_text, ensure_writable_dir, read_json
from ..method.configs import NO_ENCODER_DROPOUT_SWITCH

METHOD_ORDER = ["tfidf-lr", "hiclass", "linear-probe", "cls", "spp", "spp+cl", "local", "local+cl", "peft",
                "lora", "ia3", "prompt", "bitfit", "adapter"]  # fmt: skip

# The paper's numbers (../shared/PAPER.md, BERT-base on full WoS and Amazon Beauty).
PAPER = {
    ("wos", "cls", "", "-"): (85.89, 79.22),
    ("wos", "spp", "", "30"): (86.84, 79.77),
    ("wos", "local", "non", "10/20"): (86.84, 79.12),
    ("wos", "local", "transform", "10/20"): (86.93, 79.33),
    ("wos", "local", "copy", "10/20"): (87.24, 79.98),
    ("wos", "local", "copy", "10/30"): (87.34, 80.09),
    ("wos", "spp+cl", "", "30"): (87.55, 80.07),
    # Table 3's Amazon columns. The paper gives the Amazon prefix length only as a share of
    # the parameters (0.50%, against WoS's 0.46% at P = 30, the difference its larger head):
    # read as P = 30, the row the paper profile trains.
    ("amazon-beauty", "cls", "", "-"): (87.49, 63.38),
    ("amazon-beauty", "spp", "", "30"): (88.00, 61.36),
    ("amazon-beauty", "spp+cl", "", "30"): (88.14, 62.07),
}


class SavedFigure(list):
    """The written files of a figure. A notebook shows the figure itself, not this (a line of
    paths after every figure is noise); a console prints the file names."""

    def __repr__(self) -> str:
        return "saved: " + ", ".join(p.name for p in self)

    def _ipython_display_(self) -> None:
        pass


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def figure_bytes(fig, ext: str) -> bytes:
    """A figure as PNG or SVG bytes that depend on the figure alone: no date in the SVG and
    its element ids drawn from a fixed salt (matplotlib's default is a fresh random id and
    today's date), so a redrawn figure of the same records is byte-identical."""
    import io

    import matplotlib

    buf = io.BytesIO()
    meta = {"Date": None} if ext == "svg" else {}
    with matplotlib.rc_context({"svg.hashsalt": "htclib"}):
        fig.savefig(buf, format=ext, dpi=110, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless ``path`` holds it already (reading a notebook's results
    must leave ``git status`` clean)."""
    from ..io import atomic_write_bytes

    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


@dataclass
class Paths:
    """Where a profile's outputs go under ``root``: results, figures, tables."""

    root: Path
    profile: str

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    @property
    def results(self) -> Path:
        return ensure_writable_dir(self.root / "results" / self.profile)

    @property
    def figures(self) -> Path:
        return ensure_writable_dir(self.root / "figures" / self.profile)

    def save_figure(self, fig, name: str, show: bool = True) -> SavedFigure:
        """Write ``name.png`` and ``name.svg`` (stable names), show the figure inline when a
        notebook runs this (papermill copies keep the image), and close it."""
        import matplotlib.pyplot as plt

        out = []
        for ext in ("png", "svg"):
            path = self.figures / f"{name}.{ext}"
            write_if_changed(path, figure_bytes(fig, ext))
            out.append(path)
        if show and _in_notebook():
            from IPython.display import display

            display(fig)
        plt.close(fig)
        return SavedFigure(out)

    def save_table(self, df: pd.DataFrame, name: str) -> Path:
        path = self.results / f"{name}.md"
        atomic_write_text(path, _markdown(df.reset_index() if df.index.name else df) + "\n")
        return path


def load_records(results_dir: str | os.PathLike) -> list[dict]:
    """Every ``result.json`` under ``results_dir/runs`` (skips unfinished runs)."""
    runs = Path(results_dir) / "runs"
    return [read_json(f) for f in sorted(runs.glob("*/result.json"))] if runs.exists() else []


def decoding_for(record: dict) -> str:
    """The score a table leads with: ``headline`` (the paper's metric) where the record has it;
    records from before the headline existed fall back to best path / top-down (marked)."""
    if "headline/micro_f1" in record.get("test", {}):
        return "headline"
    return "topdown" if record.get("multi_path") else "best_path"


def extra_decoding(record: dict) -> str:
    """Our additional decoding shown beside the headline: best path on single-path data, else
    top-down consistent thresholding."""
    return "topdown" if record.get("multi_path") else "best_path"


def row_and_seed(name: str) -> tuple[str, str]:
    """A run's row and seed from its name: ``"wos/spp-P30/s2"`` -> ``("wos/spp-P30", "s2")``;
    a name without a seed part is its own row, with seed ``""``."""
    head, _, tail = name.rpartition("/")
    if head and tail[:1] == "s" and tail[1:].isdigit():
        return head, tail
    return name, ""


def method_label(record: dict, with_variant: bool = False) -> str:
    """The one name a table, plot or analysis gives a run's method: ``spp+cl`` for CL -> BCE
    (also ``local+cl``), and with ``with_variant`` the local transfer variant after a space."""
    name = record["method"] + ("+cl" if record.get("contrastive") else "")
    if with_variant and record.get("variant"):
        name += f" {record['variant']}"
    return name


def _prefix_fields(record: dict) -> dict:
    """A record's ``PrefixConfig`` as stored (``{}`` for a config without one)."""
    return record.get("config", {}).get("model", {}).get("prefix") or {}


def prefix_init(record: dict) -> str:
    """How a record's prefix started (``PrefixConfig.init``; "random" when the config has none)."""
    return _prefix_fields(record).get("init", "random")


def recipe_name(record: dict) -> str:
    """The recipe a prefix model trained with: the config's recipe, ``htclib-nodrop`` for
    htclib's recipe with the frozen encoder in eval mode (the default until 2026-11-30; those
    records stay their own rows). ``""`` for the methods recipes do not apply to."""
    if record["method"] not in ("cls", "spp", "local"):
        return ""
    model = record.get("config", {}).get("model", {})
    name = model.get("recipe", "htclib")
    switch = record["method"] not in NO_ENCODER_DROPOUT_SWITCH
    if name == "htclib" and switch and not model.get("encoder_dropout", False):
        name += "-nodrop"
    return name


def recipe_label(record: dict) -> str:
    """:func:`recipe_name` as every table and plot names the row: ``+tokinit`` marks a prefix
    started from tokens, ``+probeC`` a head fitted to the model's start (LP-FT), ``+proj`` a
    prefix trained through P-tuning v2's projection MLP, ``+topN`` a prefix in the top N layers
    only, ``+words`` dropout masks drawn from random words (``ModelConfig.dropout_masks``),
    ``+hgclr`` the checkpoint chosen by HGCLR's rule (``TrainConfig.selection``): their own rows
    too."""
    probe, top = head_probe(record), prefix_top_layers(record)
    return (
        recipe_name(record)
        + ("+tokinit" if prefix_init(record) == "tokens" else "")
        + (f"+probe{probe:g}" if probe is not None else "")
        + ("+proj" if prefix_projection(record) else "")
        + (f"+top{top}" if top is not None else "")
        + ("+words" if dropout_masks(record) == "words" else "")
        + ("" if selection(record) == "single" else f"+{selection(record)}")
    )


def prefix_top_layers(record: dict) -> int | None:
    """N for a prefix in the top N layers only (``PrefixConfig.top_layers``), None: every layer."""
    return _prefix_fields(record).get("top_layers")


def prefix_projection(record: dict) -> bool:
    """Whether the prefix trained through the projection MLP (``PrefixConfig.projection``)."""
    return bool(_prefix_fields(record).get("projection"))


def dropout_masks(record: dict) -> str:
    """How a record's encoder drew its dropout masks (``ModelConfig.dropout_masks``; "rand"
    for records from before the field)."""
    return record.get("config", {}).get("model", {}).get("dropout_masks", "rand")


def selection(record: dict) -> str:
    """How a record picked its checkpoint (``TrainConfig.selection``; "single" before the
    field)."""
    return record.get("config", {}).get("train", {}).get("selection", "single")


def head_probe(record: dict) -> float | None:
    """The C of the head's probe fit before training (``ModelConfig.head_probe``), or None."""
    return record.get("config", {}).get("model", {}).get("head_probe")


def size_tag(method: str, size) -> str:
    """``r15`` (LoRA's rank), ``w29`` (the adapters' width), "" for other methods or no size:
    how tables, plots and claims name a sized row."""
    if size is None or method not in ("lora", "adapter"):
        return ""
    return f"{'w' if method == 'adapter' else 'r'}{int(size)}"


def _size_variant(r: dict) -> str:
    return size_tag(r["method"], r.get("config", {}).get("model", {}).get("peft_size"))


def to_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        dec, extra = decoding_for(r), extra_decoding(r)
        t = r["test"]
        method = method_label(r)
        macro_key = "macro_f1" if dec == "headline" else "macro_f1_all"
        rows.append(
            {
                "dataset": r["dataset"],
                "method": method,
                # a local model's transfer; LoRA's rank / the adapters' width (r15, w29)
                "variant": r.get("variant", "") or _size_variant(r),
                "contrastive": r.get("contrastive", ""),
                "prefix": r.get("prefix_length", "-"),
                "seed": r.get("seed", 0),
                # the recipe (dropout off, a prefix started from tokens: marked, own rows)
                "recipe": recipe_label(r),
                "cl_lr": (r.get("config", {}).get("contrastive") or {}).get("lr", np.nan),
                # None: the whole training split; a share: a training-size curve run
                "train_subset": r.get("config", {}).get("data", {}).get("train_fraction"),
                "stopped": r.get("stopped")
                or ",".join(str(lv.get("stopped")) for lv in r.get("levels", []))
                or "",
                "decoding": dec,
                # headline: the paper's metric (macro over every label, absent ones 0)
                "micro_f1": 100 * t[f"{dec}/micro_f1"],
                "macro_f1": 100 * t[f"{dec}/{macro_key}"],
                # our additions: best path / top-down, macro over labels present in the gold
                "extra_decoding": extra,
                "extra_micro_f1": 100 * t.get(f"{extra}/micro_f1", np.nan),
                "extra_macro_f1": 100 * t.get(f"{extra}/macro_f1", np.nan),
                "tuned_micro_f1": 100 * t.get("tuned/micro_f1", np.nan),
                "h_f1": 100 * t.get(f"{extra}/h_f1", np.nan),
                **{
                    f"L{i}_micro_f1": 100 * t[f"{dec}/L{i}_micro_f1"]
                    for i in range(1, 6)
                    if f"{dec}/L{i}_micro_f1" in t
                },
                # LoRA's rank / the adapters' width (htclib.method.peft_methods); None elsewhere
                "peft_size": r.get("config", {}).get("model", {}).get("peft_size"),
                "params_pct": r.get("params_pct", np.nan),
                "trained_params": r.get("trained_params", np.nan),
                "artifact_mb": r.get("artifact_bytes", np.nan) / 1e6,
                "train_s": r.get("train_seconds", np.nan),
                "wall_s": r.get("wall_seconds", np.nan),
                "train_ex_per_s": r.get("train_examples_per_s", np.nan),
                "epochs": len(r.get("history", [])),
                "n_train": r.get("n_train"),
                "key": r.get("key"),
                "name": r.get("name"),
            }
        )
    return pd.DataFrame(rows)


def styled(df: pd.DataFrame, caption: str):
    """A table as a notebook shows it: rendered HTML, a caption, no index, blanks for NaN."""
    import hashlib

    # a fixed uuid from the caption: pandas draws a random one per table, and every rerun of a
    # notebook would rewrite its HTML
    uuid = hashlib.sha256(caption.encode()).hexdigest()[:8]
    return (
        df.style.hide(axis="index")
        .set_uuid(uuid)
        .set_caption(caption)
        .format(precision=2, na_rep="")
        .set_table_styles(
            [{"selector": "caption", "props": "caption-side: top; text-align: left;"}]
        )
    )


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per (dataset, method, variant, prefix), the paper's numbers beside."""
    if df.empty:
        return df
    if "train_subset" in df:  # the training-size curve has its own table
        df = df[df.train_subset.isna()]
    df = df.assign(
        recipe=df.get("recipe", pd.Series("", index=df.index)).fillna(""),
        cl_lr=df.get("cl_lr", pd.Series(np.nan, index=df.index)).map(
            lambda x: "" if pd.isna(x) else f"{x:g}"
        ),
        capped=df.get("stopped", pd.Series("", index=df.index))
        .fillna("")
        .str.contains("max_epochs"),
    )
    keys = ["dataset", "method", "variant", "contrastive", "cl_lr", "recipe", "prefix"]
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    df = df.assign(
        _order=df.method.map(lambda m: order.get(m, len(order))),
        _p=pd.to_numeric(df.prefix.str.split("/").str[-1], errors="coerce").fillna(0),
    )
    df = df.sort_values(["dataset", "_order", "variant", "contrastive", "cl_lr", "recipe", "_p"])
    g = df.groupby(keys, dropna=False, sort=False)
    out = g.agg(
        micro=("micro_f1", "mean"),
        micro_sd=("micro_f1", "std"),
        macro=("macro_f1", "mean"),
        macro_sd=("macro_f1", "std"),
        extra_micro=("extra_micro_f1", "mean"),
        extra_macro=("extra_macro_f1", "mean"),
        extra=("extra_decoding", "first"),
        params_pct=("params_pct", "mean"),
        train_s=("train_s", "mean"),
        seeds=("seed", "nunique"),
        epochs=("epochs", "mean"),
        capped=("capped", "sum"),
        decoding=("decoding", "first"),
    ).reset_index()

    def fmt(m, s, n):
        return f"{m:.2f}" if n < 2 or np.isnan(s) else f"{m:.2f} ± {s:.2f}"

    out["Mi-F1"] = [
        fmt(m, s, n) for m, s, n in zip(out.micro, out.micro_sd, out.seeds, strict=True)
    ]
    out["Ma-F1"] = [
        fmt(m, s, n) for m, s, n in zip(out.macro, out.macro_sd, out.seeds, strict=True)
    ]
    # The paper's CL row is its printed loss; only our matching-denominator row gets it beside.
    paper = [
        PAPER.get((d, m, v, p)) if c in ("", "paper") else None
        for d, m, v, c, p in zip(
            out.dataset, out.method, out.variant, out.contrastive, out.prefix, strict=True
        )
    ]
    out["paper Mi/Ma"] = [
        f"{a:.2f} / {b:.2f}" if a else "" for a, b in (x or (None, None) for x in paper)
    ]
    out["ours: best path / top-down Mi/Ma"] = [
        ""
        if np.isnan(a)
        else f"{a:.2f} / {b:.2f} ({'best path' if e == 'best_path' else 'top-down'})"
        for a, b, e in zip(out.extra_micro, out.extra_macro, out.extra, strict=True)
    ]
    out["params %"] = out.params_pct.map(lambda x: "" if np.isnan(x) else f"{x:.2f}")
    out["train s"] = out.train_s.map(lambda x: "" if np.isnan(x) else f"{x:.0f}")
    out["epochs (capped)"] = [
        "" if not e else f"{e:.1f} ({int(c)})" for e, c in zip(out.epochs, out.capped, strict=True)
    ]
    return out[
        keys
        + [
            "Mi-F1",
            "Ma-F1",
            "paper Mi/Ma",
            "ours: best path / top-down Mi/Ma",
            "params %",
            "train s",
            "epochs (capped)",
            "seeds",
            "decoding",
        ]
    ]


def curve_table(df: pd.DataFrame) -> pd.DataFrame:
    """Headline F1 against training-set size: mean ± std over seeds per (dataset, method, size).

    The curve's rows (``train_subset`` set) and the matching whole-split rows of the same
    methods (global SPP and local at the curve's prefix lengths, CLS, the baselines)."""
    if df.empty or "train_subset" not in df or df.train_subset.notna().sum() == 0:
        return pd.DataFrame()
    curve = df[df.train_subset.notna()]
    sets = set(curve.dataset)
    kinds = set(zip(curve.method, curve.variant, curve.prefix, strict=True))
    full = df[
        df.train_subset.isna()
        & df.dataset.isin(sets)
        & np.array(
            [(m, v, p) in kinds for m, v, p in zip(df.method, df.variant, df.prefix, strict=True)]
        )
        & (df.get("recipe", "").isin(["htclib", ""]) if "recipe" in df else True)
        & (df.contrastive == "")
    ]
    d = pd.concat([curve, full])
    d = d.assign(
        model=[
            " ".join(x for x in (m, v, "" if p == "-" else f"P{p}") if x)
            for m, v, p in zip(d.method, d.variant, d.prefix, strict=True)
        ]
    )
    g = d.groupby(["dataset", "model", "n_train"], sort=True)
    out = g.agg(
        micro=("micro_f1", "mean"),
        micro_sd=("micro_f1", "std"),
        macro=("macro_f1", "mean"),
        macro_sd=("macro_f1", "std"),
        seeds=("seed", "nunique"),
    ).reset_index()
    return out


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    rows += ["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(rows)
