"""The tidy metrics table: one row per metric record of every run, with stable columns.

Columns (in this order, then any other breakdown key): ``task, run_id, run_hash, upstream, quantizer,
layout, probe, layer, seed, corpus, role, condition, depth, stage, emotion, stratum, metric, value, unit,
ci_low, ci_high, n, std, bps``. ``quantizer`` and ``layout`` are those of the record's role; ``bps`` the
bits per second that role actually sent at the record's depth (for the continuous baseline,
``condition=continuous`` with an empty depth, the uncompressed float32 rate). Values are stored in the
units the ``unit`` column says (fractions stay fractions). Integer columns load as integers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMNS = ("task", "run_id", "run_hash", "upstream", "quantizer", "layout", "probe", "layer", "seed", "corpus",
           "role", "condition", "depth", "stage", "emotion", "stratum", "metric", "value", "unit", "ci_low",
           "ci_high", "n", "std", "bps")
INTEGER = ("layer", "seed", "depth", "stage", "n")


def _bitrates(doc: dict[str, Any]) -> dict[tuple, float]:
    """(role, layout, corpus, depth) -> bit/s from the run's own ``bitrate`` records."""
    out = {}
    for m in doc["metrics"]:
        if m["name"] == "bitrate" and m.get("value") is not None:
            b = m["breakdown"]
            out[(b.get("role"), b.get("layout"), b.get("corpus"), b.get("depth"))] = m["value"]
    return out


def rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    fitted = {}
    for q in doc.get("quantizers") or []:
        fitted.setdefault(q["role"], q)
        fitted.setdefault((q["role"], q["layout"]), q)
    rates = _bitrates(doc)
    up = doc["upstream"]
    continuous_bps = float(up["dim"]) * 32 * float(up["frame_rate_hz"])
    seeds = doc.get("provenance", {}).get("seeds") or []
    base = {"task": doc["task"], "run_id": doc["run_id"], "run_hash": doc.get("run_hash"), "upstream": up["name"],
            "probe": (doc.get("probe") or {}).get("name"), "layer": up.get("layer") if isinstance(up.get("layer"), int)
            else None, "seed": seeds[0] if len(seeds) == 1 else None}
    out = []
    for m in doc["metrics"]:
        b = dict(m.get("breakdown") or {})
        role = b.pop("role", None)
        layout = b.pop("layout", None)
        q = fitted.get((role, layout)) or fitted.get(role) or {}
        condition = b.pop("condition", None)
        depth = b.get("depth")
        if condition == "continuous":
            bps = continuous_bps
        else:
            bps = next((rates[k] for k in ((role, layout, b.get("corpus"), depth), (role, layout, None, depth))
                        if k in rates), None)
        row = {**base, "quantizer": q.get("preset"), "layout": layout or q.get("layout"), "role": role,
               "condition": condition, "metric": m["name"], "value": m.get("value"), "unit": m.get("unit"),
               "ci_low": m.get("ci_low"), "ci_high": m.get("ci_high"), "n": m.get("n"), "std": m.get("std"),
               "bps": bps}
        row.update(b)
        out.append(row)
    return out


def tidy(docs: Iterable[dict[str, Any]]):
    """The tidy DataFrame of several result documents (see the module docstring)."""
    import pandas as pd

    frame = pd.DataFrame([r for d in docs for r in rows(d)])
    for col in COLUMNS:
        if col not in frame:
            frame[col] = None
    extra = sorted(c for c in frame.columns if c not in COLUMNS)
    frame = frame[list(COLUMNS) + extra]
    for col in INTEGER:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in ("value", "ci_low", "ci_high", "std", "bps"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def load(*paths: str | Path):
    """``emobench.results.load(DIR, ...)``: the tidy table of every result file under the folders."""
    from emobench.leaderboard.collect import collect

    col = collect([Path(p) for p in paths])
    return tidy(r.doc for r in col.runs)
