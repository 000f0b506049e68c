"""crossling-ser's records: emotion classification per corpus (continuous and at every depth), the speaker
and language controls beside it, the learned layer weights, and the means over corpora (the paper's
Table 2 averages; Figure 2 averages the layer weights)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emobench.metrics.bootstrap import Bootstrap, percentile_interval
from emobench.tasks.records import classification_records, rec
from emobench.tasks.records import f1 as _f1


@dataclass
class Scored:
    """One corpus' test set under one probe: labels, the continuous prediction and one per depth."""

    y: np.ndarray
    cont: np.ndarray
    by_depth: dict[int, np.ndarray]
    n_classes: int
    boot: Bootstrap
    extra: dict[str, Any] = field(default_factory=dict)

    def hits(self, pred: np.ndarray) -> np.ndarray:
        return (pred == self.y).astype(np.float64)


def control_records(name: str, s: Scored, **bd: Any) -> list[dict[str, Any]]:
    """``name`` (an accuracy) on continuous features and at every depth, and its change over continuous."""
    hits = s.hits(s.cont)
    out = [rec(name, hits.mean(), ci=s.boot.mean(hits), n=len(hits), condition="continuous", **bd)]
    for d, pred in s.by_depth.items():
        q = s.hits(pred)
        out.append(rec(name, q.mean(), ci=s.boot.mean(q), n=len(q), condition="quantized", depth=d, role="system",
                       **bd))
    return out


def emotion_delta_records(s: Scored, **bd: Any) -> list[dict[str, Any]]:
    """macro_f1_delta at every depth: quantized minus continuous macro-F1 on the same utterances (paired)."""
    cont = _f1(s.y, s.cont, s.n_classes)
    return [rec("macro_f1_delta", _f1(s.y, pred, s.n_classes) - cont,
                ci=s.boot.stat_diff(s.y, pred, s.cont, s.n_classes, "macro_f1"), n=len(s.y), depth=d, role="system",
                **bd) for d, pred in s.by_depth.items()]


def _mean(parts: list[tuple[float, np.ndarray]]) -> tuple[float, tuple[float, float], float]:
    """Mean over corpora, its interval from the corpora's independent resamples, and the spread (std)."""
    values = [v for v, _ in parts]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample of a corpus without two speakers is NaN
        resampled = np.nanmean(np.stack([r for _, r in parts]), axis=0) if parts else np.zeros(0)
    ci = percentile_interval(resampled) if all(np.isfinite(r).any() for _, r in parts) else (np.nan, np.nan)
    return float(np.mean(values)), ci, float(np.std(values))


def mean_records(emotion: dict[str, Scored], speaker: dict[str, Scored], language: dict[str, Scored],
                 weights: dict[str, dict[int, float]]) -> list[dict[str, Any]]:
    """``corpus=mean`` records: macro-F1 (continuous, per depth) and its change, speaker and language
    accuracy, layer weights. Each mean weighs the corpora equally, as the paper's Table 2."""
    out = []
    if emotion:
        first = next(iter(emotion.values()))
        conditions: list[tuple[dict, Any]] = [({"condition": "continuous"}, None)]
        conditions += [({"condition": "quantized", "depth": d, "role": "system"}, d) for d in first.by_depth]
        for at, d in conditions:
            parts = [(_f1(s.y, s.cont if d is None else s.by_depth[d], s.n_classes),
                      s.boot.resampled_stat(s.y, s.cont if d is None else s.by_depth[d], s.n_classes, "macro_f1"))
                     for s in emotion.values()]
            v, ci, std = _mean(parts)
            out.append(rec("macro_f1", v, ci=ci, std=std, n=len(parts), corpus="mean", **at))
            if d is not None:
                parts = [(_f1(s.y, s.by_depth[d], s.n_classes) - _f1(s.y, s.cont, s.n_classes),
                          s.boot.resampled_stat_diff(s.y, s.by_depth[d], s.cont, s.n_classes, "macro_f1"))
                         for s in emotion.values()]
                v, ci, std = _mean(parts)
                out.append(rec("macro_f1_delta", v, ci=ci, std=std, n=len(parts), corpus="mean", **at))
    for name, scored in (("speaker_accuracy", speaker), ("language_accuracy", language)):
        if not scored:
            continue
        first = next(iter(scored.values()))
        for d in [None, *first.by_depth]:
            parts = []
            for s in scored.values():
                hits = s.hits(s.cont if d is None else s.by_depth[d])
                parts.append((hits.mean(), s.boot.resampled_mean(hits)))
            v, ci, std = _mean(parts)
            at = {"condition": "continuous"} if d is None else {"condition": "quantized", "depth": d, "role": "system"}
            out.append(rec(name, v, ci=ci, std=std, n=len(parts), corpus="mean", **at))
    if weights:
        layers = sorted({layer for w in weights.values() for layer in w})
        for layer in layers:
            vals = [w[layer] for w in weights.values() if layer in w]
            out.append(rec("layer_weight", float(np.mean(vals)), std=float(np.std(vals)), n=len(vals), layer=layer,
                           corpus="mean"))
    return out


def emotion_records(s: Scored, labels: list[str], **bd: Any) -> list[dict[str, Any]]:
    """Continuous classification: UAR, macro-F1, accuracy, recall per emotion, confusion counts."""
    return classification_records(s.y, s.cont, labels, s.boot, condition="continuous", **bd)
