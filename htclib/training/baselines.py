"""What a user would try first, on the same splits: a prefix model must beat these to be worth it.

- ``tfidf-lr``: TF-IDF (word 1-2 grams) + one-vs-rest logistic regression over all labels.
- ``linear-probe``: the frozen encoder's [CLS] embedding + the same one-vs-rest classifier.
- ``hiclass``: hiclass ``LocalClassifierPerParentNode`` with logistic regression on TF-IDF.

Each writes a ``result.json`` like a model run, scored by the same metric code.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..data.dataset import single_path
from ..io import atomic_write_json, ensure_writable_dir, read_json
from ..method.configs import prune_defaults
from .experiment import DataConfig, compact_predictions, evaluate_probs, get_data, get_encoder
from .metrics import headline_record, majority_baseline, score
from .records import save_predictions


def _ovr_probs(x_train, y_train, x_eval_list, c: float = 10.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    clf = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000), n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels absent from train: sklearn warns and predicts 0
        clf.fit(x_train, y_train)
        return [clf.predict_proba(x) for x in x_eval_list]


def _record(name, data_cfg, ds, test_eval, extra, t0, key):
    y_tr, y_te = ds.y("train"), ds.y("test")
    return {
        "name": f"{data_cfg.name}/{name}",
        "key": key,
        "dataset": data_cfg.name,
        "method": name,
        "variant": "",
        "prefix_length": "-",
        "contrastive": "",
        "seed": 0,
        "n_train": len(ds.train),
        "n_dev": len(ds.dev),
        "n_test": len(ds.test),
        "n_labels": ds.hierarchy.n_labels,
        "multi_path": not single_path(ds),
        "test": test_eval,
        "majority": majority_baseline(y_tr, y_te, ds.hierarchy),
        "wall_seconds": time.perf_counter() - t0,
        "train_seconds": time.perf_counter() - t0,
        "history": [],
        "config": {"data": asdict(data_cfg)},
        **extra,
    }


def _key(name: str, data_cfg: DataConfig, extra: str = "") -> str:
    # data fields at their defaults are left out, as for run keys: a new DataConfig field
    # keeps every finished baseline's key
    data = prune_defaults(asdict(data_cfg), asdict(DataConfig()))
    blob = json.dumps({"baseline": name, "data": data, "extra": extra}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_baseline(
    name: str,
    data_cfg: DataConfig,
    out_root,
    encoder: str = "minilm",
    max_length: int = 128,
    force: bool = False,
    train: bool = True,
) -> dict | None:
    """Run baseline ``name`` (``tfidf-lr``, ``linear-probe``, ``hiclass``) on ``data_cfg``'s
    splits; ``train=False``: only read its record (None when there is none)."""
    # the probe's features depend on the encoder and the token budget; the others on neither
    key = _key(name, data_cfg, f"{encoder}@{max_length}" if name == "linear-probe" else "")
    if not train:
        done = Path(out_root) / "runs" / key / "result.json"
        return read_json(done) if done.exists() else None
    folder = ensure_writable_dir(Path(out_root) / "runs" / key)
    if (folder / "result.json").exists() and not force:
        return read_json(folder / "result.json")
    t0 = time.perf_counter()
    ds = get_data(data_cfg)
    h = ds.hierarchy
    multi = not single_path(ds)
    y_tr = ds.y("train")
    extra: dict = {"params_pct": np.nan}
    if name == "tfidf-lr":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        x_tr = vec.fit_transform(ds.train.texts)
        (p_te,) = _ovr_probs(x_tr, y_tr, [vec.transform(ds.test.texts)])
        test = evaluate_probs(p_te, ds.y("test"), h, 0.5, multi)
        preds = compact_predictions(p_te, h, multi)
    elif name == "linear-probe":
        emb = {s: cls_embeddings(ds.split(s).texts, encoder, max_length) for s in ("train", "test")}
        (p_te,) = _ovr_probs(emb["train"], y_tr, [emb["test"]], c=1.0)
        test = evaluate_probs(p_te, ds.y("test"), h, 0.5, multi)
        preds = compact_predictions(p_te, h, multi)
        extra["encoder"] = encoder
    elif name == "hiclass":
        test, y_pred = _hiclass(ds)
        preds = {"headline": y_pred}
    else:
        raise ValueError(f"unknown baseline {name!r}; choose tfidf-lr, linear-probe or hiclass")
    rec = _record(name, data_cfg, ds, test, extra, t0, key)
    save_predictions(folder, ds.y("test"), preds)
    atomic_write_json(folder / "result.json", rec)
    return rec


def _hiclass(ds) -> dict:
    from hiclass import LocalClassifierPerParentNode
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    h = ds.hierarchy
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_tr = vec.fit_transform(ds.train.texts)
    # hiclass takes one path per text: the first one (amazon3 has 0.3% multi-path titles).
    y_tr = np.array([list(p[0]) for p in ds.train.paths], dtype=object)
    clf = LocalClassifierPerParentNode(
        local_classifier=LogisticRegression(C=10.0, max_iter=2000), n_jobs=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x_tr, y_tr)
        pred = clf.predict(vec.transform(ds.test.texts))
    paths = [[tuple(str(x) for x in row if str(x) not in ("", "nan"))] for row in pred]
    y_pred = h.encode([[p for p in ps if p and tuple(p) in h.index] for ps in paths])
    s = score(ds.y("test"), y_pred, h)
    out = headline_record(ds.y("test"), y_pred, h)  # its label set stands in for sigmoid > 0.5
    out.update(
        {f"{how}/{k}": v for how in ("threshold", "topdown", "best_path") for k, v in s.items()}
    )
    return out, y_pred


def cls_embeddings(texts: list[str], encoder: str = "minilm", max_length: int = 128) -> np.ndarray:
    """The frozen encoder's [CLS] states ``(n, hidden)`` (what every model here classifies from)."""
    import torch

    from ..data.tokens import tokenize
    from ..method.prefix import encode
    from .train import predict_logits

    tok, enc = get_encoder(encoder)

    class CLS(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = enc

        def forward(self, ids, mask):
            return encode(self.enc, ids, mask)

    return predict_logits(CLS().eval(), tokenize(texts, tok, max_length), tok.pad_token_id)
