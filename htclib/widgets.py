"""Prefix-length explorer: an ipywidgets instrument over stored global-SPP runs.

Left: headline F1 (all labels or one level) against the prefix length P from the stored
runs, mean ± std over seeds, the selected P marked. Right: the selected run's training
curve. Below: paste a text and see the label path the selected prefix predicts, with the
probability of each label on it; train a P that is missing (smoke slice, a text progress
bar). The callbacks are plain methods that pytest drives headless; ``plot_data`` holds what
the plots show, so tests check the plot without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
import numpy as np

from .results import decoding_for, load_records, recipe_label


class PrefixLengthExplorer:
    """Slider for P (5..40), data set and level selectors, live plots, prediction, training.

    ``train_fn(dataset, length)`` trains one global SPP and returns its result record; the
    default trains on the smoke slice (:func:`smoke_trainer`).
    """

    def __init__(
        self,
        results_dir: str | Path,
        datasets: list[str],
        profile: str = "smoke",
        train_fn: Callable[[str, int], dict] | None = None,
    ):
        if not datasets:
            raise ValueError("PrefixLengthExplorer needs at least one data set")
        self.results_dir = Path(results_dir)
        self.profile = profile
        # On-demand runs use the smoke slice; they go to the smoke results, never into another
        # profile's table, and the panel reads both.
        self.smoke_dir = self.results_dir.parent / "smoke"
        self.train_fn = train_fn or smoke_trainer(self.smoke_dir)
        narrow = w.Layout(width="260px")
        self.slider = w.IntSlider(
            value=20, min=5, max=40, step=5, description="prefix P", layout=narrow
        )
        self.dataset = w.Dropdown(options=list(datasets), description="data set", layout=narrow)
        self.level = w.Dropdown(options=["all labels"], description="level", layout=narrow)
        self.button = w.Button(
            description="train P (smoke)",
            icon="play",
            tooltip="train global SPP with this P on the smoke slice",
            layout=w.Layout(width="160px"),
        )
        self.view = w.HTML()
        # Image widgets, not Output widgets: a plot is widget state (bytes), so nothing is
        # captured from the kernel's output stream (papermill/nbclient can hang on that).
        self.plot = w.Image(format="png", layout=w.Layout(width="49%"))
        self.curve = w.Image(format="png", layout=w.Layout(width="49%"))
        self.text = w.Textarea(
            placeholder="paste a text to label with the selected prefix",
            layout=w.Layout(width="70%", height="70px"),
        )
        self.predict_button = w.Button(description="predict", icon="tag")
        self.prediction = w.HTML()
        self.log = w.Output()
        self.plot_data: dict = {}
        self._predictors: dict[str, object] = {}
        for control in (self.slider, self.dataset, self.level):
            control.observe(self.refresh, names="value")
        self.button.on_click(self.on_train)
        self.predict_button.on_click(self.on_predict)
        self.refresh()

    # ---- data ----------------------------------------------------------------------------
    def records(self) -> list[dict]:
        dirs = [self.results_dir] + ([self.smoke_dir] if self.smoke_dir != self.results_dir else [])
        return [
            {**r, "_dir": str(d)}
            for d in dirs
            for r in load_records(d)
            if r["method"] == "spp"
            and not r.get("contrastive")
            and r["dataset"] == self.dataset.value
            and recipe_label(r) == "htclib"
            and not r.get("config", {}).get("data", {}).get("train_fraction")
        ]

    def lookup(self, length: int) -> dict | None:
        """The stored run with prefix ``length`` (the profile's own before a smoke-slice one;
        the lowest seed)."""
        found = [r for r in self.records() if str(r["prefix_length"]) == str(length)]
        return min(found, key=lambda r: r.get("seed", 0)) if found else None

    def _key(self) -> str:
        lv = self.level.value
        return "" if lv == "all labels" else f"{lv}_"

    def series(self) -> dict:
        """Per P: mean and std over seeds of the headline micro-/macro-F1 (percent)."""
        by_p: dict[int, list[tuple[float, float]]] = {}
        key = self._key()
        for r in self.records():
            dec = decoding_for(r)
            mi = r["test"].get(f"{dec}/{key}micro_f1")
            ma = r["test"].get(f"{dec}/{key}macro_f1")
            if mi is not None:
                by_p.setdefault(int(r["prefix_length"]), []).append((100 * mi, 100 * (ma or 0)))
        ps = sorted(by_p)
        arr = [np.array(by_p[p]) for p in ps]
        return {
            "P": ps,
            "micro": [float(a[:, 0].mean()) for a in arr],
            "micro_sd": [float(a[:, 0].std(ddof=1)) if len(a) > 1 else 0.0 for a in arr],
            "macro": [float(a[:, 1].mean()) for a in arr],
            "macro_sd": [float(a[:, 1].std(ddof=1)) if len(a) > 1 else 0.0 for a in arr],
            "seeds": [len(a) for a in arr],
        }

    # ---- callbacks -----------------------------------------------------------------------
    def refresh(self, _change=None) -> str:
        rec = self.lookup(self.slider.value)
        levels = ["all labels"]
        if rec:
            dec = decoding_for(rec)
            levels += sorted(
                {
                    k.split("/")[1].split("_")[0]
                    for k in rec["test"]
                    if k.startswith(f"{dec}/L") and k.endswith("_micro_f1")
                }
            )
        if list(self.level.options) != levels:
            self.level.options = levels
        stored = sorted({int(r["prefix_length"]) for r in self.records()})
        if rec is None:
            html = (
                f"<b>P = {self.slider.value}</b>: not trained yet on {self.dataset.value}. "
                f"Stored: {stored or 'none'}."
            )
        else:
            dec = decoding_for(rec)
            lv, key = self.level.value, self._key()
            mi = rec["test"].get(f"{dec}/{key}micro_f1", float("nan"))
            ma = rec["test"].get(f"{dec}/{key}macro_f1", float("nan"))
            html = (
                f"<b>P = {self.slider.value}</b> on {self.dataset.value} ({lv}, {dec}): "
                f"micro-F1 {100 * mi:.1f}, macro-F1 {100 * ma:.1f}, params "
                f"{rec['params_pct']:.2f}%, train {rec.get('train_seconds', 0):.0f} s "
                f"({rec['n_train']} texts). Stored: {stored}."
            )
        self.view.value = html
        self._draw(rec)
        return html

    def _draw(self, rec: dict | None) -> None:
        import matplotlib.pyplot as plt

        s = self.series()
        self.plot_data = {**s, "selected": self.slider.value, "level": self.level.value}
        fig, ax = plt.subplots(figsize=(4.6, 3.0))
        if s["P"]:
            ax.errorbar(
                s["P"], s["micro"], yerr=s["micro_sd"], marker="o", capsize=3, label="micro-F1"
            )
            ax.errorbar(
                s["P"], s["macro"], yerr=s["macro_sd"], marker="s", capsize=3, label="macro-F1"
            )
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.text(0.5, 0.5, "no stored global SPP runs", ha="center", transform=ax.transAxes)
        ax.axvline(self.slider.value, color="grey", ls="--", lw=1)
        ax.set(xlabel="prefix length P", ylabel="test F1, headline (%)", xlim=(3, 42),
               title=f"{self.dataset.value}, {self.level.value}")  # fmt: skip
        self.plot.value = _png(fig)
        hist = (rec or {}).get("history", [])
        self.plot_data["curve_epochs"] = [h["epoch"] for h in hist]
        fig, ax = plt.subplots(figsize=(4.6, 3.0))
        if hist:
            col = "dev_headline" if "dev_headline" in hist[0] else "dev_auto"
            ax.plot([h["epoch"] for h in hist], [100 * h[col] for h in hist], marker="o")
            ax.axvline(rec.get("best_epoch", 0), color="grey", ls="--", lw=1)
            ax.set(title=f"P = {self.slider.value}: dev score by epoch")
        else:
            ax.text(0.5, 0.5, "no run for this P", ha="center", transform=ax.transAxes)
        ax.set(xlabel="epoch", ylabel="dev micro-F1, headline (%)")
        self.curve.value = _png(fig)

    def on_predict(self, _button=None) -> str:
        """Label the pasted text with the selected run's artifact (loaded once per run)."""
        from html import escape

        rec = self.lookup(self.slider.value)
        text = self.text.value.strip()
        if not text:
            html = "<i>Paste a text first.</i>"
        elif rec is None:
            html = f"<i>No stored run for P = {self.slider.value}: train it first.</i>"
        else:
            from .predict import load_predictor

            folder = Path(rec["_dir"]) / "runs" / rec["key"] / "artifact"
            if not (folder / "config.json").exists():
                html = (
                    f"<i>The run for P = {self.slider.value} has no artifact here ({folder}).</i>"
                )
            else:
                if rec["key"] not in self._predictors:
                    self._predictors[rec["key"]] = load_predictor(folder)
                (pred,) = self._predictors[rec["key"]].predict([text])
                rows = [
                    " &gt; ".join(
                        f"<b>{escape(name)}</b> ({p:.2f})"
                        for name, p in zip(path, probs, strict=True)
                    )
                    for path, probs in zip(pred["paths"], pred["probabilities"], strict=True)
                ]
                html = "label path: " + "<br>".join(rows or ["(none)"])
        self.prediction.value = html
        return html

    def on_train(self, _button=None) -> dict:
        with self.log:
            rec = self.train_fn(self.dataset.value, self.slider.value)
        self.refresh()
        return rec

    def widget(self) -> w.VBox:
        return w.VBox(
            [
                w.HBox([self.slider, self.dataset, self.level, self.button]),
                self.view,
                w.HBox([self.plot, self.curve]),
                w.HBox([self.text, self.predict_button]),
                self.prediction,
                self.log,
            ]
        )


def _png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def smoke_trainer(results_dir: Path) -> Callable[[str, int], dict]:
    """Train global SPP with prefix length P on the smoke slice (text progress bar)."""

    def train(dataset: str, length: int) -> dict:
        from .experiment import run
        from .profiles import get_profile, spp_runs

        (cfg,) = spp_runs(get_profile("smoke"), dataset, [length])
        return run(cfg, results_dir, progress=True)

    return train
