"""Metric records: every number a task reports carries its unit, direction and breakdown."""

from __future__ import annotations

import math
from typing import Any

# name -> (unit, direction). Tasks may report other names by passing unit/direction explicitly.
KNOWN_METRICS: dict[str, tuple[str, str]] = {
    "cosine_frame": ("cosine", "higher"),
    "cosine_utterance": ("cosine", "higher"),
    "recall": ("fraction", "higher"),
    "uar": ("fraction", "higher"),
    "accuracy": ("fraction", "higher"),
    "macro_f1": ("fraction", "higher"),
    "macro_f1_delta": ("fraction", "higher"),
    "matched_recall": ("fraction", "higher"),
    "unmatched_recall": ("fraction", "higher"),
    "attraction": ("fraction", "lower"),
    "normalized_entropy": ("fraction", "higher"),
    "js_divergence": ("bits", "lower"),
    "top2_accuracy": ("fraction", "higher"),
    "agreement": ("fraction", "higher"),
    "bitrate": ("bit/s", "lower"),
    "entropy_bitrate": ("bit/s", "lower"),
    "dead_codewords": ("count", "lower"),
}


def metric(
    name: str,
    value: float | None,
    *,
    unit: str | None = None,
    direction: str | None = None,
    ci: tuple[float, float] | None = None,
    n: int | None = None,
    std: float | None = None,
    **breakdown: Any,
) -> dict[str, Any]:
    """Build one schema-valid metric record; NaN becomes null (JSON has no NaN)."""
    known_unit, known_dir = KNOWN_METRICS.get(name, ("", "none"))

    def clean(x):
        if x is None:
            return None
        x = float(x)
        return None if math.isnan(x) or math.isinf(x) else x

    rec: dict[str, Any] = {
        "name": name,
        "value": clean(value),
        "unit": unit if unit is not None else known_unit,
        "direction": direction if direction is not None else known_dir,
        "breakdown": {k: (v.item() if hasattr(v, "item") else v) for k, v in breakdown.items() if v is not None},
    }
    if ci is not None:
        rec["ci_low"], rec["ci_high"] = clean(ci[0]), clean(ci[1])
    if n is not None:
        rec["n"] = int(n)
    if std is not None:
        rec["std"] = clean(std)
    return rec
