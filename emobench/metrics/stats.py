"""Uncertainty: percentile bootstrap confidence intervals and summaries over training seeds."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from emobench.metrics.bootstrap import percentile_interval as _interval


def bootstrap_ci(
    values, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0, statistic: Callable = np.mean
) -> tuple[float, float]:
    """Percentile bootstrap ``(low, high)`` of ``statistic`` over per-item ``values [N]``.

    Items are resampled with replacement ``n_boot`` times from ``np.random.default_rng(seed)``.
    NaN items are dropped first; no items -> (nan, nan).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))  # [n_boot, N]
    samples = values[idx]
    try:
        stats = np.asarray(statistic(samples, axis=1), dtype=np.float64)
        if stats.shape != (n_boot,):
            raise TypeError
    except TypeError:  # a statistic without an axis argument
        stats = np.array([statistic(s) for s in samples], dtype=np.float64)
    return _interval(stats, alpha)


def bootstrap_metric(
    fn: Callable[..., float],
    *arrays,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups=None,
) -> tuple[float, float]:
    """Percentile bootstrap ``(low, high)`` of a metric that is not a mean of per-item values
    (macro-F1, UAR, a difference between two systems on the same items, ...).

    All ``arrays`` (e.g. ``y_true, y_pred`` or ``y_true, pred_a, pred_b``) are resampled with the
    same item indices (paired). With ``groups [N]`` (e.g. speakers) whole groups are resampled
    (cluster bootstrap), which respects correlation within a group. Resamples where ``fn`` is NaN
    are dropped.
    """
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("bootstrap_metric needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"bootstrap_metric arrays differ in length: {[len(a) for a in arrays]}")
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if groups is None:
        members = None
    else:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} items")
        _, inverse = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)]
    stats = np.empty(n_boot)
    for b in range(n_boot):
        if members is None:
            idx = rng.integers(0, n, size=n)
        else:
            pick = rng.integers(0, len(members), size=len(members))
            idx = np.concatenate([members[g] for g in pick])
        stats[b] = fn(*(a[idx] for a in arrays))
    return _interval(stats, alpha)


def mean_over_seeds(values, axis: int = 0) -> tuple[np.ndarray | float, np.ndarray | float]:
    """``(mean, std)`` over training seeds along ``axis`` (sample std, ddof=1; 0 for one seed).

    ``values [S]`` -> floats; ``[S, ...]`` -> arrays of the remaining shape. NaNs are ignored
    (all-NaN -> NaN mean).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or values.shape[axis] == 0:
        raise ValueError("mean_over_seeds needs values with at least one seed along the axis")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        mean = np.nanmean(values, axis=axis)
        count = np.sum(np.isfinite(values), axis=axis)
        std = np.where(count > 1, np.nanstd(values, axis=axis, ddof=1), 0.0) if values.shape[axis] > 1 else 0.0 * mean
    if np.ndim(mean) == 0:
        return float(mean), float(std)
    return mean, std
