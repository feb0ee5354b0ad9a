"""Time-to-accuracy ablation (issue 17): the `cpu` profile's global SPP run (wos, P=10 by
default) with another learning rate for the prefix (``--lr``) or the classifier head
(``--head-lr``), or another batch size (``--batch-size``); data, seed, prefix start and
everything else are the profile's, so the profile's own record (prefix lr 1e-2, head lr 1e-3,
batch 16, the frozen encoder's dropout on) is the baseline. Our SPP reached the
time-to-accuracy target in 14-16 epochs where CLS-tuning takes 7-9 (``BENCHMARKS.md`` section
7), and its first epoch scores nothing above 0.5: this asks whether a faster head or prefix
(P-tuning v2 trains its head at the prefix's lr, 1e-2), or more updates per epoch, get there
sooner. ``--no-encoder-dropout`` trains with the frozen encoder in eval mode (htclib's default
until 2026-11-30; the runs with it on, then ``--encoder-dropout``, became the profile's SPP
P=30 seeds 0 and 1: ``results/ablations/README.md``). ``--method cls`` changes the profile's
CLS-tuning run instead (is a lever that helps ours ours alone?). ``--head-probe C`` fits the
head to the model's start before training (LP-FT; C of the logistic regression), so the first
epochs train the prefix against a head that already predicts instead of one that predicts
nothing above 0.5. ``--max-epochs N`` shortens the learning-rate schedule (it decays linearly
to 0 at the cap: the profile's 40 epochs keep the first 10 above 75% of the peak lr) and caps the run
there: does annealing sooner reach the target in fewer epochs, for ours and for CLS-tuning?
``--projection`` trains the prefix through P-tuning v2's projection MLP (an embedding through
hidden -> 512 -> layers x 2 x hidden; Li & Liang found this reparameterisation makes prefix
training stable and faster): does it reach the target in fewer epochs? ``--top-layers N`` puts
the prefix in the top N layers only (P-tuning v2's prompt-depth ablation): the layers below
run once per text and are cached, so an epoch costs the top N layers' work: does the cheaper
epoch reach the target sooner, and what does it cost on test?

    .venv/bin/python -m benchmarks.ablation_train --head-lr 0.01 --seed 1

Writes a normal run record under ``--out`` (default ``results/ablations``; its config, result
and compact test predictions are small and committed; a rerun resumes from its checkpoint);
``benchmarks/time_to_accuracy.py`` reads it beside the profile's records.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from htclib.lab import profiles
from htclib.training import experiment


def config(
    lr: float | None = None,
    head_lr: float | None = None,
    batch_size: int | None = None,
    dataset: str = "wos",
    length: int = 10,
    seed: int = 0,
    method: str = "spp",
    no_encoder_dropout: bool = False,
    head_probe: float | None = None,
    max_epochs: int | None = None,
    projection: bool = False,
    top_layers: int | None = None,
):
    if (
        lr is None
        and head_lr is None
        and batch_size is None
        and head_probe is None
        and max_epochs is None
        and not no_encoder_dropout
        and not projection
        and top_layers is None
    ):
        raise ValueError(
            "give --lr, --head-lr, --batch-size, --head-probe, --max-epochs, --projection,"
            " --top-layers or --no-encoder-dropout (without one this is the profile's own run)"
        )
    if max_epochs is not None and max_epochs < 1:
        raise ValueError(f"--max-epochs must be >= 1, got {max_epochs}")
    if method not in ("spp", "cls"):
        raise ValueError(f"method must be 'spp' or 'cls', got {method!r}")
    if top_layers is not None and method == "cls":
        raise ValueError("--top-layers is a prefix model's switch: CLS-tuning has no prefix")
    if projection and method == "cls":
        raise ValueError("--projection is a prefix model's switch: CLS-tuning has no prefix")
    if no_encoder_dropout and method == "cls":
        raise ValueError(
            "--no-encoder-dropout is a prefix model's switch: CLS-tuning trains with dropout"
        )
    p = profiles.get_profile("cpu")
    runs = (
        profiles.cls_runs(p, dataset)
        if method == "cls"
        else profiles.spp_runs(p, dataset, [length])
    )
    base = next(
        c
        for c in runs
        if c.train.seed == seed and (method == "cls" or c.model.prefix.init == "random")
    )
    train, tag = base.train, ""
    if lr is not None:
        train, tag = replace(train, lr=lr), tag + f"-lr{lr:g}"
    if head_lr is not None:
        train, tag = replace(train, head_lr=head_lr), tag + f"-headlr{head_lr:g}"
    if batch_size is not None:
        train, tag = replace(train, batch_size=batch_size), tag + f"-bs{batch_size}"
    if max_epochs is not None:
        train, tag = replace(train, max_epochs=max_epochs), tag + f"-ep{max_epochs}"
    model = base.model
    if head_probe is not None:
        model, tag = replace(model, head_probe=head_probe), tag + f"-probe{head_probe:g}"
    if no_encoder_dropout:
        model, tag = replace(model, encoder_dropout=False), tag + "-nodrop"
    if projection:
        model = replace(model, prefix=replace(model.prefix, projection=True))
        tag += "-proj"
    if top_layers is not None:
        model = replace(model, prefix=replace(model.prefix, top_layers=top_layers))
        tag += f"-top{top_layers}"
    return replace(
        base, name=f"{base.name.rsplit('/', 1)[0]}{tag}/s{seed}", train=train, model=model
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lr", type=float, default=None, help="the prefix's lr (profile: 1e-2)")
    ap.add_argument("--head-lr", type=float, default=None, help="the head's lr (profile: 1e-3)")
    ap.add_argument("--batch-size", type=int, default=None, help="(profile: 16)")
    ap.add_argument(
        "--no-encoder-dropout",
        action="store_true",
        help="the frozen encoder in eval mode (htclib's default until 2026-11-30; profile: its"
        " dropout on, as PEFT and P-tuning v2 train)",
    )
    ap.add_argument(
        "--head-probe",
        type=float,
        default=None,
        help="fit the head to the model's start first (LP-FT), logistic regression with this C",
    )
    ap.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="the cap, where the linear lr schedule reaches 0 (profile: 40)",
    )
    ap.add_argument(
        "--projection",
        action="store_true",
        help="train the prefix through P-tuning v2's projection MLP (Li & Liang's"
        " reparameterisation; profile: the key/values directly)",
    )
    ap.add_argument(
        "--top-layers",
        type=int,
        default=None,
        help="the prefix in the top N layers only, the layers below cached (profile: every layer)",
    )
    ap.add_argument("--method", default="spp", choices=["spp", "cls"])
    ap.add_argument("--length", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dataset", default="wos")
    ap.add_argument("--out", default="results/ablations")
    args = ap.parse_args(argv)
    cfg = config(
        args.lr,
        args.head_lr,
        args.batch_size,
        args.dataset,
        args.length,
        args.seed,
        args.method,
        args.no_encoder_dropout,
        args.head_probe,
        args.max_epochs,
        args.projection,
        args.top_layers,
    )
    return run_ablation(cfg, args.out)


def run_ablation(cfg, out: str) -> int:
    """Train (or resume) one ablation run into ``out`` and print its test headline."""
    r = experiment.run(cfg, out)
    print(
        f"{cfg.name}: test headline {100 * r['test']['headline/micro_f1']:.2f} / "
        f"{100 * r['test']['headline/macro_f1']:.2f}, best epoch {r['best_epoch']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
