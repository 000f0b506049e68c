"""Cluster bootstrap over speakers, vectorised, shared by every statistic of a run.

Utterances of one speaker are correlated, so resampling utterances understates the uncertainty of a
corpus with 10-24 speakers. A ``Bootstrap`` draws ``n_boot`` resamples of the clusters (speakers by
default; every utterance its own cluster for the utterance bootstrap) once; every statistic is then a
weighted sum over items with the resample's cluster counts as weights, so (a) it costs matrix products,
not Python loops, and (b) two systems scored on the same items share the same resamples: a difference
gets a *paired* interval. Statistics of confusion matrices (UAR, macro-F1, accuracy) are computed from
the resampled confusion counts, exactly as the point estimate is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CI_LEVEL = 0.95  # every interval emobench writes (results record it as ci_level)
ALPHA = 0.05


def percentile_interval(stats: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    stats = np.asarray(stats, dtype=np.float64)
    stats = stats[np.isfinite(stats)]
    if not len(stats):
        return float("nan"), float("nan")
    lo, hi = np.percentile(stats, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def confusion_stat(conf: np.ndarray, stat: str) -> np.ndarray:
    """``stat`` of confusion counts ``[..., C, C]`` (rows true, columns predicted) -> ``[...]``."""
    conf = np.asarray(conf, dtype=np.float64)
    diag = np.diagonal(conf, axis1=-2, axis2=-1)
    true, pred = conf.sum(-1), conf.sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        if stat == "accuracy":
            return diag.sum(-1) / conf.sum((-1, -2))
        if stat == "uar":  # classes absent from y_true do not count (scikit-learn's balanced accuracy)
            recall = np.where(true > 0, diag / np.maximum(true, 1e-300), np.nan)
            return np.nanmean(recall, axis=-1) if recall.size else np.full(recall.shape[:-1], np.nan)
        if stat == "macro_f1":  # every class counts, 0 where undefined (zero_division=0)
            denom = true + pred
            return np.where(denom > 0, 2 * diag / np.maximum(denom, 1e-300), 0.0).mean(-1)
    raise ValueError(f"unknown confusion statistic {stat!r}")


class Bootstrap:
    """``n_boot`` resamples of the clusters of N items (``groups [N]``; None: each item its own)."""

    def __init__(self, groups: Sequence | None, n_items: int, *, n_boot: int = 1000, seed: int = 0,
                 alpha: float = ALPHA):
        if n_boot < 1:
            raise ValueError(f"n_boot must be >= 1, got {n_boot}")
        labels = np.arange(n_items) if groups is None else np.asarray(groups)
        if len(labels) != n_items:
            raise ValueError(f"groups has {len(labels)} entries for {n_items} items")
        _, self.inverse = np.unique(labels, return_inverse=True)  # [N] cluster of each item
        n_groups = int(self.inverse.max()) + 1 if n_items else 0
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, max(n_groups, 1), size=(n_boot, n_groups))  # clusters drawn, with replacement
        rows = np.repeat(np.arange(n_boot), n_groups)
        self.weights = np.bincount(rows * max(n_groups, 1) + picks.ravel(),
                                   minlength=n_boot * max(n_groups, 1)).reshape(n_boot, -1)[:, :n_groups]
        self.n_boot, self.alpha, self.n_items, self.n_groups = n_boot, alpha, n_items, n_groups

    def _select(self, v: np.ndarray, mask) -> np.ndarray:
        if len(v) != self.n_items:
            raise ValueError(f"expected one value per item ({self.n_items}), got {len(v)}")
        return v if mask is None else v[np.asarray(mask, dtype=bool)]

    def _clusters(self, mask) -> int:
        """Clusters among the items of ``mask``: fewer than two give no interval (see ``interval``)."""
        inv = self.inverse if mask is None else self.inverse[np.asarray(mask, dtype=bool)]
        return len(np.unique(inv))

    def _item_weights(self, mask: np.ndarray | None) -> np.ndarray:
        inv = self.inverse if mask is None else self.inverse[np.asarray(mask, dtype=bool)]
        return self.weights[:, inv].astype(np.float64)  # [n_boot, n]

    def resampled_mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The mean of per-item ``values [N]`` (items in ``mask``; NaNs left out) in every resample ``[n_boot]``;
        combine several (e.g. a mean over emotions) and pass the result to ``interval``."""
        v = self._select(np.asarray(values, dtype=np.float64), mask)
        if self._clusters(mask) < 2:
            return np.full(self.n_boot, np.nan)
        w = self._item_weights(mask)
        ok = np.isfinite(v)
        w, v = w[:, ok], v[ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ v) / w.sum(1)

    def interval(self, stats: np.ndarray) -> tuple[float, float]:
        """The percentile interval of resampled ``stats``; none (NaN) from fewer than two clusters, whose
        resamples are all the same and would pretend a certainty the data cannot give."""
        return percentile_interval(stats, self.alpha) if self.n_groups >= 2 else (float("nan"), float("nan"))

    def mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
        """Interval of the mean of per-item ``values [N]`` (of the items in ``mask``; NaNs left out)."""
        return self.interval(self.resampled_mean(values, mask))

    def _confusions(self, y: np.ndarray, pred: np.ndarray, n_classes: int, mask) -> np.ndarray:
        y = self._select(np.asarray(y, dtype=np.int64), mask)
        pred = self._select(np.asarray(pred, dtype=np.int64), mask)
        w = self._item_weights(mask)  # [B, n]
        cell = y * n_classes + pred  # [n]
        onehot = np.zeros((len(cell), n_classes * n_classes))
        onehot[np.arange(len(cell)), cell] = 1.0
        return (w @ onehot).reshape(self.n_boot, n_classes, n_classes)

    def resampled_stat(self, y, pred, n_classes: int, stat: str, mask=None) -> np.ndarray:
        """A confusion statistic (``uar``, ``macro_f1``, ``accuracy``) in every resample ``[n_boot]``."""
        if self._clusters(mask) < 2:
            return np.full(self.n_boot, np.nan)
        return confusion_stat(self._confusions(y, pred, n_classes, mask), stat)

    def stat(self, y, pred, n_classes: int, stat: str, mask=None) -> tuple[float, float]:
        """Interval of a confusion statistic (``uar``, ``macro_f1``, ``accuracy``)."""
        return self.interval(self.resampled_stat(y, pred, n_classes, stat, mask))

    def resampled_stat_diff(self, y, pred_a, pred_b, n_classes: int, stat: str, mask=None) -> np.ndarray:
        """``stat(pred_a) - stat(pred_b)`` on the same items in every resample (paired) ``[n_boot]``."""
        return (self.resampled_stat(y, pred_a, n_classes, stat, mask)
                - self.resampled_stat(y, pred_b, n_classes, stat, mask))

    def stat_diff(self, y, pred_a, pred_b, n_classes: int, stat: str, mask=None) -> tuple[float, float]:
        """Paired interval of ``stat(pred_a) - stat(pred_b)`` on the same items and resamples."""
        return self.interval(self.resampled_stat_diff(y, pred_a, pred_b, n_classes, stat, mask))
