"""The ``htclib`` command: train, predict, evaluate and inspect data without writing Python.

    htclib data DIR|FILE
    htclib train --data DIR|FILE [--method spp|cls|local] [--prefix-length P] --out DIR
    htclib predict ARTIFACT [--input FILE|-] [--output FILE]
    htclib evaluate ARTIFACT --data DIR|FILE [--split test]
    htclib halve RUN [--check]

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
  htclib halve runs/mine/runs/<key>         # fp16 artifact, if no test prediction changes

data: a folder with train/dev/test.jsonl or all.jsonl (one {"text": ..., "labels":
[["top", "leaf"]]} per line, several paths allowed), a single .jsonl file, a CSV with a text
column and one column per level (--text-col text --level-cols cat1,cat2), or the WoS table.
One file is split 64/16/20 stratified by its top level (seed 0).

A finished run with the same settings is reused: train prints its cached result (after
checking its artifact); --force trains it again. predict writes one JSON line per text
without the text itself (a 1 MB text would give a 1 MB line); --echo adds it.
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
    _csv_flags(d)

    t = sub.add_parser("train", help="train one model; prints its scores and artifact path")
    t.add_argument("--data", required=True, help="folder or file with the training data")
    _csv_flags(t)
    t.add_argument(
        "--force", action="store_true", help="train again even if this run finished before"
    )
    t.add_argument("--out", required=True, help="folder for the run (artifact, records)")
    t.add_argument("--config", help="a JSON run config (flags below override its fields)")
    t.add_argument(
        "--method",
        choices=["spp", "cls", "local", "peft", "lora", "ia3", "prompt", "bitfit", "adapter"],
        help="default: spp (global prefix); peft: PEFT's prefix tuning, the cross-check; "
        "lora, ia3, prompt (shallow prompt tuning), bitfit, adapter: other parameter-efficient "
        "methods behind the same head (htclib.method.peft_methods)",
    )
    t.add_argument("--prefix-length", type=int, help="P for global SPP (default 20)")
    t.add_argument("--peft-size", type=int, help="LoRA's rank / the adapters' width (8 / 64)")
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
    p.add_argument("--echo", action="store_true", help="repeat each input text in its line")

    e = sub.add_parser("evaluate", help="the headline metric (and per level) on a data set")
    e.add_argument("artifact")
    e.add_argument("--data", required=True)
    _csv_flags(e)
    e.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])

    hv = sub.add_parser(
        "halve",
        help="store a finished run's artifact at fp16, only if no recorded test prediction changes",
    )
    hv.add_argument("run", help="a run folder (config.json, test_pred.json, artifact/)")
    hv.add_argument("--check", action="store_true", help="report the check, write nothing")
    return ap


def _csv_flags(parser) -> None:
    parser.add_argument("--text-col", default="text", help="CSV: the text column (default text)")
    parser.add_argument(
        "--level-cols", help="CSV: the label columns, top level first, comma-separated"
    )


def _level_cols(args) -> list[str] | None:
    if not getattr(args, "level_cols", None):
        return None
    cols = [c.strip() for c in args.level_cols.split(",") if c.strip()]
    if not cols:
        raise ValueError(f"--level-cols {args.level_cols!r}: expected column names like cat1,cat2")
    return cols


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # ArtifactMismatchError is a ValueError: importing htclib.training.artifacts here would load torch and
    # transformers (4 s) for commands that need neither
    from ..data.dataset import DataError
    from ..data.hierarchy import HierarchyError
    from ..io import CorruptFileError

    try:
        return {
            "data": cmd_data,
            "train": cmd_train,
            "predict": cmd_predict,
            "evaluate": cmd_evaluate,
            "halve": cmd_halve,
        }[args.command](args)
    except (
        DataError,
        HierarchyError,
        CorruptFileError,
        FileNotFoundError,
        ValueError,
    ) as e:
        print(f"htclib {args.command}: error: {e}", file=sys.stderr)
        return 2


def _load(path: str, args=None):
    from ..data.dataset import load

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data path {p} does not exist")
    text_col = getattr(args, "text_col", "text") or "text"
    return load(
        p.stem if p.is_file() else p.name, p, text_col=text_col, level_cols=_level_cols(args)
    )


def cmd_data(args) -> int:
    from ..data.dataset import DataError

    try:
        ds = _load(args.data, args)
    except DataError as e:
        if "needs at least" not in str(e):
            raise
        # too few texts to split: what the file holds, unsplit (encoding, labels per level)
        return _summarise_unsplit(args)
    print(ds.summary().to_string())
    for note in ds.notes:
        print(f"note: {note}")
    return 0


def _summarise_unsplit(args) -> int:
    from collections import Counter

    from ..data.dataset import read_csv_levels, read_jsonl

    p = Path(args.data)
    cols = _level_cols(args)
    full = read_csv_levels(p, args.text_col, cols) if cols else read_jsonl(p)
    depth = max(len(path) for ps in full.paths for path in ps)
    print(f"{p.name}: {len(full.texts)} text(s), too few to split into train/dev/test")
    for lv in range(depth):
        names = Counter(path[lv] for ps in full.paths for path in ps if len(path) > lv)
        print(f"level {lv + 1}: {len(names)} label(s): {', '.join(sorted(names)[:8])}"
              + (" ..." if len(names) > 8 else ""))  # fmt: skip
    print(f"longest text: {max(len(t) for t in full.texts)} characters")
    return 0


def _config(args):
    from ..method.configs import PEFT_METHODS, DataConfig
    from ..method.recipes import apply_recipe
    from ..training.experiment import RunConfig

    cfg = RunConfig()
    if args.config:
        cfg = RunConfig(**json.loads(Path(args.config).read_text()))
    data = Path(args.data).resolve()
    cfg.data = DataConfig(
        name=data.stem if data.is_file() else data.name,
        path=str(data),
        text_col=args.text_col,
        level_cols=_level_cols(args),
    )
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
    if args.peft_size is not None:
        m.peft_size = args.peft_size
    if args.level_lengths:
        try:
            m.level_lengths = [int(x) for x in args.level_lengths.split(",")]
        except ValueError:
            raise ValueError(
                f"--level-lengths {args.level_lengths!r}: expected integers like 10,20"
            ) from None
    if m.method == "cls" and args.lr is None:
        t.lr = 5e-5  # full fine-tuning: a prefix lr would wreck the encoder
    if m.method in PEFT_METHODS and args.lr is None:
        from ..method.peft_methods import DEFAULT_LR

        t.lr = DEFAULT_LR[m.method]
    if args.recipe:
        cfg = apply_recipe(cfg, args.recipe)
    cfg.name = f"{cfg.data.name}/{m.method}"
    # validate the overridden fields, the recipe's among them (it returns a copy)
    type(cfg.model.prefix).__post_init__(cfg.model.prefix)
    type(cfg.model).__post_init__(cfg.model)
    return cfg


def cmd_train(args) -> int:
    from ..io import ensure_writable_dir
    from ..training.experiment import run

    cfg = _config(args)
    out = ensure_writable_dir(args.out)
    cached = (out / "runs" / cfg.key() / "result.json").exists() and not args.force
    if cached:  # reused: its artifact must still load (a damaged one needs --force)
        from ..io import CorruptFileError, verify_manifest

        try:
            verify_manifest(out / "runs" / cfg.key() / "artifact")
        except CorruptFileError as e:
            raise CorruptFileError(f"{e}; the finished run's artifact is damaged: --force "
                                   "trains it again") from None  # fmt: skip
        if not args.quiet:
            print("htclib train: this run finished before; its result (--force trains again)",
                  file=sys.stderr)  # fmt: skip
    else:  # one line even with --quiet: a minute of silence reads as a hang
        print(f"htclib train: {cfg.name}, {cfg.model.method}, key {cfg.key()}: loading the "
              "encoder and data, then training", file=sys.stderr)  # fmt: skip
    rec = run(cfg, out, progress=not args.quiet, force=args.force)
    if "test" not in rec:  # a data-parallel worker other than the main one: it writes nothing
        return 0
    run_dir = out / "runs" / rec["key"]
    artifact = out / "artifact"
    # a real copy, not a link: the run folder then survives cp -r, mv and tar, and editing a
    # copy can never change the original's weights
    import shutil

    if artifact.is_symlink():
        artifact.unlink()
    elif artifact.exists():
        shutil.rmtree(artifact)
    shutil.copytree(run_dir / "artifact", artifact)
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
                raise ValueError(
                    f"{where}, line {n}: malformed JSON ({e.msg} at column {e.colno})"
                ) from None
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
        json.dumps({"n": i, **({"text": t} if args.echo else {}), **p}, ensure_ascii=False)
        for i, (t, p) in enumerate(zip(texts, preds, strict=True), start=1)
    ]
    if args.output == "-":
        print("\n".join(lines))
    else:
        from ..io import atomic_write_text

        atomic_write_text(Path(args.output), "\n".join(lines) + "\n")
    return 0


def cmd_evaluate(args) -> int:
    import numpy as np

    from ..training.experiment import evaluate_probs
    from .predict import artifact_path, load_predictor

    model = load_predictor(artifact_path(args.artifact))
    ds = _load(args.data, args)
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


def cmd_halve(args) -> int:
    from dataclasses import asdict

    from ..training.halve import halve_artifact

    check = halve_artifact(args.run, dry_run=args.check)
    out = asdict(check)
    out["written"] = not args.check
    print(json.dumps(out, indent=1))
    return 0


def _entry() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())


if __name__ == "__main__":
    _entry()
