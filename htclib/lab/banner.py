"""The first thing a notebook shows: what the reader is looking at, and how to switch."""

from __future__ import annotations

from collections.abc import Sequence

from ..data.dataset import bundled_notice

WHAT = {
    "cpu": (
        "the committed **`cpu`** results: MiniLM-L6 (all-MiniLM-L6-v2, 6 layers, hidden 384) on "
        "the shared samples (wos: 640 / 160 / 200 abstracts, 7 + 128 labels; amazon3 whole; "
        "dbpedia on a 1,000 / 300 / 1,000 slice), every neural model trained until its dev "
        "score stopped improving, with 3 to 5 seeds, on 2 CPU cores (`results/cpu/README.md`)"
    ),
    "smoke": (
        "the **`smoke`** profile: one epoch on 48 wos texts, to show that the pipeline runs. "
        "Its scores (near 0) say nothing about any method"
    ),
    "paper": (
        "the **`paper`** profile: the paper's settings (BERT-base, full data, batch 48), for a GPU"
    ),
}


def banner(profile: str, train: bool, datasets: Sequence[str] = ()) -> str:
    """Markdown for the top of a notebook; names the data sets that fall back to the bundled
    demo sample (``datasets``), so that fallback is said once, in words, where it is read."""
    what = WHAT.get(profile, f"profile **`{profile}`**")
    runs = (
        "Running it trains the runs that have no record yet (`train = True`)."
        if train
        else "Running it trains nothing (`train = False`): every table and figure is drawn from "
        "the run records under `results/" + profile + "/`, in seconds."
    )
    switch = (
        'To see the pipeline train, set `profile = "smoke"` (minutes on 2 cores; its runs go to '
        "`results/smoke/`, never mixed with these); to train what is missing here, "
        "`train = True`; from a shell: `python -m htclib.run --profile smoke`."
        if profile != "smoke"
        else 'The real results: `profile = "cpu"` with `train = False` (the committed notebooks).'
    )
    text = f"> **What you are looking at.** This notebook shows {what}. {runs} {switch}"
    notice = bundled_notice(datasets)
    return text if notice is None else f"{text}\n>\n> {notice}"
