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
    diag = {f"{row}/s{s}": _diag([3.0, 2.0, 1.0]) for row in ("wos/a", "wos/b") for s in (0, 1)}
    fig = plots.contrastive_diagnostics(diag, "test")
    lines = fig.axes[0].get_lines()
    colour = [to_hex(line.get_color()) for line in lines]
    style = [line.get_linestyle() for line in lines]
    # wos/a s0, wos/a s1, wos/b s0, wos/b s1
    assert colour[0] == colour[1] != colour[2] == colour[3]
    assert style[0] == style[2] != style[1] == style[3]
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert labels == ["wos/a", "wos/b", "s0", "s1"]
