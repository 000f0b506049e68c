"""Reconstruction fidelity and label-free agreement: cosine similarity between continuous and
quantized features, at frame and utterance level (paper section 3.2)."""

from __future__ import annotations

import numpy as np


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rowwise cosine of ``a [N, D]`` and ``b [N, D]`` -> ``[N]`` (float64).

    Zero-norm rows are defined explicitly instead of producing NaN: two zero rows are identical
    (cosine 1.0); one zero row against a non-zero row shares no direction (cosine 0.0).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"cosine_similarity needs two [N, D] arrays of one shape, got {a.shape} and {b.shape}")
    na = np.linalg.norm(a, axis=1)  # [N]
    nb = np.linalg.norm(b, axis=1)
    dot = np.einsum("nd,nd->n", a, b)
    both = (na > 0) & (nb > 0)
    out = np.zeros(len(a), dtype=np.float64)
    out[both] = dot[both] / (na[both] * nb[both])
    out[(na == 0) & (nb == 0)] = 1.0
    return np.clip(out, -1.0, 1.0)


def _segments(lengths: np.ndarray, n_rows: int) -> np.ndarray:
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.ndim != 1 or (lengths <= 0).any():
        raise ValueError("lengths must be a 1-D array of positive frame counts (one per utterance)")
    if lengths.sum() != n_rows:
        raise ValueError(f"lengths sum to {int(lengths.sum())} but there are {n_rows} frames")
    return np.concatenate([[0], np.cumsum(lengths)[:-1]])  # [N] start offsets


def segment_mean(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mean of consecutive segments: ``values [T_total, ...]`` split by ``lengths [N]`` -> ``[N, ...]``."""
    values = np.asarray(values, dtype=np.float64)
    starts = _segments(lengths, len(values))
    sums = np.add.reduceat(values, starts, axis=0)
    shape = (-1,) + (1,) * (values.ndim - 1)
    return sums / np.asarray(lengths, dtype=np.float64).reshape(shape)


def frame_cosine(ref_frames: np.ndarray, rec_frames: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Frame-level cosine similarity.

    ``ref_frames`` / ``rec_frames``: ``[T_total, D]`` frames of all utterances concatenated in order.
    With ``lengths [N]`` (frames per utterance) returns the mean frame cosine per utterance ``[N]``;
    without it returns one cosine per row ``[T_total]`` (e.g. rows that are already pooled).
    """
    cos = cosine_similarity(ref_frames, rec_frames)  # [T_total]
    if lengths is None:
        return cos
    return segment_mean(cos, lengths)


def utterance_cosine(ref_frames: np.ndarray, rec_frames: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Utterance-level cosine: cosine between the mean-pooled reference and reconstruction ``[N]``."""
    return cosine_similarity(segment_mean(ref_frames, lengths), segment_mean(rec_frames, lengths))


def agreement(pred_a, pred_b) -> float:
    """Label-free agreement: the share of items whose two predictions are equal (e.g. on quantized
    vs continuous features, as Codec-SUPERB reports for codecs). NaN for no items."""
    a, b = np.asarray(pred_a), np.asarray(pred_b)
    if a.shape != b.shape:
        raise ValueError(f"agreement needs predictions of one shape, got {a.shape} and {b.shape}")
    return float(np.mean(a == b)) if a.size else float("nan")
