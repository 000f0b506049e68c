"""Pure functions from runs to the per-task pages' figures and tables (the paper's Figs 3-5, Table 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import paper
from emobench.leaderboard import select as S
from emobench.leaderboard.collect import Run
from emobench.leaderboard.plot import Figure, Series
from emobench.leaderboard.rows import group_systems, primary_names, run_page, slug, task_sort_key

TASK_TITLES = {
    "rq1": ("RQ1 · Affective information decay", "Reconstruction cosine and primary-emotion recall versus RVQ "
            "depth, per emotion, with balanced codebooks (paper Fig. 3)."),
    "rq2": ("RQ2 · Categorical preservation", "Matched and unmatched recall of emotion-specific codebooks "
            "against the balanced baseline, and normalized codebook entropy per stage (paper Fig. 4)."),
    "rq3": ("RQ3 · Distributional fidelity", "Jensen-Shannon divergence and top-2 set accuracy against "
            "annotator vote distributions, by ambiguity stratum and training composition (paper Fig. 5)."),
    "rq4": ("RQ4 · Downstream utility (Table 1)", "Macro-F1 change over the continuous baseline per codebook "
            "layout, ours beside the paper's published numbers."),
}


@dataclass
class Panel:
    title: str
    figures: list[Figure]


@dataclass
class TaskView:
    task: str
    title: str
    blurb: str
    panels: list[Panel] = field(default_factory=list)
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (metric name, unit, direction)
    runs: list[dict[str, Any]] = field(default_factory=list)
    table1: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # views left empty because no run reports their metric


def series_by(runs: Sequence[Run], names: Sequence[str], x_key: str, *, overall_only: Sequence[str] = (),
              average_over: Sequence[str] = (), prefix: str = "") -> list[Series]:
    """Mean value per x for each combination of the other breakdown keys (corpus and ``average_over`` keys
    are averaged over; with ``overall_only`` keys, records broken down by them are dropped when
    records without them exist)."""
    recs = [(r, S.effective(r)) for run in runs for r in S.records(run.doc, names)]
    recs = [(r, b) for r, b in recs if x_key in b]
    for key in overall_only:
        if any(key not in b for _, b in recs):
            recs = [(r, b) for r, b in recs if key not in b]
    groups: dict[str, dict[Any, list[float]]] = {}
    skip = {x_key, "corpus", *average_over}
    for r, b in recs:
        inner = " · ".join(str(b[k]) for k in sorted(b) if k not in skip)
        label = " · ".join(x for x in (prefix, inner) if x) or "all"
        groups.setdefault(label, {}).setdefault(b[x_key], []).append(float(r["value"]))
    out = []
    for label, by_x in groups.items():
        pts = [(x, sum(v) / len(v)) for x, v in by_x.items() if isinstance(x, (int, float))]
        if pts:
            out.append(Series(label, sorted(pts)))
    out.sort(key=lambda s: (s.label not in ("all", prefix), s.label))
    return out


def _unique(series: list[Series]) -> list[Series]:
    seen: set[str] = set()
    return [s for s in series if not (s.label in seen or seen.add(s.label))]


def categorical(runs: Sequence[Run], names: Sequence[str], x_keys: Sequence[str], series_key: str,
                order: Sequence[str] = (), label_fmt: str = "{key} {value}") -> tuple[list[str], list[Series]]:
    """Points at the categories of the first of ``x_keys`` present (e.g. scheme/composition), one series per
    ``series_key`` value, at the deepest depth reported; the continuous baseline is a last category."""
    cells: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (series, category) -> [(depth, value)]
    for run in runs:
        for baseline in (False, True):
            for r in S.records(run.doc, names, baseline=baseline):
                b = S.effective(r)
                x_key = next((k for k in x_keys if k in b), None)
                cat = "continuous" if baseline else (str(b[x_key]) if x_key else None)
                if cat is None:
                    continue
                depth = b.get("depth", float("inf"))
                depth = depth if isinstance(depth, (int, float)) else float("inf")
                cells.setdefault((str(b.get(series_key, "all")), cat), []).append((depth, float(r["value"])))
    order = [*order, "continuous"]
    cats = sorted({c for _, c in cells}, key=lambda c: (order.index(c) if c in order else len(order) - 1, c))
    series = []
    for label in sorted({s for s, _ in cells}, key=lambda x: (x != "all", x)):
        pts = []
        for i, c in enumerate(cats):
            vals = cells.get((label, c))
            if vals:
                deepest = max(d for d, _ in vals)
                at = [v for d, v in vals if d == deepest]
                pts.append((float(i), sum(at) / len(at)))
        name = label_fmt.format(key=series_key, value=label) if label != "all" else "all"
        series.append(Series(name, pts, line=False))
    return cats, series


def _axis(runs: Sequence[Run], names: Sequence[str], label: str) -> str:
    for r in runs:
        recs = S.records(r.doc, names)
        if recs:
            unit, d = recs[0].get("unit", ""), recs[0].get("direction", "none")
            arrow = {"higher": " ↑", "lower": " ↓"}.get(d, "")
            return f"{label} ({unit}){arrow}" if unit and unit != label else f"{label}{arrow}"
    return label


def _panels(task: str, runs: Sequence[Run], missing: list[str]) -> list[Panel]:
    panels = []
    for system, rs in sorted(group_systems(runs).items()):
        fid = f"{task}-{slug(system)}"
        figs: list[Figure] = []
        if task == "rq1":
            figs.append(Figure(f"{fid}-cos", "Reconstruction cosine vs depth", "RVQ depth",
                               _axis(rs, S.COSINE, "cosine"), series_by(rs, S.COSINE, "depth")))
            recall = _unique(series_by(rs, ("uar",), "depth") + series_by(rs, ("recall",), "depth"))
            figs.append(Figure(f"{fid}-recall", "Primary-emotion recall vs depth", "RVQ depth",
                               _axis(rs, S.RECALL, "recall"), recall, note="all = UAR (mean per-emotion recall)"))
        elif task == "rq2":
            rec = (series_by(rs, ("matched_recall",), "depth", overall_only=("emotion",), prefix="matched")
                   + series_by(rs, ("unmatched_recall",), "depth", overall_only=("emotion",), prefix="unmatched")
                   + series_by(rs, S.RECALL, "depth", overall_only=("emotion",), prefix="recall")
                   + series_by(rs, ("attraction",), "depth", overall_only=("emotion",), prefix="attraction ↓"))
            figs.append(Figure(f"{fid}-recall", "Matched / unmatched recall vs depth", "RVQ depth",
                               "recall (fraction) ↑", rec))
            ent = series_by(rs, ("normalized_entropy",), "stage", average_over=("emotion",))
            figs.append(Figure(f"{fid}-entropy", "Normalized codebook entropy per stage", "RVQ stage",
                               _axis(rs, ("normalized_entropy",), "entropy H̃"), ent, y_range=(0.0, 1.0)))
        elif task == "rq3":
            order = ("balanced", "100+0", "99+1", "95+5")
            for names, key, label in ((S.JS, "js", "JS divergence"), (S.TOP2, "top2", "top-2 accuracy")):
                cats, series = categorical(rs, names, ("scheme", "composition"), "stratum", order,
                                           "{value} ambiguity")
                figs.append(Figure(f"{fid}-{key}", f"{label} by composition and ambiguity", "codebook training",
                                   _axis(rs, names, label), series, x_categories=cats,
                                   note="At the deepest RVQ depth reported; 'continuous' is the unquantized baseline."))
        for f in figs:
            if not f.series:
                missing.append(f"{system}: {f.title} (no run reports it)")
        if figs:
            panels.append(Panel(system, figs))
    return panels


def table1(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Table 1 per upstream: rows Bal / Emo-Q(100) / Emo-Q(99), our mean Δ (pp) beside the paper's."""
    cells: dict[str, dict[tuple[str, str], dict[str, list[float]]]] = {}
    for run in runs:
        doc = run.doc
        extra = {}
        for r in S.records(doc, ("bitrate",)) + S.records(doc, ("selected_depth",)):
            b = r.get("breakdown", {})
            extra[(r["name"], b.get("layout"), b.get("method"))] = float(r["value"]) * (
                S.scale(r.get("unit", "")) if r["name"] == "bitrate" else 1.0)
        for r in S.records(doc, S.DELTA):
            b = r.get("breakdown", {})
            method = paper.table1_method(b.get("method") or b.get("composition") or doc["quantizer"]["name"])
            layout = paper.normalize_layout(b.get("layout") or doc["quantizer"].get("layout"))
            if not method or not layout:
                continue
            cell = cells.setdefault(doc["upstream"]["name"], {}).setdefault((method, layout), {})
            cell.setdefault("ours", []).append(S.as_points(float(r["value"]), r.get("unit", "")))
            bps = extra.get(("bitrate", b.get("layout"), b.get("method")))
            if bps is None and layout == paper.normalize_layout(doc["quantizer"].get("layout")):
                bps = S.bitrate(doc)
            if bps is not None:
                cell.setdefault("bitrate", []).append(bps)
            depth = extra.get(("selected_depth", b.get("layout"), b.get("method")))
            if depth is not None:
                cell.setdefault("depth", []).append(depth)
    tables = []
    for upstream in sorted(cells) or [paper.TABLE1_UPSTREAM]:
        ours = cells.get(upstream, {})
        extra_layouts = sorted({lay for _, lay in ours} - set(paper.TABLE1_LAYOUTS))
        layouts = list(paper.TABLE1_LAYOUTS) + extra_layouts
        rows = []
        for method in paper.TABLE1_METHODS:
            row = []
            for lay in layouts:
                c = ours.get((method, lay), {})
                mean = lambda k, c=c: sum(c[k]) / len(c[k]) if c.get(k) else None  # noqa: E731
                row.append({"ours": mean("ours"), "paper": paper.TABLE1[method].get(lay), "n": len(c.get("ours", [])),
                            "bitrate": mean("bitrate"), "depth": mean("depth")})
            rows.append({"method": method, "cells": row})
        tables.append({"upstream": upstream, "layouts": layouts, "rows": rows})
    return tables


def _metric_columns(task: str, runs: Sequence[Run]) -> list[tuple[str, str, str]]:
    names: dict[str, tuple[str, str]] = {}
    primary = primary_names(task, runs)
    for run in runs:
        for m in run.doc["metrics"]:
            if m["name"] not in names and not S.is_baseline(m) and m["name"] not in ("bitrate", "selected_depth"):
                names[m["name"]] = (m.get("unit", ""), m.get("direction", "none"))
    order = sorted(names, key=lambda n: (n not in primary, n))
    return [(n, *names[n]) for n in order[:8]]


def task_view(task: str, runs: Sequence[Run]) -> TaskView:
    title, blurb = TASK_TITLES.get(task, (f"Task {task}", "Headline value of every metric per run."))
    info = next((r.doc.get("task_info") for r in runs if r.doc.get("task_info")), None) or {}
    title, blurb = info.get("title") or title, info.get("description") or blurb
    view = TaskView(task, title, blurb)
    view.panels = _panels(task, runs, view.missing)
    view.columns = _metric_columns(task, runs)
    for run in sorted(runs, key=lambda r: r.run_id):
        doc = run.doc
        view.runs.append({
            "run_id": run.run_id, "href": run_page(run), "upstream": doc["upstream"]["name"],
            "quantizer": doc["quantizer"]["name"], "layout": doc["quantizer"].get("layout", ""),
            "corpora": S.evaluated_corpora(doc), "created_at": doc["created_at"], "bitrate": S.bitrate(doc),
            "cells": [S.headline(doc, (name,)) for name, _, _ in view.columns],
            "synthetic": bool(doc.get("synthetic")),
        })
    if task == "rq4":
        view.table1 = table1(runs)
    return view


def task_views(runs: Sequence[Run]) -> list[TaskView]:
    tasks = sorted({r.doc["task"] for r in runs}, key=task_sort_key)
    return [task_view(t, [r for r in runs if r.doc["task"] == t]) for t in tasks]
