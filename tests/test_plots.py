"""Figure helpers whose layout choices a reader depends on."""

import matplotlib

matplotlib.use("Agg")

from matplotlib.colors import to_hex  # noqa: E402

from htclib.lab import plots  # noqa: E402


def _diag(losses):
    return {
        "loss": losses,
        "before": {"uniformity": -1.0, "alignment": 0.2},
        "after": {"uniformity": -1.5, "alignment": 0.25},
    }


def test_cl_loss_curves_colour_by_row_and_style_by_seed():
    rows = ("wos/spp-P30-cl-simcse", "wos/spp-P30-cl-simcse-lr0.01")
    diag = {f"{row}/s{s}": _diag([3.0, 2.0, 1.0]) for row in rows for s in (0, 1)}
    fig = plots.contrastive_diagnostics(diag, "test")
    lines = fig.axes[0].get_lines()
    colour = [to_hex(line.get_color()) for line in lines]
    style = [line.get_linestyle() for line in lines]
    # wos/a s0, wos/a s1, wos/b s0, wos/b s1
    assert colour[0] == colour[1] != colour[2] == colour[3]
    assert style[0] == style[2] != style[1] == style[3]
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert labels == ["spp-P30-cl-simcse", "spp-P30-cl-simcse-lr0.01", "s0", "s1", "wos"]


def test_cl_figure_gives_each_data_set_its_loss_panel_and_names_the_pca_run():
    diag = {f"{ds}/spp-P30-cl-simcse/s{s}": _diag([3.0, 2.0]) for ds in ("wos", "dbpedia")
            for s in range(5)}  # fmt: skip
    diag["dbpedia/spp-P30-cl-simcse/s1"].update(
        pca_before=[[0, 0], [1, 1]], pca_after=[[0, 1], [1, 0]], pca_labels=["a", "b"]
    )
    fig = plots.contrastive_diagnostics(diag, "test")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["wos: CL pre-training loss", "dbpedia: CL pre-training loss"]
    assert "PCA of [CLS]: dbpedia/spp-P30-cl-simcse/s1 (colour: top-level label)" in titles
    # a local model's levels are its own models, with their seed
    assert plots._cl_row_and_seed("wos/local-copy-10-20-cl-simcse/s0 L2") == (
        "wos/local-copy-10-20-cl-simcse L2",
        "s0",
    )
    # five seeds, five line styles (s4 no longer drawn as s0)
    styles = [str(ln._unscaled_dash_pattern) for ln in fig.axes[0].get_lines()]
    assert len(set(styles)) == 5


def test_a_model_has_one_colour_in_every_figure_and_variants_differ():
    from htclib.lab.colours import colour_of, family

    # the same model as a run name, a run row, a claim side and a method
    assert colour_of("wos/spp-P30/s0") == colour_of("spp-P30") == colour_of("spp 30")
    assert colour_of("spp+cl 30 CL lr 0.001") == colour_of("amazon3/spp-P30-cl-simcse/s2")
    assert colour_of("local copy 10/30") == colour_of("local-copy-10-30")
    assert family("wos/local-copy-10-20-cl-simcse L2") == "local-copy"
    models = ["cls", "spp-P5", "spp-P10", "spp-P20", "spp-P30", "spp-P40", "spp-P30-nodrop",
              "spp-P30-ptv2", "spp-P30-cl-simcse", "spp-P30-cl-simcse-lr0.01", "peft-P30",
              "local-copy-10-20", "local-transform-10-20", "local-non-10-20",
              "local-copy-10-30", "linear-probe"]  # fmt: skip
    assert len({colour_of(m) for m in models}) == len(models)
    # the PEFT figure's labels (``spp P10``, ``prompt P30``) and the claim sides' (``spp 10``,
    # ``prompt 30``) name one model each: one colour
    assert (
        colour_of("spp P10") == colour_of("spp 10") == colour_of("spp-P10") != colour_of("spp 30")
    )
    assert colour_of("prompt P30") == colour_of("prompt 30") == colour_of("wos/prompt-P30/s0")
    # the shared top level of the local variants is none of them (it had copy 10/30's shade)
    local = [colour_of(f"local-{v}-{ls} L2") for v in ("copy", "transform", "non")
             for ls in ("10-20", "10-30", "10-20-30")]  # fmt: skip
    assert colour_of("local L1 (shared)") not in local
    # not merely another hex: far from every variant's shade (it had #1b9e77 beside #19936e)
    from matplotlib.colors import to_rgb

    shared = to_rgb(colour_of("local L1 (shared)"))
    assert (
        min(sum((a - b) ** 2 for a, b in zip(shared, to_rgb(c), strict=True)) for c in local) > 0.05
    )
    # a model of no known family never borrows a family's colour
    from htclib.lab.colours import FAMILY_COLOURS, OTHER

    assert not set(OTHER) & set(FAMILY_COLOURS.values())


def test_f1_vs_share_draws_each_row_in_its_colour_with_its_seeds():
    import pandas as pd

    from htclib.lab.colours import colour_of

    rows = [("spp", "30", None, 0.85), ("lora", "-", 15, 0.85), ("lora", "-", 8, 0.56),
            ("prompt", "30", None, 0.29), ("cls", "-", None, 100.0)]  # fmt: skip
    df = pd.DataFrame(
        [
            {
                "dataset": "wos",
                "method": m,
                "prefix": p,
                "peft_size": z,
                "params_pct": s,
                "micro_f1": 55 + i + 0.1 * seed,
                "macro_f1": 20 + i,
                "seed": seed,
                "train_subset": None,
                "contrastive": "",
                "recipe": "htclib",
            }  # fmt: skip
            for i, (m, p, z, s) in enumerate(rows)
            for seed in range(3)
        ]
    )
    fig = plots.f1_vs_share(df, "test")
    ax = fig.axes[0]
    means = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    labels = sorted(ln.get_label() for ln in means)
    assert labels == sorted(
        ["cls (3)", "lora r15 (3)", "lora r8 (3)", "prompt 30 (3)", "spp 30 (3)"]
    )
    for ln in means:
        assert to_hex(ln.get_color()) == colour_of(ln.get_label().rsplit(" (", 1)[0])
    assert plots.f1_vs_share(df[df.method.isin(["spp", "cls"])], "test").axes[0].texts  # no data


def test_prefix_length_curve_draws_cls_tuning_band_inside_its_axis():
    import pandas as pd

    rows = [("spp", p, 72.0 + p / 20 + 0.2 * s) for p in (10, 30) for s in range(3)]
    rows += [("cls", "-", 76.0 + 0.5 * s) for s in range(3)]  # 3 points above every SPP dot
    df = pd.DataFrame(
        [
            {
                "dataset": "amazon3",
                "method": m,
                "prefix": p,
                "micro_f1": f,
                "macro_f1": f - 40,
                "train_subset": None,
                "contrastive": "",
                "recipe": "htclib",
            }  # fmt: skip
            for m, p, f in rows
        ]
    )
    fig = plots.f1_vs_prefix_length(df, "test")
    ax = fig.axes[0]
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "CLS-tuning, mean ± sd over its seeds" in labels
    low, high = ax.get_ylim()
    assert low <= 76.5 - 0.5 and high >= 76.5 + 0.5  # the band is seen, not cut off by the axis
    # without CLS-tuning records the curve still draws, with no band
    fig = plots.f1_vs_prefix_length(df[df.method == "spp"], "test")
    assert not any("CLS" in t.get_text() for leg in fig.legends for t in leg.get_texts())
