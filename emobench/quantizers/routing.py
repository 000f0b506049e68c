"""Emo-Q routing, stated once (paper section 4.4): y = argmax_i cos(z, e_i).

For an utterance with frames z_1..z_T, every emotion i's codebook quantizes the frames; e_i is the mean
of the reconstructed frames and z the mean of the input frames, so the route compares pooled vectors
of the object the codebooks were trained on (frames). With ``level="utterance"`` the codebooks are
trained on, and quantize, pooled utterance vectors instead (then T = 1). The route costs log2(E) bits
per utterance on top of the frame codes. ``route_scores`` / ``route_choice`` are the one implementation:
``EmoQ.route`` and every task (RQ2-RQ4, ood-ser) call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

LEVELS = ("frame", "utterance")


def is_router(obj: Any) -> bool:
    """A quantizer (class or instance) that routes utterances between per-emotion codebooks."""
    return bool(getattr(obj, "per_emotion", False)) and callable(getattr(obj, "route", None))


def route_scores(cos_by_book: Sequence[np.ndarray]) -> np.ndarray:
    """``[N, E]`` route scores from each book's pooled-reconstruction cosine ``[N]`` (books in emotion order)."""
    return np.stack([np.asarray(c, dtype=np.float64) for c in cos_by_book], axis=1)


def route_choice(scores: np.ndarray) -> np.ndarray:
    """The routed book per utterance ``[N]``: the highest score; ties go to the first emotion in order."""
    return np.asarray(scores).argmax(axis=1).astype(np.int64)


def route_bits(n_emotions: int) -> float:
    return float(np.log2(max(int(n_emotions), 1)))


def routed_bitrate(bits_per_frame: float, frame_rate_hz: float, n_emotions: int, mean_duration_s: float,
                   level: str = "frame") -> float:
    """Bits per second actually sent: frame codes at the frame rate (or one vector per utterance at
    ``level="utterance"``) plus the route's log2(E) bits once per utterance."""
    per_utt = route_bits(n_emotions) / max(mean_duration_s, 1e-9)
    if level == "utterance":
        return bits_per_frame / max(mean_duration_s, 1e-9) + per_utt
    return bits_per_frame * frame_rate_hz + per_utt
