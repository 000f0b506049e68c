"""Pick numbers out of a result document: headline values, continuous baselines, bitrates.

Conventions the leaderboard reads (documented in leaderboard/results/README.md):
- Breakdown values ``all`` / ``mean`` / ``overall`` (and ``condition: quantized``) mean "not broken
  down": such keys are ignored when judging how specific a record is.
- A *headline* value of a metric is the mean over its least broken-down records (fewest breakdown
  keys other than ``depth``) at the deepest ``depth`` present; records of the continuous baseline
  (``condition``, ``baseline`` or ``scheme`` equal to ``continuous``) are never headline values.
- Bitrate in bit/s: ``quantizer.bitrate.bps`` (or ``bits_per_second`` / ``nominal_bps``), else a
  ``bitrate`` metric, else ``n_stages * log2(codebook_size) * upstream.frame_rate_hz``; per depth:
  ``quantizer.bitrate.bps_per_depth["<depth>"]``, a ``bitrate`` metric with that depth, or the formula.
Everything here is a pure function of plain dicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

COSINE = ("cosine_frame", "cosine_utterance", "cosine")
RECALL = ("uar", "recall")  # UAR = mean of per-emotion recall, the overall primary-emotion recall
MACRO_F1 = ("macro_f1",)
JS = ("js_divergence",)
TOP2 = ("top2_accuracy",)
DELTA = ("macro_f1_delta",)

BITRATE_KEYS = ("bps", "bits_per_second", "nominal_bps", "nominal_bits_per_second")
OVERALL_VALUES = {"all", "mean", "overall"}
BAND_LOW_MAX = 1500.0  # bit/s: below this a run is "low" bitrate (Emo-Q 8x32 averages ~1.4 kbps)
BAND_MEDIUM_MAX = 10_000.0  # bit/s: below this "medium" (8x32 at 50 Hz is 2 kbps; 24x1024 at 50 Hz 12 kbps)


def is_baseline(rec: dict[str, Any]) -> bool:
    b = rec.get("breakdown", {})
    return any(str(b.get(k, "")).lower() == "continuous" for k in ("baseline", "condition", "scheme"))


def effective(rec: dict[str, Any]) -> dict[str, Any]:
    """The breakdown without keys that do not narrow the record down (``emotion: mean``, ...)."""
    return {
        k: v for k, v in rec.get("breakdown", {}).items()
        if k != "baseline" and str(v).lower() not in OVERALL_VALUES and not (k == "condition" and v == "quantized")
    }


def records(doc: dict[str, Any], names: Iterable[str], *, baseline: bool = False) -> list[dict[str, Any]]:
    """Records of the first name in ``names`` that the document reports with a value."""
    metrics = doc.get("metrics") or []
    for name in names:
        found = [
            m for m in metrics
            if m.get("name") == name and isinstance(m.get("value"), (int, float)) and is_baseline(m) == baseline
        ]
        if found:
            return found
    return []


def _depth(rec: dict[str, Any]) -> float:
    d = rec.get("breakdown", {}).get("depth")
    return float(d) if isinstance(d, (int, float)) else math.inf


def headline_of(recs: list[dict[str, Any]]) -> float | None:
    if not recs:
        return None
    spec = [len(set(effective(r)) - {"depth"}) for r in recs]
    least = min(spec)
    recs = [r for r, s in zip(recs, spec, strict=True) if s == least]
    deepest = max(_depth(r) for r in recs)
    vals = [float(r["value"]) for r in recs if _depth(r) == deepest]
    return sum(vals) / len(vals)


def headline(doc: dict[str, Any], names: Iterable[str]) -> float | None:
    return headline_of(records(doc, names))


def baseline(doc: dict[str, Any], names: Iterable[str]) -> float | None:
    return headline_of(records(doc, names, baseline=True))


def unit_of(doc: dict[str, Any], names: Iterable[str]) -> str:
    recs = records(doc, names)
    return recs[0].get("unit", "") if recs else ""


def as_points(value: float | None, unit: str) -> float | None:
    """A change in a fraction-valued metric, in percentage points (as the paper reports them)."""
    if value is None:
        return None
    return value * 100.0 if unit in ("fraction", "") else value


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def scale(unit: str) -> float:
    unit = unit.lower().replace(" ", "")
    return {"kbps": 1e3, "kbit/s": 1e3, "mbps": 1e6, "mbit/s": 1e6}.get(unit, 1.0)


def bitrate_at_depth(doc: dict[str, Any], depth: int | float | None) -> float | None:
    """Nominal bit/s when decoding the first ``depth`` stages (None = the configured depth)."""
    q, up = doc.get("quantizer") or {}, doc.get("upstream") or {}
    per_depth = (q.get("bitrate") or {}).get("bps_per_depth") or {}
    if isinstance(per_depth, dict) and _num(per_depth.get(str(depth))) is not None:
        return _num(per_depth[str(depth)])
    for rec in records(doc, ("bitrate",)):
        if rec.get("breakdown", {}).get("depth") == depth and depth is not None:
            return float(rec["value"]) * scale(rec.get("unit", ""))
    k, fps = _num(q.get("codebook_size")), _num(up.get("frame_rate_hz"))
    if depth is not None and k and k > 1 and fps:
        return float(depth) * math.log2(k) * fps
    return None


def bitrate(doc: dict[str, Any]) -> float | None:
    """The run's bitrate in bit/s (see the module docstring for where it comes from)."""
    info = (doc.get("quantizer") or {}).get("bitrate") or {}
    for key in BITRATE_KEYS:
        if _num(info.get(key)) is not None:
            return _num(info[key])
    recs = records(doc, ("bitrate",))
    if recs:
        value = headline_of(recs)
        return None if value is None else value * scale(recs[0].get("unit", ""))
    n = _num((doc.get("quantizer") or {}).get("n_stages"))
    return bitrate_at_depth(doc, n) if n else None


def band(bps: float | None) -> str:
    """low < 1.5 kbit/s <= medium < 10 kbit/s <= high; unknown when no bitrate is known."""
    if bps is None:
        return "unknown"
    return "low" if bps < BAND_LOW_MAX else "medium" if bps < BAND_MEDIUM_MAX else "high"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_evaluated(role: Any) -> bool:
    """'train+eval', 'test', 'held-out', 'ood' score on the corpus; 'train', 'codebook-train' do not."""
    parts = [p for p in str(role).lower().split("+") if p]
    return not parts or any("train" not in p for p in parts)


def evaluated_corpora(doc: dict[str, Any]) -> list[str]:
    """Corpora the run scores on (see ``is_evaluated``), each named once."""
    names = [c["name"] for c in doc.get("corpora") or [] if is_evaluated(c.get("role", ""))]
    return list(dict.fromkeys(names))


def seen_corpora(doc: dict[str, Any]) -> list[str]:
    """Evaluated corpora that the upstream lists in ``trained_on`` (names compared loosely)."""
    seen = {_norm(x) for x in (doc.get("upstream") or {}).get("trained_on") or []}
    return [c for c in evaluated_corpora(doc) if _norm(c) in seen]
