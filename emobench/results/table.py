"""The tidy metrics table: one row per metric record of every run, with stable columns.

Every column is always present (empty where a record has no such breakdown), in ``COLUMNS`` order,
then any breakdown key a plugin task adds (sorted). One name per concept: ``role`` is the quantizer's
job in the task (``system``, ``balanced``, ``emoq-99``, ...), ``quantizer`` and ``layout`` the preset
that filled it. The continuous baseline is encoded one way in every task: ``condition=continuous`` with
``depth``, ``role``, ``quantizer`` and ``layout`` empty and ``bps`` the uncompressed float32 rate.
Values stay in the unit the ``unit`` column names (fractions are fractions; the site converts to
percentage points only beside the paper's own tables, and says so). Integer columns load as integers
(pandas ``Int64``: empty stays empty, never 0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMN_DOCS = {
    "task": "task name (rq1..rq4, ood-ser, ...)",
    "run_id": "the run's id (its result file is <run_id>.json)",
    "config_hash": "hash of the resolved configuration without the data: equal for reruns on other corpora",
    "upstream": "speech encoder",
    "quantizer": "catalogue preset of the quantizer that produced the record (empty for the continuous baseline)",
    "layout": "codebook layout, stages x entries (e.g. 8x32)",
    "probe": "classifier scoring the features (a trained probe or the model's own head)",
    "layer": "upstream layer read",
    "seed": "training seed (empty when the value is a mean over several seeds)",
    "corpus": "corpus the record is measured on (mean = averaged over the OOD corpora)",
    "role": "the quantizer's role in the task (system, balanced, specific, biased-95, bal, emoq-100, ...)",
    "condition": "continuous | quantized | selection | matched | unmatched",
    "depth": "RVQ stages decoded (empty for the continuous baseline)",
    "stage": "RVQ stage (per-stage metrics such as code entropy)",
    "emotion": "emotion of the utterances (true label for confusion counts)",
    "stratum": "ambiguity stratum: all, low (primary vote share > 50%), high",
    "metric": "metric name (definitions: the site's About page)",
    "value": "the value, in `unit`",
    "unit": "fraction, cosine, bits, bit/s, count, stages",
    "ci_low": "lower end of the bootstrap interval (speaker-level, paired for differences)",
    "ci_high": "upper end of the bootstrap interval",
    "n": "items behind the value (utterances, or corpora for means over corpora)",
    "bps": "bits per second actually sent at `depth` (continuous baseline: the float32 rate)",
    "run_hash": "content identity of the run (configuration + corpus content)",
    "std": "standard deviation over training seeds (or over OOD corpora for corpus=mean)",
    "synthetic": "true when computed on emobench's generated demo corpus or made up for tests",
    "predicted": "predicted emotion (confusion counts)",
    "routing": "how emotion codebooks were chosen: oracle (the label's) or emoq (the Emo-Q route)",
    "scoring": "probe (a classifier on reconstructions) or route (the Emo-Q route as the prediction)",
    "fold": "cross-validation fold",
    "book": "emotion codebook of a router",
    "selected": "how the depth was selected (cv = on the training corpora's test splits)",
}
COLUMNS = tuple(COLUMN_DOCS)
INTEGER = ("layer", "seed", "depth", "stage", "n", "fold")
FLOAT = ("value", "ci_low", "ci_high", "std", "bps")


def config_hash(doc: dict[str, Any]) -> str | None:
    """Hash of the resolved configuration without corpus content, local paths or the emobench version
    (v1 files carried one; it was upgraded into ``run_hash``)."""
    resolved = doc.get("resolved")
    if not isinstance(resolved, dict):
        return doc.get("config_hash") or doc.get("run_hash")
    ident = {k: v for k, v in resolved.items() if k not in ("corpus_fingerprints", "local_files", "emobench")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _bitrates(doc: dict[str, Any]) -> dict[tuple, list[float]]:
    """(role, layout, depth) -> bit/s of the run's own ``bitrate`` records, per corpus and overall."""
    out: dict[tuple, list[float]] = {}
    for m in doc["metrics"]:
        if m["name"] == "bitrate" and m.get("value") is not None:
            b = m["breakdown"]
            out.setdefault((b.get("role"), b.get("layout"), b.get("depth"), b.get("corpus")), []).append(m["value"])
    return out


def _bps(rates: dict[tuple, list[float]], role, layout, depth, corpus, q: dict[str, Any], fps: float) -> float | None:
    for c in (corpus, "mean", None):
        if (role, layout, depth, c) in rates:
            return sum(rates[(role, layout, depth, c)]) / len(rates[(role, layout, depth, c)])
    same = [v for (r, lay, d, _), vs in rates.items() if (r, lay, d) == (role, layout, depth) for v in vs]
    if same:
        return sum(same) / len(same)
    per_frame = (q.get("bits_per_frame") or {}).get(str(depth))
    if per_frame is not None and not q.get("route_bits_per_utterance"):  # frame codes are all a VQ sends
        return float(per_frame) * fps
    return None


def rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    fitted: dict[Any, dict[str, Any]] = {}
    for q in doc.get("quantizers") or []:
        fitted.setdefault(q["role"], q)
        fitted.setdefault((q["role"], q["layout"]), q)
    rates = _bitrates(doc)
    up = doc["upstream"]
    fps = float(up["frame_rate_hz"])
    continuous_bps = float(up["dim"]) * 32 * fps
    seeds = doc.get("provenance", {}).get("seeds") or []
    base = {"task": doc["task"], "run_id": doc["run_id"], "config_hash": config_hash(doc), "upstream": up["name"],
            "probe": (doc.get("probe") or {}).get("name"),
            "layer": up.get("layer") if isinstance(up.get("layer"), int) else None,
            "seed": seeds[0] if len(seeds) == 1 else None, "run_hash": doc.get("run_hash"),
            "synthetic": bool(doc.get("synthetic"))}
    head = doc.get("quantizer") or {}
    out = []
    for m in doc["metrics"]:
        b = dict(m.get("breakdown") or {})
        for legacy in ("baseline", "scheme"):  # v1 files marked the baseline three ways
            if str(b.get(legacy, "")).lower() == "continuous":
                b.pop(legacy)
                b["condition"] = "continuous"
        role, rec_layout, condition = b.pop("role", None), b.pop("layout", None), b.pop("condition", None)
        depth = b.get("depth")
        if condition == "continuous":
            role = layout = quantizer = None
            bps = continuous_bps
        else:
            q = fitted.get((role, rec_layout)) or fitted.get(role) or {}
            quantizer = q.get("preset") or (head.get("name") if not fitted else None)
            layout = rec_layout or q.get("layout") or (head.get("layout") if not fitted else None)
            bps = _bps(rates, role, rec_layout, depth, b.get("corpus"), q, fps) if depth is not None else None
        row = {**base, "quantizer": quantizer, "layout": layout, "role": role, "condition": condition,
               "metric": m["name"], "value": m.get("value"), "unit": m.get("unit"), "ci_low": m.get("ci_low"),
               "ci_high": m.get("ci_high"), "n": m.get("n"), "std": m.get("std"), "bps": bps}
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
    for col in FLOAT:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["synthetic"] = frame["synthetic"].astype("boolean")
    text = [c for c in frame.columns if c not in INTEGER + FLOAT + ("synthetic",)]
    frame[text] = frame[text].astype("string")  # one dtype per column, whatever the files hold
    return frame


def load(*paths: str | Path):
    """``emobench.results.load(DIR, ...)``: the tidy table of every result file under the folders."""
    from emobench.leaderboard.collect import collect

    col = collect([Path(p) for p in paths])
    return tidy(r.doc for r in col.runs)
