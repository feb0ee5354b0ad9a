"""Figures. Each function returns a matplotlib ``Figure``; notebooks save them with stable names.

Every figure names the profile it was made on in its title, because a smoke-run figure and a
cpu-profile figure look alike and mean very different things.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .colours import colour_of
from .results import row_and_seed, size_tag

sns.set_theme(style="whitegrid", context="notebook")


def _title(fig, text: str, profile: str) -> None:
    # A fixed distance below the top edge, not matplotlib's 98% of the height: on a tall
    # figure (the claims forest) that is half an inch down, and tight_layout then sets the
    # first panel's title over it.
    fig.suptitle(f"{text}  [profile: {profile}]", fontsize=11, y=1 - 0.08 / fig.get_figheight())


def no_data(title: str, profile: str, message: str) -> plt.Figure:
    """A figure that says why it has nothing to draw (no runs of this kind yet), instead of
    empty axes."""
    fig, ax = plt.subplots(figsize=(8, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, wrap=True)
    _title(fig, title, profile)
    return fig


def label_distribution(datasets: dict, profile: str) -> plt.Figure:
    """Per data set: labels per level, and training examples per label by rank (long tail)."""
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.2 * len(datasets)), squeeze=False)
    for row, (name, ds) in enumerate(datasets.items()):
        counts = ds.label_counts("train")
        sizes = ds.hierarchy.sizes
        axes[row, 0].bar(
            [f"L{i + 1}" for i in range(len(sizes))], sizes, color=sns.color_palette()[0]
        )
        axes[row, 0].set(title=f"{name}: labels per level", ylabel="labels")
        for lv, grp in counts.groupby("level"):
            c = np.sort(grp["count"].to_numpy())[::-1]
            axes[row, 1].plot(np.arange(1, len(c) + 1), np.maximum(c, 0.8), label=f"L{lv}")
        axes[row, 1].set(
            yscale="log",
            xscale="log",
            title=f"{name}: training examples per label (rank)",
            xlabel="label rank",
            ylabel="train examples",
        )
        axes[row, 1].legend()
    _title(fig, "Label distribution and long tail", profile)
    fig.tight_layout()
    return fig


SEED_STYLES = ["-", "--", ":", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5))]
MODEL_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _curve_model(name: str) -> str:
    """``wos/spp-P10/s0`` -> ``spp-P10``: the model a run is a seed of."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[-1].startswith("s") and parts[-1][1:].isdigit():
        parts = parts[:-1]
    return "/".join(parts[1:]) if len(parts) > 1 else parts[0]


def training_curves(records: list[dict], profile: str, metric: str = "dev_headline") -> plt.Figure:
    """Train loss and dev score by epoch: a row per data set, a colour per model (its seeds in
    one colour, told apart by the line style), a local model's levels as separate curves (each
    level trains from epoch 1 to its own early stop)."""
    runs = [r for r in records if r.get("history")]
    if not runs:
        return no_data("Training curves", profile, "No trained run with a history yet.")
    datasets = list(dict.fromkeys(r.get("dataset", "?") for r in runs))
    per_ds = {}
    for ds in datasets:
        curves, seen = [], set()  # (model label, seed, history of one model / level)
        for r in (r for r in runs if r.get("dataset", "?") == ds):
            h = pd.DataFrame(r["history"])
            model = _curve_model(r.get("name", "run"))
            if "level" not in h:
                curves.append((model, r.get("seed", 0), h))
                continue
            for lv, g in h.groupby("level"):
                # the top level is one training shared by the variants of a seed: draw it once
                label = (f"{model.split('-')[0]} L{lv} (shared)" if lv == h["level"].min()
                         else f"{model} L{lv}")  # fmt: skip
                if (label, r.get("seed", 0)) not in seen:
                    seen.add((label, r.get("seed", 0)))
                    curves.append((label, r.get("seed", 0), g))
        per_ds[ds] = curves
    # one colour per model in every panel, and in every other figure (htclib.lab.colours)
    models = list(dict.fromkeys(c[0] for cs in per_ds.values() for c in cs))
    colour = {m: colour_of(m) for m in models}
    # shades of one family are close: a marker per model tells them apart within a panel
    marker = {m: MODEL_MARKERS[i % len(MODEL_MARKERS)] for i, m in enumerate(models)}
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.6 * len(datasets)), squeeze=False)
    for (ax_loss, ax_dev), ds in zip(axes, datasets, strict=True):
        curves = per_ds[ds]
        models_here = list(dict.fromkeys(c[0] for c in curves))
        for model, seed, h in curves:
            kw = {"color": colour[model], "ls": SEED_STYLES[seed % len(SEED_STYLES)],
                  "marker": marker[model]}  # fmt: skip
            ax_loss.plot(h["epoch"], h["train_loss"], ms=3, lw=1.2, **kw)
            col = metric if metric in h else "dev_auto"  # records from before the headline
            dev = 100 * h[col] if col in h else np.full(len(h), np.nan)
            ax_dev.plot(h["epoch"], dev, ms=3, lw=1.2, **kw)
        ax_loss.set(xlabel="epoch", ylabel="train BCE loss", title=f"{ds}: training loss")
        ax_dev.set(
            xlabel="epoch",
            ylabel="dev headline micro-F1 (%)",
            title=f"{ds}: dev micro-F1, sigmoid > 0.5 (early-stopping score)",
        )
        seeds = sorted({c[1] for c in curves})
        handles = [
            plt.Line2D([], [], color=colour[m], marker=marker[m], ms=5, lw=2, label=m)
            for m in models_here
        ] + [
            plt.Line2D(
                [], [], color="black", ls=SEED_STYLES[s % len(SEED_STYLES)], label=f"seed {s}"
            )
            for s in seeds
        ]
        ax_dev.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _title(fig, "Training curves", profile)
    fig.tight_layout()
    return fig


def _plain_rows(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """Rows of ``method`` trained the default way: htclib's recipe with a random start, the whole
    training split, no contrastive stage. Other rows (P-tuning v2's recipe, a label-name start,
    the training-size curve, CL -> BCE) answer other questions; a bar or point averaging them in
    would answer none."""
    if df.empty:
        return df
    d = df[df.method == method]
    if "recipe" in d:
        d = d[d.recipe.fillna("htclib") == "htclib"]
    if "train_subset" in d:
        d = d[d.train_subset.isna()]
    if "contrastive" in d:
        d = d[d.contrastive.fillna("") == ""]
    return d.copy()


def _seed_points(ax, d: pd.DataFrame, x: str, y: str, order: list, colour=None) -> None:
    """Every seed a dot, each x's mean a bar: the spread stays in view (no bar from 0)."""
    pos = {k: i for i, k in enumerate(order)}
    for k, g in d.groupby(x, sort=False):
        if k not in pos:
            continue
        xs = pos[k] + np.linspace(-0.12, 0.12, len(g)) if len(g) > 1 else [pos[k]]
        ax.plot(xs, g[y], "o", ms=4, alpha=0.75, color=colour or "#1f77b4")
        ax.plot([pos[k] - 0.25, pos[k] + 0.25], [g[y].mean()] * 2, color="black", lw=1.8)


def f1_vs_prefix_length(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Global SPP against prefix length, one column of panels per data set (their F1 levels
    differ by 30 points: one axis would flatten each curve): every seed a dot, the mean joined
    by a line, and CLS-tuning's mean ± sd over its seeds as a band, the claim's reference
    ("SPP matches CLS-tuning"). Only the sweep's own rows: htclib's recipe, random start, whole
    training split, no contrastive stage."""
    d = _plain_rows(df, "spp")
    if d.empty:
        return no_data("Prefix length", profile, "No global SPP run yet.")
    cls = _plain_rows(df, "cls")
    d["P"] = d["prefix"].astype(int)
    datasets = sorted(d.dataset.unique())
    fig, axes = plt.subplots(2, len(datasets), figsize=(3.7 * len(datasets) + 0.6, 5.4),
                             squeeze=False)  # fmt: skip
    for j, ds in enumerate(datasets):
        dd = d[d.dataset == ds]
        for i, (col, name) in enumerate((("micro_f1", "Mi-F1"), ("macro_f1", "Ma-F1"))):
            ax = axes[i, j]
            c = cls[cls.dataset == ds][col] if not cls.empty else pd.Series(dtype=float)
            if len(c):
                m, sd = c.mean(), (c.std() if len(c) > 1 else 0.0)
                ax.axhspan(m - sd, m + sd, color=colour_of("cls"), alpha=0.2, lw=0,
                           label="CLS-tuning, mean ± sd over its seeds")  # fmt: skip
                ax.axhline(m, color=colour_of("cls"), lw=1, ls="--")
            spp = colour_of("spp 30")
            ax.plot(dd.P, dd[col], "o", ms=4, alpha=0.7, color=spp, label="SPP, one seed")
            means = dd.groupby("P")[col].mean()
            ax.plot(means.index, means.values, "-", color=spp, lw=1.8, label="SPP, mean")
            ax.set_xticks(sorted(dd.P.unique()))
            ax.set(
                xlabel="prefix length P" if i == 1 else "",
                ylabel=f"test {name} (%)" if j == 0 else "",
            )
            if i == 0:
                ax.set_title(ds, fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    _title(fig, "Global SPP against prefix length, CLS-tuning as the reference", profile)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def local_variants(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Local SPP: test F1 of each transfer variant at each lengths setting, one row of panels
    per data set (their label sets differ), every seed a dot and each mean a bar, on an axis
    that fits the runs (not from 0: the claims are about differences of 0.3 to 2 points; their
    intervals are in the claims figure). htclib's recipe, whole split, no contrastive stage."""
    d = _plain_rows(df, "local")
    if d.empty:
        other = (df.method == "local").sum() if not df.empty else 0
        return no_data(
            "Local SPP transfer variants",
            profile,
            "No local SPP run of htclib's recipe yet."
            + (
                f"\n({other} of other recipes, e.g. htclib-nodrop: in the tables.)" if other else ""
            ),
        )
    order = {"copy": 0, "transform": 1, "non": 2}  # the paper's claimed ranking, left to right
    colours = {v: colour_of(f"local {v}") for v in order}
    datasets = sorted(d.dataset.unique())
    fig, axes = plt.subplots(len(datasets), 2, figsize=(10, 2.7 * len(datasets) + 0.4),
                             squeeze=False)  # fmt: skip
    for row, ds in zip(axes, datasets, strict=True):
        dd = d[d.dataset == ds].copy()
        dd["run"] = [f"{v}\n{p}" for v, p in zip(dd.variant, dd.prefix, strict=True)]
        runs = sorted(
            dict.fromkeys(dd.run), key=lambda r: (r.split("\n")[1], order.get(r.split("\n")[0], 9))
        )
        for ax, col, name in ((row[0], "micro_f1", "Mi-F1"), (row[1], "macro_f1", "Ma-F1")):
            for r in runs:
                g = dd[dd.run == r]
                _seed_points(ax, g, "run", col, runs, colours.get(r.split("\n")[0]))
            ax.set_xticks(range(len(runs)))
            n = dd.groupby("run").size()
            ax.set_xticklabels([f"{r}\n({n[r]} seeds)" for r in runs], fontsize=7.5)
            ax.set(ylabel=f"test {name} (%)", title=f"{ds}: {name}")
            ax.title.set_fontsize(10)
    _title(fig, "Local SPP transfer variants: every seed, and the mean", profile)
    fig.tight_layout()
    return fig


def _cl_row_and_seed(name: str) -> tuple[str, str]:
    """A CL run's row and seed; a local model's level (``wos/local-copy-10-20-cl-simcse/s0 L2``)
    stays with its row, so its levels are two models of one seed, not one model of no seed."""
    base, _, level = name.partition(" ")
    row, seed = row_and_seed(base)
    return (f"{row} {level}" if level else row), seed


def contrastive_diagnostics(diag: dict, profile: str) -> plt.Figure:
    """Contrastive pre-training at a glance. Top row: the CL loss per data set (their losses
    differ in scale and steps), a colour per row (its CL lr), a line style per seed. Bottom row:
    alignment / uniformity before -> after CL for every run (a marker per data set), and a 2-D
    PCA of one run's [CLS] states before and after, named in its title."""
    if not diag:
        return no_data("Contrastive pre-training", profile, "No CL -> BCE run yet.")
    parts = {name: _cl_row_and_seed(name) for name in diag}
    datasets = list(dict.fromkeys(row.split("/")[0] for row, _ in parts.values()))
    models = list(dict.fromkeys(row.split("/", 1)[-1] for row, _ in parts.values()))
    seeds = sorted(dict.fromkeys(seed for _, seed in parts.values()))
    colour = {m: colour_of(m) for m in models}
    style_of = {seed: SEED_STYLES[i % len(SEED_STYLES)] for i, seed in enumerate(seeds)}
    marker_of = {ds: "osX^v"[i % 5] for i, ds in enumerate(datasets)}
    ncols = max(len(datasets), 2)
    fig = plt.figure(figsize=(4.6 * ncols, 8.2))
    grid = fig.add_gridspec(2, ncols * 2)
    loss_axes = [fig.add_subplot(grid[0, 2 * i : 2 * i + 2]) for i in range(len(datasets))]
    half = ncols  # the bottom row: two equal panels
    au_ax, pca_ax = fig.add_subplot(grid[1, :half]), fig.add_subplot(grid[1, half:])
    for name, d in diag.items():
        row, seed = parts[name]
        ds, model = row.split("/")[0], row.split("/", 1)[-1]
        ax = loss_axes[datasets.index(ds)]
        ax.plot(np.arange(1, len(d["loss"]) + 1), d["loss"], color=colour[model],
                linestyle=style_of[seed], lw=1.2)  # fmt: skip
        au_ax.scatter([d["before"]["uniformity"], d["after"]["uniformity"]],
                      [d["before"]["alignment"], d["after"]["alignment"]],
                      color=colour[model], marker=marker_of[ds], s=28)  # fmt: skip
        au_ax.annotate("", xy=(d["after"]["uniformity"], d["after"]["alignment"]),
                       xytext=(d["before"]["uniformity"], d["before"]["alignment"]),
                       arrowprops={"arrowstyle": "->", "color": colour[model], "lw": 0.8})  # fmt: skip
    for ax, ds in zip(loss_axes, datasets, strict=True):
        ax.set(xlabel="step", title=f"{ds}: CL pre-training loss")
        ax.title.set_fontsize(10)
    loss_axes[0].set_ylabel("contrastive loss")
    au_ax.set(xlabel="uniformity (lower = more spread)", ylabel="alignment (lower = closer views)",
              title="before -> after CL, every run")  # fmt: skip
    au_ax.title.set_fontsize(10)
    # one legend for the figure, under the loss row: rows by colour, seeds by line style, data
    # sets by marker (inside a panel it hid the curves)
    handles = [plt.Line2D([], [], color=c, lw=2, label=m) for m, c in colour.items()]
    handles += [plt.Line2D([], [], color="grey", ls=ls, label=s or "(no seed)")
                for s, ls in style_of.items()]  # fmt: skip
    handles += [plt.Line2D([], [], color="grey", marker=mk, ls="", label=ds)
                for ds, mk in marker_of.items()]  # fmt: skip
    fig.legend(handles=handles, fontsize=7, ncol=min(len(handles), 10), loc="center",
               bbox_to_anchor=(0.5, 0.505), frameon=False)  # fmt: skip
    # The PCA panel shows the first run that recorded one (global CL runs do; levels do not).
    name, first = next(((n, d) for n, d in diag.items() if "pca_before" in d), ("", None))
    for key, marker in (("pca_before", "o"), ("pca_after", "^")) if first else ():
        pts, lab = np.asarray(first[key]), np.asarray(first["pca_labels"])
        for c in np.unique(lab):
            pca_ax.scatter(pts[lab == c, 0], pts[lab == c, 1], s=8, marker=marker, alpha=0.6,
                           label=f"{c} ({'before' if key == 'pca_before' else 'after'})")  # fmt: skip
    # the panel names the run it shows: one run of many in the others
    pca_ax.set(title=f"PCA of [CLS]: {name} (colour: top-level label)" if first else "PCA of [CLS]",
               xlabel="PC1", ylabel="PC2")  # fmt: skip
    pca_ax.title.set_fontsize(10)
    if first:  # beside the panel: inside it covered points
        pca_ax.legend(fontsize=6, ncol=1, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        pca_ax.text(0.5, 0.5, "no PCA recorded", ha="center", va="center")
    _title(fig, "Contrastive pre-training", profile)
    fig.tight_layout(h_pad=3.5)
    return fig


def f1_vs_params(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Test micro-F1 against the trained-parameter share (log scale): one point per model, the
    mean over seeds, the legend outside the axes so it hides no point."""
    if df.empty or "params_pct" not in df or df.params_pct.isna().all():
        return no_data("Cost vs quality", profile, "No run with a trained-parameter share yet.")
    d = df[df.params_pct.notna()]
    if "train_subset" in d:
        d = d[d.train_subset.isna()]
    keys = ["dataset", "method", "variant", "prefix"] + [k for k in ("recipe",) if k in d]
    d = d.groupby(keys, as_index=False, dropna=False)[["params_pct", "micro_f1"]].mean()
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.scatterplot(
        data=d, x="params_pct", y="micro_f1", hue="method", style="dataset", s=70, ax=ax,
        alpha=0.8, palette={m: colour_of(m) for m in d.method.unique()},
    )  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: hides no point
    ax.set(
        xscale="log",
        xlabel="trained parameters (% of encoder + head)",
        ylabel="test micro-F1, headline (%)",
        title="F1 vs trainable-parameter share",
    )
    _title(fig, "Cost vs quality", profile)
    fig.tight_layout()
    return fig


LONG_TAIL_MODELS = ("cls", "spp", "local", "linear-probe")


def long_tail(per_label: pd.DataFrame, profile: str) -> plt.Figure:
    """Per-label test F1 against the label's training frequency: one row of panels per data
    set (labels of different sets are not comparable), one column per model (each chosen on
    dev within its data set), levels coloured."""
    if per_label.empty:
        return no_data("Long tail", profile, "No run with stored per-text predictions yet.")
    per_label = per_label.assign(base=per_label.model.str.split(" ").str[0])
    models = [m for m in LONG_TAIL_MODELS if m in set(per_label.base)] or list(
        dict.fromkeys(per_label.base)
    )[:4]
    datasets = sorted(per_label.dataset.unique())
    fig, axes = plt.subplots(len(datasets), len(models), figsize=(2.7 * len(models) + 0.8,
                             2.4 * len(datasets) + 0.6), sharey=True, squeeze=False)  # fmt: skip
    for i, ds in enumerate(datasets):
        for j, m in enumerate(models):
            ax = axes[i, j]
            d = per_label[(per_label.base == m) & (per_label.dataset == ds)]
            if d.empty:
                ax.text(0.5, 0.5, "no run", ha="center", transform=ax.transAxes, fontsize=8)
            else:
                if d.model.iloc[0] != m:  # the local variant chosen on dev
                    ax.text(0.02, 0.95, d.model.iloc[0], transform=ax.transAxes, fontsize=7,
                            va="top")  # fmt: skip
                ax.scatter(np.maximum(d["train_count"], 0.8), d["f1"], s=8, alpha=0.6,
                           c=d["level"], cmap="viridis", vmin=1, vmax=3,
                           rasterized=True)  # fmt: skip
            ax.set_xscale("log")
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(m, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{ds}\ntest F1 of a label", fontsize=8)
            if i == len(datasets) - 1:
                ax.set_xlabel("training texts of the label", fontsize=8)
    _title(fig, "Long tail: per-label F1 against frequency (colour: level 1 dark to 3 light)",
           profile)  # fmt: skip
    fig.tight_layout()
    return fig


def confusion_pairs(pairs: dict, profile: str, top: int = 10) -> plt.Figure:
    """The most frequent (gold -> predicted) level-2 confusions, one panel per data set, each of
    the model chosen on that data set's dev split: ``{dataset: (pairs frame, model name)}``."""
    # a gold label with no level-2 prediction at all is a miss, not a confusion: counted in
    # the panel's title, the bars are the labels mistaken for another
    missed = {ds: int(v[0].loc[v[0].pred == "(nothing)", "count"].sum()) for ds, v in pairs.items()}
    pairs = {ds: (v[0][v[0].pred != "(nothing)"], v[1]) for ds, v in pairs.items()}
    shown = {ds: v for ds, v in pairs.items() if not v[0].empty}
    if not shown:
        return no_data("Confusions", profile, "No level-2 confusions to show.")
    n = [min(top, len(v[0])) for v in shown.values()]
    fig, axes = plt.subplots(len(shown), 1, figsize=(8, 0.3 * sum(n) + 1.1 * len(shown)),
                             squeeze=False, gridspec_kw={"height_ratios": n})  # fmt: skip
    for ax, (ds, (d, model)) in zip(axes[:, 0], shown.items(), strict=True):
        d = d.head(top)
        ax.barh([f"{g}  ->  {p}" for g, p in zip(d.gold, d.pred, strict=True)][::-1],
                d["count"][::-1], color=sns.color_palette()[3])  # fmt: skip
        ax.tick_params(labelsize=7.5)
        ax.set_title(f"{ds}: {model} (chosen on dev); besides, {missed[ds]} gold labels got "
                     "no level-2 prediction at all", fontsize=9)  # fmt: skip
    axes[-1, 0].set_xlabel("test texts")
    _title(fig, "Most confused level-2 labels (gold -> predicted)", profile)
    fig.tight_layout()
    return fig


def training_size_curve(curve: pd.DataFrame, profile: str) -> plt.Figure:
    """Headline micro/macro-F1 against training-set size, one line per model, ± std bars."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, col, name in ((axes[0], "micro", "micro-F1"), (axes[1], "macro", "macro-F1")):
        for model, d in curve.groupby("model"):
            d = d.sort_values("n_train")
            ax.errorbar(
                d.n_train, d[col], yerr=d[f"{col}_sd"].fillna(0), marker="o", capsize=3, label=model
            )
        ax.set(
            xscale="log",
            xlabel="training texts (log scale)",
            ylabel=f"test {name}, headline (%)",
            title=f"{name} vs training-set size",
        )
        # ticks at the sizes trained, plain numbers (log-scale minor labels collide)
        ax.minorticks_off()
        ax.set_xticks(sorted(curve.n_train.unique()))
        ax.set_xticklabels([str(int(n)) for n in sorted(curve.n_train.unique())])
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    _title(
        fig,
        "How much data does each method need? (" + ", ".join(curve.dataset.unique()) + ")",
        profile,
    )
    fig.tight_layout()
    return fig


VERDICT_COLOURS = {"holds": "#2a9d4b", "reversed": "#c0392b"}  # anything else: grey


def claims_forest(claims: pd.DataFrame, profile: str) -> plt.Figure:
    """The claims table as one forest plot: a line per (claim, data set), Mi-F1 and Ma-F1 side
    by side, A - B with its method-level 95% interval, a line at 0, coloured by the verdict
    (hollow: holds per claim only, not at a 5% false discovery rate over the table); claims
    without runs on both sides are listed under it, not drawn."""
    tested = claims[claims["metric"].fillna("").astype(bool)] if not claims.empty else claims
    if tested.empty:
        return no_data("The paper's claims", profile, "No claim has runs on both sides yet.")
    rows = list(dict.fromkeys(zip(tested.dataset, tested.claim, strict=True)))
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.4 + 0.3 * len(rows)), sharey=True)
    y = {r: len(rows) - 1 - i for i, r in enumerate(rows)}
    # the axis fits the comparisons the claims are about (a few points); a far larger one (SPP
    # against the linear probe: 10-50 points) is marked at the edge with its value
    near = tested[tested["diff"].abs() <= 10]
    near = near if len(near) else tested  # every effect large: show them all
    bounds = pd.concat([near.ci_low.abs(), near.ci_high.abs(), near["diff"].abs()]).dropna()
    lim = float(bounds.max()) * 1.05 + 0.5 if len(bounds) else 5.0
    for ax, metric in zip(axes, ("Mi-F1", "Ma-F1"), strict=True):
        d = tested[tested.metric == metric]
        for _, r in d.iterrows():
            yi = y[(r.dataset, r.claim)]
            c = VERDICT_COLOURS.get(r.verdict, "#7f7f7f")
            lo, hi = float(r.ci_low), float(r.ci_high)
            if abs(float(r["diff"])) > lim:
                side = np.sign(float(r["diff"]))
                ax.annotate(f"{float(r['diff']):+.1f} [{lo:.1f}, {hi:.1f}] →"
                            if side > 0 else f"← {float(r['diff']):+.1f} [{lo:.1f}, {hi:.1f}]",
                            (side * lim, yi), ha="right" if side > 0 else "left", va="center",
                            fontsize=7.5, color=c)  # fmt: skip
                continue
            if np.isfinite(lo):
                ax.plot([lo, hi], [yi, yi], color=c, lw=2.2, solid_capstyle="butt")
                # an interval running past the axis says where it ends (never cut silently)
                for end, edge in ((lo, -lim), (hi, lim)):
                    if abs(end) > lim and np.sign(end) == np.sign(edge):
                        ax.annotate(f"{end:.1f} →" if edge > 0 else f"← {end:.1f}", (edge, yi),
                                    xytext=(0, 4), textcoords="offset points", fontsize=7,
                                    ha="right" if edge > 0 else "left", va="bottom", color=c)  # fmt: skip
                kept = r.verdict == r["at 5% FDR"]
                ax.plot(float(r["diff"]), yi, "o", color=c, ms=5, mfc=c if kept else "white",
                        mew=1.5)  # fmt: skip
            else:  # not testable (a side trained once): the difference alone, a cross
                ax.plot(float(r["diff"]), yi, "x", color=c, ms=5)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlim(-lim, lim)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("A − B, headline F1 points")
        for k in range(1, len(rows)):  # a rule between claims
            if rows[k][1] != rows[k - 1][1]:
                ax.axhline(len(rows) - k - 0.5, color="#999999", lw=0.6)
    axes[0].set_yticks(list(y.values()))
    axes[0].set_yticklabels([_wrap(f"{ds}: {c}", 62) for ds, c in y], fontsize=7.5)
    axes[0].set_ylim(-0.6, len(rows) - 0.4)
    note = (
        "green: holds, red: reversed, grey: not resolved; hollow: not at a 5% FDR; x: not testable"
    )
    untested = claims[~claims["metric"].fillna("").astype(bool)]
    if len(untested):
        note += f"\nwithout runs on both sides: {len(untested)} claim(s) (in results.md)"
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=8)
    _title(
        fig, "The paper's claims: A − B over training runs and test texts, 95% interval", profile
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def claim_figure(claims: pd.DataFrame, profile: str, title: str) -> plt.Figure:
    """One figure for a notebook's claims, made to show each difference: per row (claim, data
    set), each metric gets two panels. Left: every training run's test F1 (a dot per seed in
    each side's model colour, :mod:`htclib.lab.colours`) with each method's mean (a bar), so the seed spread is in view. Right:
    A - B with its method-level 95% interval (over seeds and test texts), coloured by the
    verdict, on a grey band of +- the minimum detectable effect: a true difference inside the
    band could hide from these runs."""
    import json

    tested = claims[claims["metric"].fillna("").astype(bool)] if not claims.empty else claims
    if tested.empty:
        return no_data(title, profile, "No claim here has runs on both sides yet.")
    rows = list(dict.fromkeys(zip(tested.claim, tested.dataset, strict=True)))
    fig, axes = plt.subplots(
        len(rows), 4, figsize=(11, 0.9 + 0.62 * len(rows)), squeeze=False,
        gridspec_kw={"width_ratios": [1, 1.25, 1, 1.25]},
    )  # fmt: skip
    for i, (claim, ds) in enumerate(rows):
        for j, metric in enumerate(("Mi-F1", "Ma-F1")):
            sel = tested[
                (tested.claim == claim) & (tested.dataset == ds) & (tested.metric == metric)
            ]
            ax_s, ax_d = axes[i, 2 * j], axes[i, 2 * j + 1]
            if sel.empty:
                ax_s.axis("off")
                ax_d.axis("off")
                continue
            r = sel.iloc[0]
            a_col, b_col = colour_of(r["A"]), colour_of(r["B"])
            if a_col == b_col:  # two variants no shade tells apart: the sides' own colours
                a_col, b_col = "#1f77b4", "#ff7f0e"
            for y, col, key in ((1, a_col, "scores_a"), (0, b_col, "scores_b")):
                sc = json.loads(r[key]) if isinstance(r[key], str) else []
                ax_s.plot(sc, [y] * len(sc), "o", color=col, ms=4, alpha=0.8)
                if sc:
                    ax_s.plot([np.mean(sc)] * 2, [y - 0.3, y + 0.3], color=col, lw=2)
            ax_s.set_yticks([1, 0])
            ax_s.set_yticklabels(["A", "B"], fontsize=8)
            ax_s.set_ylim(-0.6, 1.6)
            ax_s.tick_params(axis="x", labelsize=7)
            diff, lo, hi = float(r["diff"]), float(r["ci_low"]), float(r["ci_high"])
            c = VERDICT_COLOURS.get(r["verdict"], "#7f7f7f")
            if np.isfinite(lo):
                mde = float(r["mde"])
                ax_d.axvspan(-mde, mde, color="#dddddd", lw=0)
                ax_d.plot([lo, hi], [0, 0], color=c, lw=2.4, solid_capstyle="butt")
            ax_d.plot(diff, 0, "o", color=c, ms=6)
            ax_d.axvline(0, color="black", lw=0.8)
            ax_d.set_yticks([])
            ax_d.set_ylim(-1, 1)
            ax_d.tick_params(axis="x", labelsize=7)
            verdict = r["verdict"] if np.isfinite(lo) else "not testable"
            ax_d.set_title(f"{verdict}, p {r['p'] or '–'}", fontsize=7.5, color=c, pad=2)
            if i == 0:
                ax_s.set_title(f"{metric}: per seed", fontsize=9)
        r0 = tested[(tested.claim == claim) & (tested.dataset == ds)].iloc[0]
        label = _wrap(f"{ds}: {claim}", 34) + "\n" + _wrap(f"A = {r0['A']}, B = {r0['B']}", 34)
        axes[i, 0].set_ylabel(label, fontsize=7.5, rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlabel("test F1 (%)", fontsize=8)
    axes[-1, 2].set_xlabel("test F1 (%)", fontsize=8)
    axes[-1, 1].set_xlabel("A − B (points)", fontsize=8)
    axes[-1, 3].set_xlabel("A − B (points)", fontsize=8)
    _title(fig, title, profile)
    fig.tight_layout()
    return fig


PEFT_FIGURE_METHODS = ("spp", "lora", "ia3", "prompt", "bitfit", "adapter", "peft", "cls")


def f1_vs_share(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Parameter-efficient methods: test Mi-F1 and Ma-F1 against the trained-parameter share
    (log scale), one panel pair per data set, every seed a dot in its model's colour and the
    mean a larger mark; the deep prefix's rows (htclib's recipe, no CL) and CLS-tuning as the
    references. Pass the rows' own runs (a learning-rate search's other runs belong in its
    table, not here)."""
    if df.empty:
        return no_data("PEFT methods", profile, "No run yet.")
    d = df[df.method.isin(PEFT_FIGURE_METHODS)].copy()
    if "train_subset" in d:
        d = d[d.train_subset.isna()]
    if "contrastive" in d:
        d = d[d.contrastive.fillna("") == ""]
    if "recipe" in d:
        d = d[d.recipe.fillna("htclib").isin(["htclib", ""]) | ~d.method.isin(["spp", "cls"])]
    d["label"] = [
        _peft_label(m, p, z)
        for m, p, z in zip(d.method, d.prefix, d.get("peft_size", [None] * len(d)), strict=True)
    ]
    others = d[~d.method.isin(["spp", "cls", "peft"])]
    if others.empty:
        return no_data(
            "PEFT methods", profile,
            "No run of LoRA, IA3, prompt tuning, BitFit or adapters yet\n"
            "(their learning-rate search comes first).",
        )  # fmt: skip
    datasets = sorted(others.dataset.unique())
    fig, axes = plt.subplots(len(datasets), 2, figsize=(10, 3.2 * len(datasets) + 0.5),
                             squeeze=False)  # fmt: skip
    for row_axes, ds in zip(axes, datasets, strict=True):
        dd = d[d.dataset == ds]
        for ax, col, name in (
            (row_axes[0], "micro_f1", "Mi-F1"),
            (row_axes[1], "macro_f1", "Ma-F1"),
        ):
            for label, g in dd.groupby("label", sort=True):
                c = colour_of(str(label))
                ax.plot(g.params_pct, g[col], "o", ms=4, alpha=0.6, color=c)
                ax.plot(g.params_pct.mean(), g[col].mean(), "D", ms=8, color=c, mec="black",
                        label=f"{label} ({len(g)})")  # fmt: skip
            ax.set(xscale="log", xlabel="trained parameters (% of encoder + head)",
                   ylabel=f"test {name} (%)", title=f"{ds}: {name}")  # fmt: skip
            ax.title.set_fontsize(10)
        row_axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _title(fig, "Parameter-efficient methods: F1 against the trained share (seeds in brackets)",
           profile)  # fmt: skip
    fig.tight_layout()
    return fig


def _peft_label(method: str, prefix, size) -> str:
    """``lora r15``, ``adapter w29``, ``prompt 30``, ``spp 30``, ``ia3``, ``cls``: the names the
    claims and tables give these rows, so a figure's legend reads as its table."""
    from ..method.peft_methods import DEFAULT_ADAPTER_SIZE, DEFAULT_LORA_RANK

    size = None if size is None or (isinstance(size, float) and np.isnan(size)) else int(size)
    if method in ("lora", "adapter"):
        default = DEFAULT_LORA_RANK if method == "lora" else DEFAULT_ADAPTER_SIZE
        return f"{method} {size_tag(method, size or default)}"
    if method in ("prompt", "spp", "peft"):
        return f"{method} {prefix}"
    return method
