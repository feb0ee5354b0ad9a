"""Prefix-length explorer: an ipywidgets panel over stored global-SPP runs, with on-demand training.

Works headless (papermill renders the widget as text); the callbacks are plain methods that
pytest drives directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from .results import decoding_for, load_records


class PrefixLengthExplorer:
    """Slider for P (5..40), data set and level selectors, stored results, a train button.

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
        self.slider = w.IntSlider(value=20, min=5, max=40, step=5, description="prefix P")
        self.dataset = w.Dropdown(options=list(datasets), description="data set")
        self.level = w.Dropdown(options=["all labels"], description="level")
        self.button = w.Button(description="train this P (smoke slice)", icon="play")
        self.view = w.HTML()
        self.log = w.Output()
        for control in (self.slider, self.dataset, self.level):
            control.observe(self.refresh, names="value")
        self.button.on_click(self.on_train)
        self.refresh()

    def records(self) -> list[dict]:
        dirs = [self.results_dir] + ([self.smoke_dir] if self.smoke_dir != self.results_dir else [])
        return [
            r
            for d in dirs
            for r in load_records(d)
            if r["method"] == "spp"
            and not r.get("contrastive")
            and r["dataset"] == self.dataset.value
        ]

    def lookup(self, length: int) -> dict | None:
        """The stored run with prefix ``length`` (the profile's own before a smoke-slice one)."""
        found = [r for r in self.records() if str(r["prefix_length"]) == str(length)]
        return found[0] if found else None

    def refresh(self, _change=None) -> str:
        rec = self.lookup(self.slider.value)
        levels = ["all labels"]
        if rec:
            dec = decoding_for(rec)
            levels += [
                k.split("/")[1].split("_")[0]
                for k in rec["test"]
                if k.startswith(f"{dec}/L") and k.endswith("_micro_f1")
            ]
        if list(self.level.options) != levels:
            self.level.options = levels
        stored = sorted(int(r["prefix_length"]) for r in self.records())
        if rec is None:
            html = f"<b>P = {self.slider.value}</b>: not trained yet on {self.dataset.value}. Stored: {stored or 'none'}."
        else:
            dec = decoding_for(rec)
            lv = self.level.value
            key = "" if lv == "all labels" else f"{lv}_"
            mi = rec["test"].get(f"{dec}/{key}micro_f1", float("nan"))
            ma = rec["test"].get(f"{dec}/{key}macro_f1", float("nan"))
            html = (
                f"<b>P = {self.slider.value}</b> on {self.dataset.value} ({lv}, {dec} decoding): "
                f"micro-F1 {100 * mi:.1f}, macro-F1 {100 * ma:.1f}, params {rec['params_pct']:.2f}%, "
                f"train {rec.get('train_seconds', 0):.0f} s ({rec['n_train']} texts). Stored: {stored}."
            )
        self.view.value = html
        return html

    def on_train(self, _button=None) -> dict:
        with self.log:
            rec = self.train_fn(self.dataset.value, self.slider.value)
        self.refresh()
        return rec

    def widget(self) -> w.VBox:
        return w.VBox(
            [w.HBox([self.slider, self.dataset, self.level]), self.button, self.view, self.log]
        )


def smoke_trainer(results_dir: Path) -> Callable[[str, int], dict]:
    """Train global SPP with prefix length P on the smoke slice (live tqdm progress)."""

    def train(dataset: str, length: int) -> dict:
        from .experiment import run
        from .profiles import get_profile, spp_runs

        (cfg,) = spp_runs(get_profile("smoke"), dataset, [length])
        return run(cfg, results_dir, progress=True)

    return train
