"""The ``htclib`` command: train, predict, evaluate and inspect data without writing Python.

    htclib data DIR|FILE
    htclib train --data DIR|FILE [--method spp|cls|local] [--prefix-length P] --out DIR
    htclib predict ARTIFACT [--input FILE|-] [--output FILE]
    htclib evaluate ARTIFACT --data DIR|FILE [--split test]

Exit codes: 0 done, 2 bad input (a message on stderr says what and where), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EPILOG = """examples:
  htclib data mydata/                       # sizes and labels per level of a data set
  htclib train --data mydata/all.jsonl --out runs/mine --epochs 10
  echo "a text to label" | htclib predict runs/mine/artifact
  htclib evaluate runs/mine/artifact --data mydata/all.jsonl

data: a folder with train/dev/test.jsonl or all.jsonl (one {"text": ..., "labels":
[["top", "leaf"]]} per line, several paths allowed), a single .jsonl file, or the WoS table.
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="htclib",
        description="Hierarchical text classification with deep prefix tuning on a frozen encoder.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("data", help="summary of a data set: splits, labels per level")
    d.add_argument("data", help="folder or file (see 'data:' below the command list)")

    t = sub.add_parser("train", help="train one model; prints its scores and artifact path")
    t.add_argument("--data", required=True, help="folder or file with the training data")
    t.add_argument("--out", required=True, help="folder for the run (artifact, records)")
    t.add_argument("--config", help="a JSON run config (flags below override its fields)")
    t.add_argument(
        "--method",
        choices=["spp", "cls", "local", "peft"],
        help="default: spp (global prefix); peft: PEFT's prefix tuning, the cross-check",
    )
    t.add_argument("--prefix-length", type=int, help="P for global SPP (default 20)")
    t.add_argument(
        "--top-layers",
        type=int,
        help="global SPP: the prefix in the top N layers only, the layers below cached",
    )
    t.add_argument("--level-lengths", help="local SPP: one P per level, e.g. 10,20")
    t.add_argument("--transfer", choices=["non", "copy", "transform"], help="local SPP start")
    t.add_argument("--encoder", help="'minilm' (offline default), a HF name or a folder")
    t.add_argument(
        "--recipe", choices=["htclib", "ptv2", "ptv2-cls"], help="training choices (README)"
    )
    t.add_argument(
        "--dropout-masks",
        choices=["rand", "words"],
        help="how the encoder's dropout masks are drawn: rand (default) or words (cheaper draw)",
    )
    t.add_argument("--epochs", type=int, help="max epochs (early stopping on dev decides)")
    t.add_argument("--patience", type=int, help="epochs without dev progress before stopping")
    t.add_argument("--lr", type=float, help="learning rate (prefix, or encoder for cls)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--max-length", type=int, help="tokens per text (default 128)")
    t.add_argument("--seed", type=int)
    t.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("predict", help="label texts with a trained artifact (JSON lines out)")
    p.add_argument("artifact", help="an artifact folder, or a run folder holding artifact/")
    p.add_argument(
        "--input", default="-", help="JSONL with a 'text' field or plain lines; - = stdin"
    )
    p.add_argument("--output", default="-", help="file for the JSON lines; - = stdout")
    p.add_argument("--batch-size", type=int, default=64)

    e = sub.add_parser("evaluate", help="the headline metric (and per level) on a data set")
    e.add_argument("artifact")
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .artifacts import ArtifactMismatchError
    from .data import DataError
    from .hierarchy import HierarchyError
    from .io import CorruptFileError

    try:
        return {
            "data": cmd_data,
            "train": cmd_train,
            "predict": cmd_predict,
            "evaluate": cmd_evaluate,
        }[args.command](args)
    except (
        DataError,
        HierarchyError,
        ArtifactMismatchError,
        CorruptFileError,
        FileNotFoundError,
        ValueError,
    ) as e:
        print(f"htclib {args.command}: error: {e}", file=sys.stderr)
        return 2


def _load(path: str):
    from .data import load

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data path {p} does not exist")
    return load(p.stem if p.is_file() else p.name, p)


def cmd_data(args) -> int:
    ds = _load(args.data)
    print(ds.summary().to_string())
    for note in ds.notes:
        print(f"note: {note}")
    return 0


def _config(args):
    from .configs import DataConfig
    from .experiment import RunConfig
    from .recipes import apply_recipe

    cfg = RunConfig()
    if args.config:
        cfg = RunConfig(**json.loads(Path(args.config).read_text()))
    data = Path(args.data).resolve()
    cfg.data = DataConfig(name=data.stem if data.is_file() else data.name, path=str(data))
    m, t = cfg.model, cfg.train
    for flag, obj, attr in (
        ("method", m, "method"),
        ("transfer", m, "transfer"),
        ("encoder", m, "encoder"),
        ("dropout_masks", m, "dropout_masks"),
        ("epochs", t, "max_epochs"),
        ("patience", t, "patience"),
        ("lr", t, "lr"),
        ("batch_size", t, "batch_size"),
        ("max_length", t, "max_length"),
        ("seed", t, "seed"),
    ):
        if getattr(args, flag) is not None:
            setattr(obj, attr, getattr(args, flag))
    if args.prefix_length is not None:
        m.prefix.length = args.prefix_length
    if args.top_layers is not None:
        m.prefix.top_layers = args.top_layers
    if args.level_lengths:
        try:
            m.level_lengths = [int(x) for x in args.level_lengths.split(",")]
        except ValueError:
            raise ValueError(
                f"--level-lengths {args.level_lengths!r}: expected integers like 10,20"
            ) from None
    if m.method == "cls" and args.lr is None:
        t.lr = 5e-5  # full fine-tuning: a prefix lr would wreck the encoder
    if args.recipe:
        cfg = apply_recipe(cfg, args.recipe)
    cfg.name = f"{cfg.data.name}/{m.method}"
    # validate the overridden fields, the recipe's among them (it returns a copy)
    type(cfg.model.prefix).__post_init__(cfg.model.prefix)
    type(cfg.model).__post_init__(cfg.model)
    return cfg


def cmd_train(args) -> int:
    from .experiment import run
    from .io import ensure_writable_dir

    cfg = _config(args)
    out = ensure_writable_dir(args.out)
    rec = run(cfg, out, progress=not args.quiet)
    if "test" not in rec:  # a data-parallel worker other than the main one: it writes nothing
        return 0
    run_dir = out / "runs" / rec["key"]
    artifact = out / "artifact"
    if artifact.is_symlink() or not artifact.exists():
        if artifact.is_symlink():
            artifact.unlink()
        artifact.symlink_to(run_dir / "artifact", target_is_directory=True)
    t = rec["test"]
    print(
        json.dumps(
            {
                "artifact": str(artifact),
                "run": str(run_dir),
                "test_headline": {
                    k.split("/", 1)[1]: round(v, 4)
                    for k, v in t.items()
                    if k.startswith("headline/")
                },
                "trained_params_pct": round(rec["params_pct"], 3),
                "best_epoch": rec.get("best_epoch"),
                "stopped": rec.get("stopped"),
                "train_seconds": round(rec.get("train_seconds", 0), 1),
            },
            indent=1,
        )
    )
    return 0


def _read_texts(source: str) -> list[str]:
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    where = "stdin" if source == "-" else source
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    texts = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}, line {n}: malformed JSON ({e.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise ValueError(f"{where}, line {n}: a JSON line needs a string 'text' field")
            texts.append(obj["text"])
        else:
            texts.append(line)
    if not texts:
        raise ValueError(f"{where}: no texts")
    return texts


def cmd_predict(args) -> int:
    from .predict import artifact_path, load_predictor

    texts = _read_texts(args.input)
    model = load_predictor(artifact_path(args.artifact))
    preds = model.predict(texts, batch_size=args.batch_size)
    lines = [
        json.dumps({"text": t, **p}, ensure_ascii=False) for t, p in zip(texts, preds, strict=True)
    ]
    if args.output == "-":
        print("\n".join(lines))
    else:
        from .io import atomic_write_text

        atomic_write_text(Path(args.output), "\n".join(lines) + "\n")
    return 0


def cmd_evaluate(args) -> int:
    import numpy as np

    from .experiment import evaluate_probs
    from .predict import artifact_path, load_predictor

    model = load_predictor(artifact_path(args.artifact))
    ds = _load(args.data)
    parts = ("train", "dev", "test") if args.split == "all" else (args.split,)
    texts = [t for s in parts for t in ds.split(s).texts]
    paths = [p for s in parts for p in ds.split(s).paths]
    h = model.hierarchy
    for n, ps in enumerate(paths):
        for path in ps:
            if tuple(path) not in h.index:
                raise ValueError(
                    f"{args.data}: text {n} of split {args.split} has label {' > '.join(path)!r}, "
                    f"which the artifact's label set ({h.n_labels} labels) does not know"
                )
    y = h.encode(paths)
    scores = evaluate_probs(model.probabilities(texts), y, h, 0.5, model.decoding == "topdown")
    out = {
        "data": str(args.data),
        "split": args.split,
        "texts": len(texts),
        "headline": {
            k.split("/", 1)[1]: round(float(v), 4)
            for k, v in scores.items()
            if k.startswith("headline/")
        },
        model.decoding + " (ours)": {
            k: round(float(scores[f"{model.decoding}/{k}"]), 4)
            for k in ("micro_f1", "macro_f1")
            if np.isfinite(scores[f"{model.decoding}/{k}"])
        },
    }
    print(json.dumps(out, indent=1))
    return 0


def _entry() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())


if __name__ == "__main__":
    _entry()
