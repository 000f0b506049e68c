"""A task spec's ``figures`` drawn from result records: one chart per (system, figure, facet value).

Each figure spec names a metric, the x key (``depth``, ``stage`` or a categorical key such as
``layout``), the series and facet keys, a ``where`` filter and whether the continuous baseline is a
reference line (``emobench/specs.py:FigureSpec``). Records are picked with the shared rules of
``emobench.leaderboard.select``; intervals become bands or whiskers wherever the records hold them.
Nothing here knows a task by name: a new task with a spec gets its charts for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard.paths import slug
from emobench.leaderboard.plot import EMOTION_COLOURS, N_COLOURS, Figure, Point, Ref, Series, fmt

X_LABELS = {"depth": "RVQ depth (stages decoded)", "stage": "RVQ stage"}


def metric_info(task_info: dict[str, Any], name: str) -> dict[str, Any]:
    return (task_info.get("metrics") or {}).get(name) or {"unit": "", "direction": "none", "display": name}


def axis_label(task_info: dict[str, Any], name: str) -> str:
    m = metric_info(task_info, name)
    arrow = {"higher": " ↑", "lower": " ↓"}.get(m.get("direction"), "")
    unit = m.get("unit") or ""
    return f"{m.get('display') or name}{f' ({unit})' if unit else ''}{arrow}"


class Palette:
    """Stable colours per series value across every chart of a page (a role keeps its colour)."""

    def __init__(self):
        self.assigned: dict[str, int] = {}

    def __call__(self, value: Any) -> int:
        key = str(value)
        if key in EMOTION_COLOURS:
            return EMOTION_COLOURS[key]
        if key not in self.assigned:
            self.assigned[key] = len(self.assigned) % N_COLOURS
        return self.assigned[key]


@dataclass
class FigureGroup:
    spec: dict[str, Any]
    charts: list[Figure] = field(default_factory=list)
    n_series: list[int] = field(default_factory=list)  # data series per chart (baselines not counted)


def _records(docs: Sequence[dict[str, Any]], spec: dict[str, Any], *, baseline: bool) -> list[dict[str, Any]]:
    out = []
    where = dict(spec.get("where") or {})
    if baseline:
        where.pop("condition", None)
    for doc in docs:
        recs = S.records(doc, spec["metric"], baseline=baseline)
        out += S.where(recs, S.resolve_depths(recs, where))
    return out


def _label(series_key: str | None, value: Any, split: tuple) -> str:
    base = "all" if series_key is None or value is None else str(value)
    extra = " · ".join(f"{k}={v}" for k, v in split if v is not None)
    return f"{base} · {extra}" if extra else base


def _tip(prefix: str, x_key: str, x: Any, c: S.Cell, unit: str) -> str:
    ci = f" [{fmt(c.ci_low)}, {fmt(c.ci_high)}]" if c.has_ci else " (no interval)"
    n = sum(int(r.get("n") or 0) for r in c.records)
    avg = "".join(f"; mean over {k}: {', '.join(map(str, v))}" for k, v in c.averaged.items())
    depth = {S.bd(r).get("depth") for r in c.records} - {None}
    at = f"; depth {', '.join(map(str, sorted(depth)))}" if x_key != "depth" and depth else ""
    return f"{prefix} · {x_key} {x}: {fmt(c.value, 4)} {unit}{ci}{f'; n={n}' if n else ''}{at}{avg}"


def build_group(docs: Sequence[dict[str, Any]], spec: dict[str, Any], task_info: dict[str, Any], *,
                fig_prefix: str, palette: Palette) -> FigureGroup:
    """The charts of one figure spec for one system's runs (one chart per facet value)."""
    x, series_key, facet = spec.get("x") or "depth", spec.get("series"), spec.get("facet")
    categorical = bool(spec.get("categorical"))
    unit = metric_info(task_info, spec["metric"]).get("unit", "")
    keep = {x, series_key, facet, *(spec.get("where") or {})} - {None}
    recs = [r for r in _records(docs, spec, baseline=False) if x in S.bd(r)]
    if not categorical:
        recs = [r for r in recs if S._num(S.bd(r)[x]) is not None]
    recs = S.reduce_overall(recs, keep)
    keys = [facet, series_key, x]
    split = S.split_keys(recs, [k for k in keys if k])
    cells = S.group(recs, keys, split)
    facets = list(dict.fromkeys(k[0][0] for k in cells)) or [None]
    categories = list(dict.fromkeys(str(k[0][2]) for k in cells)) if categorical else None
    base = _baselines(docs, spec, series_key, facet) if spec.get("baseline") else {}
    out = FigureGroup(spec)
    for fv in facets:
        series: dict[tuple, Series] = {}
        for (key_vals, split_vals), c in cells.items():
            if key_vals[0] != fv:
                continue
            sv, xv = key_vals[1], key_vals[2]
            label = _label(series_key, sv, split_vals)
            s = series.setdefault((sv, split_vals), Series(
                label, [], colour=palette(label), line=not categorical,
                dash=len(series) % 4, marker=len(series) % 7,
                title=str((task_info.get("roles") or {}).get(sv, "")) if series_key == "role" else ""))
            px = float(categories.index(str(xv))) if categories is not None else float(xv)
            s.points.append(Point(px, c.value, c.ci_low, c.ci_high, _tip(label, x, xv, c, unit)))
        refs = [Ref(f"continuous{'' if sv is None else f' · {sv}'}", c.value, c.ci_low, c.ci_high,
                    palette(sv) if sv is not None else 7,
                    _tip(f"continuous baseline{'' if sv is None else f' · {sv}'}", "condition",
                         "continuous", c, unit))
                for (bf, sv), c in base.items() if bf is None or bf == fv]
        title = spec["title"] + (f" · {facet} {fv}" if facet else "")
        fid = f"{fig_prefix}-{spec['id']}" + (f"-{slug(str(fv))}" if facet else "")
        out.charts.append(Figure(fid, title, X_LABELS.get(x, x), axis_label(task_info, spec["metric"]),
                                 list(series.values()), refs, x_categories=categories,
                                 y_range=tuple(spec["y_range"]) if spec.get("y_range") else None,
                                 note=spec.get("note") or "", heatmap=spec.get("kind") == "heatmap"))
        out.n_series.append(len(series))
    return out


def _baselines(docs, spec, series_key, facet) -> dict[tuple, S.Cell]:
    recs = S.reduce_overall(_records(docs, spec, baseline=True), {series_key, facet} - {None})
    out: dict[tuple, S.Cell] = {}
    for (vals, _), c in S.group(recs, [facet, series_key]).items():
        out[(vals[0] if facet else None, vals[1] if series_key else None)] = c
    return out
