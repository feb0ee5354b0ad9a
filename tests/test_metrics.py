import numpy as np
import pytest
from sklearn.metrics import f1_score

from htclib import metrics as M
from htclib.hierarchy import Hierarchy

H = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "z")])  # ids: a b | a>x a>y b>z


def test_micro_macro_equal_sklearn():
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 2, (30, 5))
    yp = rng.integers(0, 2, (30, 5))
    assert M.micro_f1(yt, yp) == pytest.approx(f1_score(yt, yp, average="micro"))
    assert M.macro_f1(yt, yp, "all") == pytest.approx(f1_score(yt, yp, average="macro"))


def test_macro_present_ignores_absent_labels():
    yt = np.array([[1, 0, 1, 0, 0], [1, 0, 0, 1, 0]])
    yp = np.array([[1, 0, 1, 0, 0], [1, 0, 0, 1, 0]])
    assert M.macro_f1(yt, yp, "present") == 1.0
    assert M.macro_f1(yt, yp, "all") == pytest.approx(3 / 5)


def test_topdown_never_child_without_parent():
    rng = np.random.default_rng(1)
    probs = rng.random((200, 5))
    pred = M.decode_topdown(probs, H)
    assert H.is_consistent(pred).all()
    assert not H.is_consistent(M.decode_threshold(probs)).all()


def test_topdown_exact():
    probs = np.array([[0.9, 0.2, 0.1, 0.8, 0.9], [0.1, 0.1, 0.9, 0.9, 0.9]])
    assert M.decode_topdown(probs, H).tolist() == [[1, 0, 0, 1, 0], [0, 0, 0, 0, 0]]


def test_best_path_exact():
    probs = np.array([[0.6, 0.5, 0.1, 0.2, 0.99]])
    # a>x: .6*.1, a>y: .6*.2, b>z: .5*.99 -> b>z
    assert M.decode_best_path(probs, H).tolist() == [[0, 1, 0, 0, 1]]


def test_hierarchical_prf_exact():
    yt = np.array([[1, 0, 1, 0, 0]])  # a>x
    yp = np.array([[0, 0, 0, 1, 0]])  # a>y (ancestor a added) -> {a, a>y} vs {a, a>x}
    assert M.hierarchical_prf(yt, yp, H) == pytest.approx((0.5, 0.5, 0.5))


def test_score_per_level_and_shape_check():
    yt = np.array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 1]])
    s = M.score(yt, yt, H)
    assert s["micro_f1"] == 1.0 and s["L2_macro_f1"] == 1.0 and s["consistent_share"] == 1.0
    with pytest.raises(ValueError, match="expected y_true and y_pred of shape"):
        M.score(yt, yt[:, :3], H)


def test_tune_threshold_finds_better_cut():
    yt = np.array([[1, 0], [0, 1]])
    probs = np.array([[0.3, 0.1], [0.05, 0.35]])
    t = M.tune_threshold(probs, yt)
    assert 0.1 < t <= 0.3
    assert M.micro_f1(yt, M.decode_threshold(probs, t)) == 1.0


def test_bad_decoding_name():
    with pytest.raises(ValueError, match="decoding must be"):
        M.decode(np.zeros((1, 5)), H, "nope")
