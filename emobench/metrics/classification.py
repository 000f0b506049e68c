"""Classification metrics over a fixed label list; equal to scikit-learn's where it has one.

Items whose true label is outside ``labels`` are ignored (as scikit-learn's confusion_matrix does);
predictions outside ``labels`` count as errors for the true class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion(y_true, y_pred, labels: Sequence) -> np.ndarray:
    """``[C, C]`` counts, rows = true label, columns = predicted label, in ``labels`` order.
    Equals ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=labels)``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    index = {lab: i for i, lab in enumerate(labels)}
    t = np.array([index.get(v, -1) for v in y_true.tolist()], dtype=np.int64)
    p = np.array([index.get(v, -1) for v in y_pred.tolist()], dtype=np.int64)
    keep = (t >= 0) & (p >= 0)
    c = len(labels)
    return np.bincount(t[keep] * c + p[keep], minlength=c * c).reshape(c, c)


def _support_and_hits(y_true, y_pred, labels: Sequence) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    support = np.array([np.sum(y_true == lab) for lab in labels], dtype=np.float64)  # [C]
    hits = np.array([np.sum((y_true == lab) & (y_pred == lab)) for lab in labels], dtype=np.float64)
    return support, hits


def recall_per_class(y_true, y_pred, labels: Sequence) -> dict:
    """Recall of each label; NaN for a label absent from ``y_true`` (undefined, not zero)."""
    support, hits = _support_and_hits(y_true, y_pred, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(support > 0, hits / np.maximum(support, 1), np.nan)
    return {lab: float(r) for lab, r in zip(labels, rec, strict=True)}


def uar(y_true, y_pred, labels: Sequence | None = None) -> float:
    """Unweighted average recall over the labels present in ``y_true`` (= balanced accuracy)."""
    if labels is None:
        labels = sorted(set(np.asarray(y_true).tolist()))
    rec = np.array(list(recall_per_class(y_true, y_pred, labels).values()))
    return float(np.nanmean(rec)) if np.isfinite(rec).any() else float("nan")


def accuracy(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def f1_per_class(y_true, y_pred, labels: Sequence) -> np.ndarray:
    """F1 of each label ``[C]``; 0 where precision and recall are both undefined (zero_division=0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    support, tp = _support_and_hits(y_true, y_pred, labels)
    predicted = np.array([np.sum(y_pred == lab) for lab in labels], dtype=np.float64)
    denom = support + predicted  # 2TP + FP + FN
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def macro_f1(y_true, y_pred, labels: Sequence) -> float:
    """Macro-F1 over ``labels`` (every listed label counts, absent ones score 0). Equals
    ``sklearn.metrics.f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)``."""
    return float(np.mean(f1_per_class(y_true, y_pred, labels))) if len(labels) else float("nan")
