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


def top2_candidates(p: np.ndarray, *, rtol: float = 1e-9) -> dict[frozenset, float]:
    """The possible top-2 sets of one distribution ``[C]`` with their probabilities when ties are broken
    uniformly at random: {a, b} certain without ties; with k values tied for a place, each choice 1/k
    (or 1/C(k, 2) when k values tie for first)."""
    p = np.asarray(p, dtype=np.float64)
    close = lambda a, b: abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)  # noqa: E731
    first = p.max()
    top = [i for i in range(len(p)) if close(p[i], first)]
    if len(top) >= 2:
        pairs = [frozenset((a, b)) for j, a in enumerate(top) for b in top[j + 1 :]]
        return {s: 1.0 / len(pairs) for s in pairs}
    rest = [i for i in range(len(p)) if i != top[0]]
    second = max(p[i] for i in rest)
    tied = [i for i in rest if close(p[i], second)]
    return {frozenset((top[0], b)): 1.0 / len(tied) for b in tied}


def top2_set_accuracy(p_pred: np.ndarray, p_true: np.ndarray, *, ties: str = "expected",
                      single: str = "expected") -> np.ndarray:
    """1 where the two most probable emotions of the prediction and of the annotators are the same
    set (order-invariant), else 0 -> ``[N]`` float.

    ``ties="expected"`` (default): when values tie at a top-2 boundary, the score is its expected value
    over the tied orderings (uniform): e.g. annotators (1/3, 1/3, 1/3, 0) against a prediction whose
    top-2 is {0, 1} score 1/3. ``ties="label-order"``: the lower label index ranks first instead.
    A single non-zero annotator class c: ``single="expected"`` treats the zeros as tied for second
    (the same rule), ``"contains"`` scores 1 if c is in the predicted top-2, ``"top1"`` if it is top-1.
    """
    if ties not in ("expected", "label-order"):
        raise ValueError(f"ties must be 'expected' or 'label-order', got {ties!r}")
    if single not in ("expected", "contains", "top1"):
        raise ValueError(f"single must be 'expected', 'contains' or 'top1', got {single!r}")
    p_pred = np.atleast_2d(_distributions(p_pred, "p_pred"))
    p_true = np.atleast_2d(_distributions(p_true, "p_true"))
    if p_pred.shape != p_true.shape or p_pred.shape[1] < 2:
        raise ValueError(f"p_pred and p_true must be [N, C>=2] of one shape: {p_pred.shape} vs {p_true.shape}")
    out = np.empty(len(p_pred))
    tp, tt = top2_sets(p_pred), top2_sets(p_true)
    for n, (a, b) in enumerate(zip(p_pred, p_true, strict=True)):
        lone = (b > 0).sum() == 1
        if lone and single != "expected":
            c = int(b.argmax())
            out[n] = float(c in tp[n]) if single == "contains" else float(tp[n, 0] == c)
        elif ties == "label-order":
            out[n] = float(set(tp[n]) == set(tt[n]))
        else:
            pa, pb = top2_candidates(a), top2_candidates(b)
            out[n] = sum(w * pb.get(s, 0.0) for s, w in pa.items())
    return out
