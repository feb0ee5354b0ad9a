"""Prefix-length explorer: an ipywidgets instrument over stored global-SPP runs (the view;
which runs it reads and what it computes from them: :mod:`htclib.lab.explorer_runs`).

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

from .explorer_runs import (
    artifact_dir,
    level_key,
    levels_of,
    opening_length,
    pick_run,
    runs_of,
    series,
)
from .results import decoding_for


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
        # The explorer reads its own profile's records only: a one-epoch smoke run beside three
        # converged seeds would draw a prefix-length effect that does not exist. On-demand
        # training uses the smoke slice, so it is offered on the smoke profile only.
        self.smoke_dir = self.results_dir.parent / "smoke"
        self.train_fn = train_fn or smoke_trainer(self.smoke_dir)
        narrow = w.Layout(width="260px")
        self.dataset = w.Dropdown(options=list(datasets), description="data set", layout=narrow)
        self.slider = w.IntSlider(
            value=self.opening_length(), min=5, max=40, step=5, description="prefix P",
            layout=narrow,
        )  # fmt: skip
        self.level = w.Dropdown(options=["all labels"], description="level", layout=narrow)
        can_train = train_fn is not None or profile == "smoke"
        self.button = w.Button(
            description="train P (smoke)",
            icon="play",
            disabled=not can_train,
            tooltip="train global SPP with this P on the smoke slice"
            if can_train
            else "training here uses the smoke slice: open the explorer with profile 'smoke'",
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

    # ---- data (htclib.lab.explorer_runs) ------------------------------------------------
    def records(self) -> list[dict]:
        """The profile's global SPP runs on the selected data set (this profile's folder only)."""
        return runs_of(self.results_dir, self.dataset.value)

    def opening_length(self) -> int:
        return opening_length(self.records())

    def lookup(self, length: int) -> dict | None:
        return pick_run(self.records(), length)

    def _artifact(self, rec: dict) -> Path:
        return artifact_dir(rec)

    def _key(self) -> str:
        return level_key(self.level.value)

    def series(self) -> dict:
        return series(self.records(), self.level.value)

    # ---- callbacks -----------------------------------------------------------------------
    def refresh(self, _change=None) -> str:
        rec = self.lookup(self.slider.value)
        levels = ["all labels"]
        if rec:
            levels += levels_of(rec)
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
            s = self.series()
            i = s["P"].index(self.slider.value)
            html = (
                f"<b>P = {self.slider.value}</b> on {self.dataset.value} ({lv}, {dec}): "
                f"mean over {s['seeds'][i]} seed(s) micro-F1 {s['micro'][i]:.2f} ± "
                f"{s['micro_sd'][i]:.2f}, macro-F1 {s['macro'][i]:.2f} ± {s['macro_sd'][i]:.2f}; "
                f"seed {rec.get('seed', 0)} (its curve on the right, its prefix predicts below): "
                f"micro-F1 {100 * mi:.2f}, macro-F1 {100 * ma:.2f}, params "
                f"{rec['params_pct']:.2f}%, train {rec.get('train_seconds', 0):.0f} s "
                f"({rec['n_train']} texts). Stored: {stored}."
            )
        self.view.value = html
        self.prediction.value = ""  # a prediction of another P or data set would be stale
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

        rec = self.lookup(self.slider.value)
        text = self.text.value.strip()
        if not text:
            html = "<i>Paste a text first.</i>"
        elif rec is None:
            html = f"<i>No stored run for P = {self.slider.value}: train it first.</i>"
        else:
            from ..serve.predict import load_predictor

            folder = self._artifact(rec)
            if not (folder / "config.json").exists():
                where = f"results/{self.results_dir.name}/runs/{rec['key']}/artifact"
                html = (
                    f"<i>The run for P = {self.slider.value} has no artifact here ({where}): "
                    "its weights were not kept.</i>"
                )
            else:
                if rec["key"] not in self._predictors:
                    self._predictors[rec["key"]] = load_predictor(folder)
                (pred,) = self._predictors[rec["key"]].predict([text])
                html = prediction_html(pred, rec.get("seed", 0))
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


def prediction_html(pred: dict, seed: int, threshold: float = 0.5) -> str:
    """A prediction as the explorer shows it: the label path(s) whose labels pass the threshold;
    where none does, say so and show the best path as candidates, not as a prediction."""
    from html import escape

    def path_html(path, probs):
        return " &gt; ".join(
            f"<b>{escape(n)}</b> ({p:.2f})" for n, p in zip(path, probs, strict=True)
        )

    pairs = list(zip(pred["paths"], pred["probabilities"], strict=True))
    passed = [(p, q) for p, q in pairs if q and min(q) > threshold]
    if passed:
        return f"seed {seed}'s prefix, label path: " + "<br>".join(
            path_html(p, q) for p, q in passed
        )
    cands = "<br>".join(path_html(p, q) for p, q in pairs) or "(none)"
    return (
        f"<i>seed {seed}'s prefix: no label path passes {threshold} for this text.</i> "
        f"Best candidates: {cands}"
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
        from ..training.experiment import run
        from .profiles import get_profile, spp_runs

        (cfg,) = spp_runs(get_profile("smoke"), dataset, [length])
        return run(cfg, results_dir, progress=True)

    return train
