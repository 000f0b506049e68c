"""Records shared by the depth-wise tasks: classification and fidelity at every depth with paired
intervals, code entropy per stage, and the bitrate actually used at each depth."""

from __future__ import annotations

from typing import Any

import numpy as np

from emobench.metrics.bootstrap import Bootstrap
from emobench.metrics.distribution import normalized_entropy
from emobench.quantizers.routing import routed_bitrate
from emobench.tasks.records import classification_records, rec
from emobench.tasks.sweep import Evaluation


def bitrate(fit: dict[str, Any], depth: int, frame_rate_hz: float, mean_duration_s: float) -> float:
    """Bits per second at ``depth`` for a fitted quantizer's record (``Quantizers.fitted``)."""
    bits = fit["bits_per_frame"][str(depth)]
    if fit["route_bits_per_utterance"] or fit["level"] == "utterance":
        n_emotions = 2 ** fit["route_bits_per_utterance"]
        return routed_bitrate(bits, frame_rate_hz, round(n_emotions), mean_duration_s, fit["level"])
    return bits * frame_rate_hz


def mean_duration(fs, utts, frame_rate_hz: float) -> float:
    return float(np.mean(fs.lengths[[fs.index(u.id) for u in utts]])) / frame_rate_hz if utts else 0.0


def depth_records(ev: Evaluation, y: np.ndarray, cont_pred: np.ndarray, labels, boot: Bootstrap, *,
                  fit: dict[str, Any], frame_rate_hz: float, duration_s: float, confusion: bool = True,
                  **bd: Any) -> list[dict[str, Any]]:
    """At every depth: classification (with intervals), cosine fidelity, agreement with the continuous
    predictions, the UAR gained over depth 1 (paired), and the bitrate of that depth."""
    out = []
    c = len(labels)
    first = ev.probs[ev.depths[0]].argmax(1) if ev.depths else None
    for d in ev.depths:
        pred = ev.probs[d].argmax(1)
        at = {"depth": d, "condition": "quantized", **bd}
        out += classification_records(y, pred, labels, boot, confusion=confusion, **at)
        for name, values in (("cosine_frame", ev.cos_frame[d]), ("cosine_utterance", ev.cos_utt[d])):
            out.append(rec(name, float(np.mean(values)), ci=boot.mean(values), n=len(values), **at))
        same = (pred == cont_pred).astype(np.float64)
        out.append(rec("agreement", same.mean(), ci=boot.mean(same), n=len(same), **at))
        if d != ev.depths[0]:
            from emobench.metrics.bootstrap import confusion_stat

            conf = np.bincount(y * c + pred, minlength=c * c).reshape(c, c)
            conf1 = np.bincount(y * c + first, minlength=c * c).reshape(c, c)
            out.append(rec("uar_gain", confusion_stat(conf, "uar") - confusion_stat(conf1, "uar"),
                           ci=boot.stat_diff(y, pred, first, c, "uar"), n=len(y), **at))
        out.append(rec("bitrate", bitrate(fit, d, frame_rate_hz, duration_s), depth=d, **bd))
    return out


def entropy_records(codes: dict[str, np.ndarray], *, codebook_size: int, codes_per_stage: int = 1,
                    **bd: Any) -> list[dict[str, Any]]:
    """Normalized code entropy per stage (paper eq. 1) of the test codes, per book for routers; grouped
    quantizers (several codes per stage) report the mean over a stage's groups."""
    out = []
    for book, c in codes.items():
        if c is None or not len(c):
            continue
        per_column = np.atleast_1d(normalized_entropy(np.asarray(c), codebook_size))  # [stages * groups]
        for stage, h in enumerate(per_column.reshape(-1, codes_per_stage).mean(1), start=1):
            out.append(rec("normalized_entropy", float(h), stage=stage, n=len(c),
                           **({"book": book} if book != "all" else {}), **bd))
    return out


def continuous_records(y: np.ndarray, cont_pred: np.ndarray, labels, boot: Bootstrap, **bd: Any) -> list[dict]:
    return classification_records(y, cont_pred, labels, boot, condition="continuous", **bd)
