"""Metric records as tasks write them: name, value, interval, n and a breakdown (corpus, depth, role,
emotion, condition, stratum, ...). Units and directions are not written here: the runner takes them from
the task's spec, the one place that defines them. Intervals come from one shared cluster bootstrap per
test set (speakers by default), so every comparison on the same items is paired."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emobench.corpora.base import Utterance
from emobench.metrics.bootstrap import Bootstrap, confusion_stat

BOOTSTRAP_KINDS = ("speaker", "utterance")


def _clean(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def rec(name: str, value: float | None, *, ci: tuple[float, float] | None = None, n: int | None = None,
        std: float | None = None, chosen: tuple[str, ...] = (), **breakdown: Any) -> dict[str, Any]:
    """One metric record; NaN becomes null (JSON has no NaN); None breakdown values are left out.

    ``chosen`` names breakdown keys the protocol chose rather than a condition it was measured under (RQ4's
    depth, picked per training seed on held-out data): seeds are merged across them (see
    ``emobench.results.document.merge_seeds``)."""
    out: dict[str, Any] = {"name": name, "value": _clean(value),
                           "breakdown": {k: (v.item() if hasattr(v, "item") else v)
                                         for k, v in breakdown.items() if v is not None}}
    if chosen:
        out["chosen"] = list(chosen)
    if ci is not None:
        out["ci_low"], out["ci_high"] = _clean(ci[0]), _clean(ci[1])
    if n is not None:
        out["n"] = int(n)
    if std is not None:
        out["std"] = _clean(std)
    return out


def label_indices(utts: list[Utterance], labels) -> np.ndarray:
    return np.array([list(labels).index(u.label) for u in utts], dtype=np.int64)


def bootstrap_for(utts: list[Utterance], *, kind: str, n_boot: int, seed: int) -> Bootstrap:
    """Resamples of ``utts``' speakers (``kind="speaker"``, clusters ``(corpus, speaker)``) or utterances."""
    if kind not in BOOTSTRAP_KINDS:
        raise ValueError(f"bootstrap must be one of {BOOTSTRAP_KINDS}, got {kind!r}")
    groups = [f"{u.corpus}/{u.speaker}" for u in utts] if kind == "speaker" else None
    return Bootstrap(groups, len(utts), n_boot=n_boot, seed=seed)


def classification_records(y: np.ndarray, pred: np.ndarray, labels, boot: Bootstrap, *, confusion: bool = True,
                           **bd: Any) -> list[dict[str, Any]]:
    """UAR, macro-F1, accuracy (with intervals), recall per emotion and the confusion counts."""
    c = len(labels)
    conf = np.bincount(y * c + pred, minlength=c * c).reshape(c, c) if len(y) else np.zeros((c, c), np.int64)
    out = [rec(s, confusion_stat(conf, s), ci=boot.stat(y, pred, c, s), n=len(y), **bd)
           for s in ("uar", "macro_f1", "accuracy")]
    for i, lab in enumerate(labels):
        mask = y == i
        if mask.any():
            hits = (pred == i).astype(np.float64)
            out.append(rec("recall", hits[mask].mean(), ci=boot.mean(hits, mask), n=int(mask.sum()), emotion=lab, **bd))
    if confusion:
        for (i, j), count in np.ndenumerate(conf):  # rows: true, columns: predicted
            out.append(rec("confusion", count, emotion=labels[i], predicted=labels[j], **bd))
    return out


def f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over ``n_classes`` label indices (every class counts)."""
    from emobench.metrics.classification import macro_f1

    return macro_f1(y, pred, list(range(n_classes)))
