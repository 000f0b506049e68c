"""k-fold cross-validation summaries shared by the HYFuse and VQ-MAE-S tasks: every fold's test set
scored with its own speaker-level bootstrap, then the mean over folds (what both papers report) with
the standard deviation between folds and an interval from the folds' resamples averaged (each fold's
resample is independent, as its test speakers are), and confusion counts summed over folds (every
utterance is tested exactly once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emobench.metrics.bootstrap import Bootstrap, confusion_stat
from emobench.tasks.records import classification_records, rec

STATS = ("accuracy", "macro_f1", "uar")


@dataclass
class Fold:
    """One fold's test labels and predictions (label indices) with the bootstrap over its test speakers."""

    y: np.ndarray  # [N]
    pred: np.ndarray  # [N]
    boot: Bootstrap


def confusion(y: np.ndarray, pred: np.ndarray, c: int) -> np.ndarray:
    return np.bincount(y * c + pred, minlength=c * c).reshape(c, c)


def fold_records(folds: Sequence[Fold], labels, **bd: Any) -> list[dict[str, Any]]:
    """Per fold (``fold=k``): accuracy, macro-F1, UAR with intervals, recall per emotion; over folds:
    their mean (``fold="mean"``, with ``std`` between folds) and the confusion counts (``fold="all"``)."""
    c = len(labels)
    out = []
    for k, f in enumerate(folds):
        out += classification_records(f.y, f.pred, labels, f.boot, confusion=False, fold=k, **bd)
    for stat in STATS:
        values = [float(confusion_stat(confusion(f.y, f.pred, c), stat)) for f in folds]
        resampled = np.mean([f.boot.resampled_stat(f.y, f.pred, c, stat) for f in folds], axis=0)
        out.append(rec(stat, float(np.mean(values)), ci=folds[0].boot.interval(resampled), n=len(folds),
                       std=_sd(values), fold="mean", **bd))
    total = sum(confusion(f.y, f.pred, c) for f in folds)
    for (i, j), count in np.ndenumerate(total):
        out.append(rec("confusion", count, emotion=labels[i], predicted=labels[j], fold="all", **bd))
    return out


def fold_diff_records(name: str, stat: str, a: Sequence[Fold], b: Sequence[Fold], c: int,
                      **bd: Any) -> list[dict[str, Any]]:
    """``stat`` of predictions ``a`` minus ``b`` on the same test folds: per fold with a paired interval,
    and the mean over folds (interval from the paired resamples averaged, ``std`` between folds)."""
    out, values, resampled = [], [], []
    for k, (fa, fb) in enumerate(zip(a, b, strict=True)):
        diff = float(confusion_stat(confusion(fa.y, fa.pred, c), stat) - confusion_stat(confusion(fb.y, fb.pred, c), stat))
        values.append(diff)
        resampled.append(fa.boot.resampled_stat_diff(fa.y, fa.pred, fb.pred, c, stat))
        out.append(rec(name, diff, ci=fa.boot.stat_diff(fa.y, fa.pred, fb.pred, c, stat), n=len(fa.y), fold=k, **bd))
    out.append(rec(name, float(np.mean(values)), ci=a[0].boot.interval(np.mean(resampled, axis=0)), n=len(values),
                   std=_sd(values), fold="mean", **bd))
    return out


def _sd(values: Sequence[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
