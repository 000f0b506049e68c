"""A run's page: provenance, every fitted quantizer, per-class recall and confusion matrices, the raw
records, and downloads (the result JSON, its tidy metrics CSV and its per-utterance predictions)."""

from __future__ import annotations

from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run
from emobench.leaderboard.plot import fmt, fmt_bitrate


def confusions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One matrix per breakdown of the ``confusion`` records (rows: true ``emotion``, columns:
    ``predicted``), with per-class recall and, where the run reports it, its interval."""
    groups: dict[tuple, dict[tuple[str, str], float]] = {}
    for m in S.records(doc, "confusion", baseline=True) + S.records(doc, "confusion"):
        b = S.bd(m)
        if "emotion" not in b or "predicted" not in b:
            continue
        key = tuple(sorted((k, v) for k, v in b.items() if k not in ("emotion", "predicted")))
        groups.setdefault(key, {})[(str(b["emotion"]), str(b["predicted"]))] = float(m["value"])
    recall = {}
    for m in S.records(doc, "recall") + S.records(doc, "recall", baseline=True):
        b = S.bd(m)
        if "emotion" in b:
            recall[(tuple(sorted((k, v) for k, v in b.items() if k != "emotion")), str(b["emotion"]))] = m
    out = []
    for key, cells in groups.items():
        labels = list(dict.fromkeys([t for t, _ in cells] + [p for _, p in cells]))
        rows = []
        for t in labels:
            counts = [cells.get((t, p)) for p in labels]
            total = sum(c or 0 for c in counts)
            hit = cells.get((t, t))
            rec = recall.get((key, t))
            rows.append({"label": t, "counts": counts, "total": total,
                         "shares": [(c or 0) / total if total else None for c in counts],
                         "recall": hit / total if total and hit is not None else None,
                         "ci": (rec.get("ci_low"), rec.get("ci_high")) if rec else (None, None)})
        bd = dict(key)
        name = "continuous" if bd.get("condition") == "continuous" else f"depth {bd.get('depth', '?')}"
        rest = ", ".join(f"{k} {v}" for k, v in key if k not in ("condition", "depth"))
        out.append({"name": name + (f" ({rest})" if rest else ""), "labels": labels, "rows": rows,
                    "order": (bd.get("condition") != "continuous", bd.get("depth") or 0, rest)})
    return sorted(out, key=lambda g: g["order"])


def metric_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The raw records as a table: value (blank when missing, never zero), interval, n, breakdown."""
    out = []
    for m in doc.get("metrics") or []:
        lo, hi = m.get("ci_low"), m.get("ci_high")
        out.append({"name": m["name"], "value": m.get("value"), "shown": fmt(m.get("value"), 4),
                    "unit": m.get("unit", ""), "direction": m.get("direction", "none"),
                    "ci": f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else "",
                    "n": m.get("n"), "std": m.get("std"),
                    "breakdown": "  ".join(f"{k}={v}" for k, v in sorted((m.get("breakdown") or {}).items()))})
    return out


def quantizer_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    fps = S._num((doc.get("upstream") or {}).get("frame_rate_hz"))
    out = []
    for q in doc.get("quantizers") or [Y.fitted(doc)]:
        per_frame = q.get("bits_per_frame") or {}
        full = per_frame.get(str(q.get("n_stages"))) if per_frame else None
        out.append({"role": q.get("role"), "preset": q.get("preset"), "family": Y.family(q), "layout": q.get("layout"),
                    "full_bps": fmt_bitrate(full * fps) if full is not None and fps else "",
                    "route_bits": q.get("route_bits_per_utterance"), "storage": q.get("storage_bytes"),
                    "train": q.get("train_utterances"), "seed": q.get("seed"), "params": q.get("params") or {}})
    return out


def timings(doc: dict[str, Any]) -> dict[str, Any]:
    t = dict((doc.get("provenance") or {}).get("timings_s") or {})
    total = t.pop("total", None)
    return {"parts": t, "total": total, "sum": sum(v for v in t.values() if isinstance(v, (int, float)))}


def context(run: Run, *, predictions_href: str | None, metrics_href: str, json_href: str) -> dict[str, Any]:
    doc = run.doc
    return {"doc": doc, "facts": Y.model_facts(doc), "label": Y.run_label(doc), "schema": run.written_version,
            "evaluated": S.evaluated_corpora(doc), "confusions": confusions(doc), "metric_rows": metric_rows(doc),
            "quantizers": quantizer_rows(doc), "timings": timings(doc), "continuous_bps": Y.continuous_bps(doc),
            "extraction": (doc.get("provenance") or {}).get("extraction") or {},
            "downloads": {"json": json_href, "metrics": metrics_href, "predictions": predictions_href}}
