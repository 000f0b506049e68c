"""Metrics against scikit-learn / scipy and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, recall_score

from emobench import metrics as M

LABELS = ["angry", "happy", "neutral", "sad"]


def test_cosine_rowwise_and_zero_rows():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    b = np.array([[0.0, 1.0], [2.0, 2.0], [0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(M.cosine_similarity(a, b), [0.0, 1.0, 1.0, 0.0, -1.0])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 7)), rng.normal(size=(50, 7))
    ref = np.array([xi @ yi / np.linalg.norm(xi) / np.linalg.norm(yi) for xi, yi in zip(x, y, strict=True)])
    np.testing.assert_allclose(M.cosine_similarity(x, y), ref, rtol=1e-12)
    with pytest.raises(ValueError):
        M.cosine_similarity(x, y[:3])


def test_frame_and_utterance_cosine():
    rng = np.random.default_rng(1)
    lengths = np.array([3, 1, 5])
    ref, rec = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    per_frame = M.frame_cosine(ref, rec)
    assert per_frame.shape == (9,)
    per_utt = M.frame_cosine(ref, rec, lengths)
    np.testing.assert_allclose(per_utt, [per_frame[:3].mean(), per_frame[3], per_frame[4:].mean()])
    utt = M.utterance_cosine(ref, rec, lengths)
    np.testing.assert_allclose(utt[2], M.cosine_similarity(ref[4:].mean(0, keepdims=True), rec[4:].mean(0, keepdims=True))[0])
    with pytest.raises(ValueError, match="sum"):
        M.frame_cosine(ref, rec, [3, 1, 4])


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = LABELS if seed else LABELS + ["fear"]  # a label absent everywhere
    y_true = rng.choice(LABELS[: 3 + seed % 2], size=40)
    y_pred = rng.choice(LABELS, size=40)
    assert M.macro_f1(y_true, y_pred, labels) == pytest.approx(
        f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)
    )
    np.testing.assert_array_equal(M.confusion(y_true, y_pred, labels), confusion_matrix(y_true, y_pred, labels=labels))
    rec = M.recall_per_class(y_true, y_pred, labels)
    sk = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for lab, r in zip(labels, sk, strict=True):
        if lab in set(y_true):
            assert rec[lab] == pytest.approx(r)
        else:
            assert np.isnan(rec[lab])
    assert M.uar(y_true, y_pred, labels) == pytest.approx(balanced_accuracy_score(y_true, y_pred))


def test_classification_hand_case():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    assert M.recall_per_class(y_true, y_pred, [0, 1, 2]) == {0: 0.5, 1: 1.0, 2: 0.0}
    assert M.uar(y_true, y_pred, [0, 1, 2]) == pytest.approx(0.5)
    # F1: class0 = 2*1/(2+2)=0.5, class1 = 2*2/(2+3)=0.8, class2 = 0
    assert M.macro_f1(y_true, y_pred, [0, 1, 2]) == pytest.approx((0.5 + 0.8) / 3)
    assert M.agreement(y_true, y_pred) == pytest.approx(0.6)
    assert M.accuracy(y_true, y_pred) == pytest.approx(0.6)


def test_normalized_entropy():
    assert M.normalized_entropy(np.arange(8) % 4, 4) == pytest.approx(1.0)
    assert M.normalized_entropy(np.zeros(10, dtype=int), 4) == 0.0
    # half of K=4 codes used uniformly: ln2 / ln4 = 0.5
    codes = np.stack([np.array([0, 1] * 5), np.array([0, 1, 2, 3, 0] * 2)], axis=1)  # [10, 2]
    h = M.normalized_entropy(codes, 4)
    p = np.array([0.4, 0.2, 0.2, 0.2])
    np.testing.assert_allclose(h, [0.5, -(p * np.log(p)).sum() / np.log(4)])
    with pytest.raises(ValueError):
        M.normalized_entropy(np.array([0, 4]), 4)


def test_js_divergence_matches_scipy_squared():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=30)
    q = rng.dirichlet(np.ones(4), size=30)
    p[0] = [1, 0, 0, 0]
    q[1] = [0, 0.5, 0.5, 0]
    ours = M.js_divergence(p, q)
    ref = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    nat = M.js_divergence(p, q, base=np.e)
    np.testing.assert_allclose(nat, ours * np.log(2), atol=1e-12)


def test_js_divergence_exact_cases():
    p = np.array([[0.6, 0.3, 0.1, 0.0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(M.js_divergence(p, p), [0.0, 0.0])
    assert M.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint supports: 1 bit
    assert M.js_divergence([3, 1], [0.75, 0.25]) == 0.0  # counts are normalised
    with pytest.raises(ValueError, match="sums to 0"):
        M.js_divergence([0, 0], [1, 0])


def test_top2_set_accuracy():
    p_true = np.array(
        [
            [0.6, 0.3, 0.1, 0.0],  # top2 {0,1}
            [0.6, 0.3, 0.1, 0.0],
            [0.4, 0.3, 0.3, 0.0],  # tie for second -> lower index (1) wins: {0,1}
            [0.0, 1.0, 0.0, 0.0],  # single class 1
            [0.0, 1.0, 0.0, 0.0],
        ]
    )
    p_pred = np.array(
        [
            [0.2, 0.5, 0.1, 0.2],  # {1,3}: no... top2 = 1 (0.5), then tie 0/3 at 0.2 -> 0: {0,1}
            [0.1, 0.1, 0.4, 0.4],  # {2,3}
            [0.3, 0.35, 0.2, 0.15],  # {0,1} order swapped
            [0.6, 0.3, 0.1, 0.0],  # {0,1} contains 1, top1 is 0
            [0.1, 0.2, 0.3, 0.4],  # {3,2}
        ]
    )
    label_order = dict(ties="label-order", single="contains")
    np.testing.assert_array_equal(M.top2_set_accuracy(p_pred, p_true, **label_order), [1, 0, 1, 1, 0])
    np.testing.assert_array_equal(M.top2_set_accuracy(p_pred, p_true, ties="label-order", single="top1"),
                                  [1, 0, 1, 0, 0])
    # expected value over tied orderings: row 0's prediction ties {0,3} for second (1/2 each); row 2's
    # annotators tie {1,2} for second (1/2); row 3's lone class leaves three zeros tied (1/3)
    np.testing.assert_allclose(M.top2_set_accuracy(p_pred, p_true), [0.5, 0, 0.5, 1 / 3, 0])
    assert M.top2_set_accuracy(p_true[:2], p_true[:2]).all()


def test_top2_ties_are_scored_as_expected_values():
    third = np.array([[1 / 3, 1 / 3, 1 / 3, 0.0]])
    assert M.top2_set_accuracy(np.array([[0.5, 0.3, 0.1, 0.1]]), third)[0] == pytest.approx(1 / 3)
    assert M.top2_set_accuracy(np.array([[0.1, 0.3, 0.5, 0.1]]), third)[0] == pytest.approx(1 / 3)
    assert M.top2_set_accuracy(np.array([[0.1, 0.1, 0.3, 0.5]]), third)[0] == 0.0
    assert M.top2_set_accuracy(third, third)[0] == pytest.approx(1 / 3)  # 3 equally likely sets, each 1/3
    # a brute-force check: average over every tie-breaking permutation
    import itertools

    rng = np.random.default_rng(0)
    for _ in range(30):
        a = rng.integers(0, 3, size=5).astype(float) + 0.1
        b = rng.integers(0, 3, size=5).astype(float) + 0.1

        def sets(p):
            return [frozenset(np.array(perm)[np.argsort(-p[list(perm)], kind="stable")[:2]])
                    for perm in itertools.permutations(range(5))]
        sa, sb = sets(a), sets(b)
        brute = np.mean([x == y for x in sa for y in sb])
        assert M.top2_set_accuracy(a[None], b[None])[0] == pytest.approx(brute)


def test_bootstrap_ci():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 1.0, size=400)
    lo, hi = M.bootstrap_ci(x)
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 / 20, rel=0.2)
    assert M.bootstrap_ci(x, seed=3) == M.bootstrap_ci(x, seed=3)
    assert M.bootstrap_ci(np.full(5, 2.0)) == (2.0, 2.0)
    assert np.isnan(M.bootstrap_ci([])[0])
    lo_m, hi_m = M.bootstrap_ci(x, statistic=lambda v: float(np.median(v)), n_boot=200)
    assert lo_m < np.median(x) < hi_m


def test_bootstrap_metric_paired_and_grouped():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=300)
    pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, 4, size=300))
    f1 = M.macro_f1(y, pred, [0, 1, 2, 3])
    lo, hi = M.bootstrap_metric(lambda t, p: M.macro_f1(t, p, [0, 1, 2, 3]), y, pred, n_boot=300)
    assert lo < f1 < hi
    # paired difference of a system with itself is exactly 0
    assert M.bootstrap_metric(lambda t, a, b: M.accuracy(t, a) - M.accuracy(t, b), y, pred, pred, n_boot=50) == (0, 0)
    speakers = np.repeat(np.arange(10), 30)
    glo, ghi = M.bootstrap_metric(lambda t, p: M.accuracy(t, p), y, pred, groups=speakers, n_boot=200)
    assert glo < M.accuracy(y, pred) < ghi


def test_mean_over_seeds():
    assert M.mean_over_seeds([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert M.mean_over_seeds([4.0]) == (4.0, 0.0)
    mean, std = M.mean_over_seeds(np.array([[1.0, 2.0], [3.0, np.nan]]))
    np.testing.assert_allclose(mean, [2.0, 2.0])
    np.testing.assert_allclose(std, [np.sqrt(2), 0.0])
