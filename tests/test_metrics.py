import numpy as np
import pytest

from htclib.data.hierarchy import Hierarchy
from htclib.training import metrics as M

H = Hierarchy.from_paths([("a", "x"), ("a", "y"), ("b", "z")])  # ids: a b | a>x a>y b>z


def test_headline_by_hand():
    # Labels A, B, C, D. Gold: text 1 {A, B}, text 2 {A}. Sigmoid > 0.5 (strict, as eval.py):
    # text 1 predicts {A, C}; text 2 predicts {B} (A at exactly 0.5 is not predicted).
    yt = np.array([[1, 1, 0, 0], [1, 0, 0, 0]])
    probs = np.array([[0.9, 0.4, 0.6, 0.1], [0.5, 0.7, 0.1, 0.1]])
    # right 1 (A on text 1), predicted 3, gold 3 -> micro P = R = F = 1/3.
    # per label: A P=1 R=1/2 F=2/3; B F=0; C (no gold, one prediction) F=0;
    # D (no gold, no prediction) F=0 and it still counts: macro = (2/3) / 4 = 1/6.
    h = M.headline(yt, probs)
    assert h["micro_f1"] == pytest.approx(1 / 3)
    assert h["macro_f1"] == pytest.approx(1 / 6)
    # Our addition, macro over labels present in the gold (A, B): (2/3 + 0) / 2.
    assert M.macro_f1(yt, M.decode_threshold(probs), "present") == pytest.approx(1 / 3)
    # Nothing predicted: both 0, no division error.
    assert M.headline(yt, np.zeros_like(probs)) == {"micro_f1": 0.0, "macro_f1": 0.0}


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
    assert 0.05 < t < 0.3  # strict ">" as eval.py: 0.1 already keeps 0.3 and 0.35
    assert M.micro_f1(yt, M.decode_threshold(probs, t)) == 1.0


def test_bad_decoding_name():
    with pytest.raises(ValueError, match="decoding must be"):
        M.decode(np.zeros((1, 5)), H, "nope")
