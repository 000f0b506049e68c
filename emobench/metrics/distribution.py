"""Distribution metrics: codebook usage entropy (paper eq. 1), Jensen-Shannon divergence and
top-2 set accuracy between predicted and annotator emotion distributions (paper section 3.2, RQ3)."""

from __future__ import annotations

import numpy as np


def normalized_entropy(codes: np.ndarray, codebook_size: int) -> float | np.ndarray:
    """H = -sum_i p_i ln p_i / ln K of the empirical code usage (paper eq. 1).

    ``codes [N]`` -> float; ``codes [N, L]`` (one column per RVQ stage) -> ``[L]``, one value per stage.
    0 means collapse onto one code, 1 uniform use of all K codes. NaN for no codes.
    """
    if codebook_size < 2:
        raise ValueError(f"normalized entropy needs codebook_size >= 2 (ln K > 0), got {codebook_size}")
    codes = np.asarray(codes)
    single = codes.ndim == 1
    if single:
        codes = codes[:, None]
    if codes.ndim != 2:
        raise ValueError(f"codes must be [N] or [N, stages], got shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() >= codebook_size):
        raise ValueError(f"codes must lie in [0, {codebook_size}), found {codes.min()}..{codes.max()}")
    out = np.full(codes.shape[1], np.nan)
    if len(codes):
        for stage in range(codes.shape[1]):
            p = np.bincount(codes[:, stage].astype(np.int64), minlength=codebook_size) / len(codes)
            p = p[p > 0]
            out[stage] = float(-(p * np.log(p)).sum() / np.log(codebook_size)) + 0.0
    return float(out[0]) if single else out


def _distributions(p: np.ndarray, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim not in (1, 2):
        raise ValueError(f"{name} must be [C] or [N, C], got shape {p.shape}")
    if (p < 0).any() or not np.isfinite(p).all():
        raise ValueError(f"{name} must hold finite non-negative values")
    total = p.sum(axis=-1, keepdims=True)
    if (total <= 0).any():
        raise ValueError(f"{name} has a row that sums to 0; it is not a distribution")
    return p / total


def _kl_to(p: np.ndarray, m: np.ndarray, base: float) -> np.ndarray:
    # 0 * log(0 / m) = 0 exactly; where p > 0, m >= p / 2 > 0 so the ratio is finite.
    ratio = np.divide(p, m, out=np.ones_like(p), where=p > 0)
    return (p * np.log(ratio)).sum(axis=-1) / np.log(base)


def js_divergence(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.ndarray | float:
    """Jensen-Shannon *divergence* JS(p, q) = KL(p||m)/2 + KL(q||m)/2, m = (p + q)/2.

    Log base ``base`` (default 2: bits, so 0 <= JS <= 1). This is the divergence, not scipy's
    ``jensenshannon``, which returns its square root (the JS distance). Rows are normalised to sum
    to 1 (vote counts are accepted); zero entries are handled exactly, no epsilon smoothing.
    ``p, q [N, C]`` -> ``[N]``; ``[C]`` -> float.
    """
    p, q = _distributions(p, "p"), _distributions(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q differ in shape: {p.shape} vs {q.shape}")
    m = (p + q) / 2
    js = np.clip(0.5 * _kl_to(p, m, base) + 0.5 * _kl_to(q, m, base), 0.0, None)
    return float(js) if js.ndim == 0 else js


def top2_sets(p: np.ndarray) -> np.ndarray:
    """Indices of the two largest entries per row ``[N, 2]``; ties go to the lower label index."""
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    return np.argsort(-p, axis=1, kind="stable")[:, :2]


def top2_set_accuracy(p_pred: np.ndarray, p_true: np.ndarray, *, single: str = "contains") -> np.ndarray:
    """1 where the two most probable emotions of the prediction and of the annotators are the same
    set (order-invariant), else 0 -> ``[N]`` float.

    Ties are broken by label order: among equal values the lower label index ranks first, in both
    distributions. When the annotator distribution has a single non-zero class c, its "second"
    emotion does not exist: ``single="contains"`` (default) scores 1 if c is in the predicted top-2
    set, ``single="top1"`` only if c is the predicted top-1.
    """
    if single not in ("contains", "top1"):
        raise ValueError(f"single must be 'contains' or 'top1', got {single!r}")
    p_pred = np.atleast_2d(_distributions(p_pred, "p_pred"))
    p_true = np.atleast_2d(_distributions(p_true, "p_true"))
    if p_pred.shape != p_true.shape or p_pred.shape[1] < 2:
        raise ValueError(f"p_pred and p_true must be [N, C>=2] of one shape: {p_pred.shape} vs {p_true.shape}")
    tp, tt = top2_sets(p_pred), top2_sets(p_true)  # [N, 2]
    same = np.sort(tp, axis=1) == np.sort(tt, axis=1)
    score = same.all(axis=1)
    lone = (p_true > 0).sum(axis=1) == 1
    first = tt[:, 0]
    in_top2, is_top1 = (tp == first[:, None]).any(axis=1), tp[:, 0] == first
    lone_score = in_top2 if single == "contains" else is_top1
    return np.where(lone, lone_score, score).astype(np.float64)
