"""Figures. Each function returns a matplotlib ``Figure``; notebooks save them with stable names.

Every figure names the profile it was made on in its title, because a smoke-run figure and a
cpu-profile figure look alike and mean very different things.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .results import row_and_seed

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


SEED_STYLES = ["-", "--", ":", "-."]


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
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.6 * len(datasets)), squeeze=False)
    for (ax_loss, ax_dev), ds in zip(axes, datasets, strict=True):
        curves = []  # (model label, seed, history of one model / level)
        for r in (r for r in runs if r.get("dataset", "?") == ds):
            h = pd.DataFrame(r["history"])
            model = _curve_model(r.get("name", "run"))
            if "level" in h:
                curves += [(f"{model} L{lv}", r.get("seed", 0), g) for lv, g in h.groupby("level")]
            else:
                curves.append((model, r.get("seed", 0), h))
        models = list(dict.fromkeys(c[0] for c in curves))
        palette = sns.color_palette("tab10" if len(models) <= 10 else "tab20", len(models))
        colour = dict(zip(models, palette, strict=True))
        for model, seed, h in curves:
            kw = {"color": colour[model], "ls": SEED_STYLES[seed % len(SEED_STYLES)]}
            ax_loss.plot(h["epoch"], h["train_loss"], marker="o", ms=3, lw=1.2, **kw)
            col = metric if metric in h else "dev_auto"  # records from before the headline
            dev = 100 * h[col] if col in h else np.full(len(h), np.nan)
            ax_dev.plot(h["epoch"], dev, marker="o", ms=3, lw=1.2, **kw)
        ax_loss.set(xlabel="epoch", ylabel="train BCE loss", title=f"{ds}: training loss")
        ax_dev.set(
            xlabel="epoch",
            ylabel="dev headline micro-F1 (%)",
            title=f"{ds}: dev micro-F1, sigmoid > 0.5 (early-stopping score)",
        )
        seeds = sorted({c[1] for c in curves})
        handles = [plt.Line2D([], [], color=colour[m], lw=2, label=m) for m in models] + [
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


def f1_vs_prefix_length(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Global SPP: micro/macro-F1 against prefix length, one line per data set, mean ± sd over
    seeds. Only the length sweep's own rows: htclib's recipe, random start, whole training split,
    no contrastive stage (other rows at the same P answer other questions and would be averaged
    into its point)."""
    d = _plain_rows(df, "spp")
    if d.empty:
        return no_data("Prefix length", profile, "No global SPP run yet.")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    d["P"] = d["prefix"].astype(int)
    for ax, col, name in ((axes[0], "micro_f1", "micro-F1"), (axes[1], "macro_f1", "macro-F1")):
        sns.lineplot(data=d, x="P", y=col, hue="dataset", marker="o", ax=ax, errorbar="sd")
        ax.set(
            xlabel="prefix length P",
            ylabel=f"test {name}, headline (%)",
            title=f"global SPP: {name} vs P",
        )
    # one legend, outside the axes: inside, it hid the dbpedia line
    if axes[0].get_legend() is not None:
        axes[0].get_legend().remove()
    axes[1].legend(
        title="dataset", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    _title(fig, "Prefix length", profile)
    fig.tight_layout()
    return fig


def local_variants(df: pd.DataFrame, profile: str) -> plt.Figure:
    """Local SPP: overall micro/macro-F1 per transfer variant, and per-level micro-F1 (the
    whole training split, htclib's recipe, no contrastive stage). One row of panels per data set
    (their label sets differ: a bar averaging them would answer nothing); bars are the mean over
    seeds, whiskers ± sd, and each x label says how many seeds it has."""
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
    datasets = sorted(d.dataset.unique())
    fig, axes = plt.subplots(len(datasets), 2, figsize=(12, 3.9 * len(datasets)), squeeze=False)
    for row, ds in zip(axes, datasets, strict=True):
        dd = d[d.dataset == ds]
        dd = dd.assign(_order=dd.variant.map(order).fillna(len(order)))
        dd = dd.sort_values(["prefix", "_order", "variant"])
        n = dd.groupby(["variant", "prefix"]).size()
        dd["run"] = [
            f"{v} {p}\n({n[(v, p)]} seed{'s' if n[(v, p)] > 1 else ''})"
            for v, p in zip(dd.variant, dd.prefix, strict=True)
        ]
        runs = list(dict.fromkeys(dd.run))  # lengths, then the claimed ranking
        long = dd.melt(
            id_vars=["run"], value_vars=["micro_f1", "macro_f1"], var_name="metric", value_name="F1"
        )
        sns.barplot(
            data=long, x="run", y="F1", hue="metric", order=runs, ax=row[0], errorbar="sd",
            capsize=0.15, err_kws={"linewidth": 1},
        )  # fmt: skip
        row[0].set(xlabel="", ylabel="test F1, headline (%)", title=f"{ds}: overall (all labels)")
        row[0].tick_params(axis="x", labelsize=8)
        # headroom above the bars for a one-row legend, so it hides none of them
        row[0].set_ylim(0, 1.3 * max(long["F1"].max(), 1))
        row[0].legend(fontsize=8, ncol=2, loc="upper center")
        lv_cols = [c for c in dd.columns if c.startswith("L") and c.endswith("_micro_f1")]
        lv = dd.melt(
            id_vars=["run"], value_vars=lv_cols, var_name="level", value_name="F1"
        ).dropna()
        lv["level"] = lv["level"].str.replace("_micro_f1", "")
        lv["run"] = lv["run"].str.replace("\n", " ")
        sns.barplot(
            data=lv, x="level", y="F1", hue="run", ax=row[1], errorbar="sd",
            hue_order=[r.replace("\n", " ") for r in runs], capsize=0.1,
            err_kws={"linewidth": 1},
        )  # fmt: skip
        row[1].set(ylabel="test micro-F1, headline (%)", title=f"{ds}: per level")
        row[1].set_ylim(0, 1.3 * max(lv["F1"].max() if not lv.empty else 0, 1))
        row[1].legend(fontsize=7, ncol=3, loc="upper center")
    _title(fig, "Local SPP transfer variants (mean ± sd over seeds)", profile)
    fig.tight_layout()
    return fig


def contrastive_diagnostics(diag: dict, profile: str) -> plt.Figure:
    """Loss curve, alignment/uniformity before and after CL, and a 2-D PCA of [CLS] embeddings."""
    if not diag:
        return no_data("Contrastive pre-training", profile, "No CL -> BCE run yet.")
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    # One colour per row (the name without its "/s<seed>"), one line style per seed: with three
    # seeds of several rows, one colour per run repeats the palette and no line can be told apart.
    parts = {name: row_and_seed(name) for name in diag}
    rows = list(dict.fromkeys(row for row, _ in parts.values()))
    seeds = list(dict.fromkeys(seed for _, seed in parts.values()))
    colour_of = dict(
        zip(
            rows, sns.color_palette("tab10" if len(rows) <= 10 else "tab20", len(rows)), strict=True
        )
    )
    style_of = {seed: ["-", "--", ":", "-."][i % 4] for i, seed in enumerate(seeds)}
    for name, d in diag.items():
        row, seed = parts[name]
        colour = colour_of[row]
        axes[0].plot(
            np.arange(1, len(d["loss"]) + 1), d["loss"], color=colour, linestyle=style_of[seed]
        )
        axes[1].scatter(
            [d["before"]["uniformity"], d["after"]["uniformity"]],
            [d["before"]["alignment"], d["after"]["alignment"]],
            color=colour,
        )
        axes[1].annotate(
            "",
            xy=(d["after"]["uniformity"], d["after"]["alignment"]),
            xytext=(d["before"]["uniformity"], d["before"]["alignment"]),
            arrowprops={"arrowstyle": "->", "color": "black"},
        )
    axes[0].set(xlabel="step", ylabel="contrastive loss", title="CL pre-training loss")
    # Below the figure, rows by colour and seeds by line style: inside the loss panel the legend
    # hid the curves.
    rows_legend = fig.legend(
        handles=[plt.Line2D([], [], color=c, label=r) for r, c in colour_of.items()],
        fontsize=7,
        ncol=3,
        loc="upper left",
        bbox_to_anchor=(0.02, 0.0),
    )
    fig.add_artist(rows_legend)
    fig.legend(
        handles=[
            plt.Line2D([], [], color="grey", linestyle=ls, label=s or "(no seed)")
            for s, ls in style_of.items()
        ],
        fontsize=7,
        title="seed",
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(0.62, 0.0),
    )
    axes[1].set(
        xlabel="uniformity (lower = more spread)",
        ylabel="alignment (lower = closer views)",
        title="before -> after CL",
    )
    # The PCA panel shows the first run that recorded one (global CL runs do; levels do not).
    first = next((d for d in diag.values() if "pca_before" in d), None)
    for key, marker in (("pca_before", "o"), ("pca_after", "^")) if first else ():
        pts, lab = np.asarray(first[key]), np.asarray(first["pca_labels"])
        for c in np.unique(lab):
            axes[2].scatter(
                pts[lab == c, 0],
                pts[lab == c, 1],
                s=8,
                marker=marker,
                alpha=0.6,
                label=f"{c} ({'before' if key == 'pca_before' else 'after'})",
            )
    axes[2].set(title="PCA of [CLS] (top-level colour)", xlabel="PC1", ylabel="PC2")
    if first:
        axes[2].legend(fontsize=6, ncol=2)
    else:
        axes[2].text(0.5, 0.5, "no PCA recorded", ha="center", va="center")
    _title(fig, "Contrastive pre-training", profile)
    fig.tight_layout()
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
        alpha=0.8,
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


def long_tail(per_label: pd.DataFrame, profile: str) -> plt.Figure:
    """Per-label test F1 against training frequency, one panel per model."""
    if per_label.empty:
        return no_data("Long tail", profile, "No run with stored per-text predictions yet.")
    models = per_label["model"].unique()
    fig, axes = plt.subplots(
        1, len(models), figsize=(4 * len(models), 3.6), sharey=True, squeeze=False
    )
    for ax, m in zip(axes[0], models, strict=True):
        d = per_label[per_label.model == m]
        ax.scatter(
            np.maximum(d["train_count"], 0.8),
            d["f1"],
            s=10,
            alpha=0.6,
            c=d["level"],
            cmap="viridis",
            rasterized=True,  # one SVG element per label and model made the SVG over 1 MB
        )
        ax.set(xscale="log", xlabel="train examples of the label", title=m)
    axes[0, 0].set_ylabel("test F1 of the label")
    _title(fig, "Long tail: per-label F1 vs frequency", profile)
    fig.tight_layout()
    return fig


def confusion_pairs(pairs: pd.DataFrame, profile: str, top: int = 15) -> plt.Figure:
    """The most frequent (gold -> predicted) confusions among level-2 labels."""
    d = pairs.head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.2))
    ax.barh(
        [f"{g}  ->  {p}" for g, p in zip(d.gold, d.pred, strict=True)][::-1],
        d["count"][::-1],
        color=sns.color_palette()[3],
    )
    ax.set(xlabel="test texts", title="most confused level-2 labels (gold -> predicted)")
    _title(fig, "Confusions", profile)
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
    """The claims table as a forest plot: per data set, A - B with its 95% interval for each
    claim and metric, a line at 0, coloured by the verdict, p at the right; claims without
    runs on both sides are counted under the panel, not drawn."""
    from .claims import format_p

    tested = claims[claims["metric"].fillna("").astype(bool)] if not claims.empty else claims
    if tested.empty:
        return no_data("The paper's claims", profile, "No claim has runs on both sides yet.")
    datasets = list(dict.fromkeys(tested.dataset))
    heights = [len(tested[tested.dataset == d]) for d in datasets]
    fig, axes = plt.subplots(
        len(datasets), 1, figsize=(10, 1.2 + 0.42 * sum(heights) + 0.6 * len(datasets)),
        squeeze=False, gridspec_kw={"height_ratios": heights},
    )  # fmt: skip
    for ax, ds in zip(axes[:, 0], datasets, strict=True):
        d = tested[tested.dataset == ds].reset_index(drop=True)
        y = np.arange(len(d))[::-1]
        diff = d["A - B"].astype(float).to_numpy()
        low, high = d.ci_low.astype(float).to_numpy(), d.ci_high.astype(float).to_numpy()
        colours = [VERDICT_COLOURS.get(v, "#7f7f7f") for v in d.verdict]
        # a verdict the table's false-discovery control keeps: filled dot; one it does not
        # (p < 0.05 on its own, not once ~30 tests are counted): hollow
        kept = [v == f for v, f in zip(d.verdict, d["at 5% FDR"], strict=True)]
        for yi, x, lo, hi, c, k in zip(y, diff, low, high, colours, kept, strict=True):
            ax.plot([lo, hi], [yi, yi], color=c, lw=2.2, solid_capstyle="butt")
            ax.plot(x, yi, "o", color=c, ms=6, mfc=c if k else "white", mew=1.6)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(
            [_wrap(f"{c} ({m})", 58) for c, m in zip(d.claim, d.metric, strict=True)], fontsize=8
        )
        ax.set_ylim(-0.6, len(d) - 0.4)
        p_bh = d.p_bh.astype(float)
        for yi, p, b, s in zip(y, d.p_value.astype(float), p_bh, d["seeds A/B"], strict=True):
            ax.annotate(f"p {format_p(p)} (BH {format_p(b)}), seeds {s}", (1.01, yi),
                        xycoords=("axes fraction", "data"), va="center", fontsize=7.5)  # fmt: skip
        missing = (claims.dataset == ds).sum() - len(d)
        note = f"  ({missing} claim(s) without runs on both sides)" if missing else ""
        ax.set_title(f"{ds}: A − B, 95% interval{note}", fontsize=10)
    xlabel = (
        "A − B, headline F1 points (green: holds, red: reversed, grey: not resolved;\n"
        "hollow: p < 0.05 alone, not at a 5% false discovery rate over the table)"
    )
    untested = [d for d in dict.fromkeys(claims.dataset) if d not in datasets]
    if untested:  # a data set whose claims all lack a side: say so rather than drop it
        xlabel += "\nno claim with runs on both sides yet: " + ", ".join(untested)
    axes[-1, 0].set_xlabel(xlabel)
    _title(fig, "The paper's claims", profile)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
