"""Operating points: a task's primary metric per (system, depth) with the bitrate actually sent there.

The primary metric and its filter come from the task's spec (``task_info.primary`` and the ``where``
of the first figure that draws it), so RQ3 is read at oracle routing and RQ4 at the mean over OOD
corpora without naming either task. Ranks compare only systems in one *cohort*: the same task on the
same evaluated corpora, real and synthetic runs never together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run


@dataclass(frozen=True)
class OpPoint:
    task: str
    system: Y.SystemId
    family: str
    depth: int | None
    bitrate: float | None
    value: float
    ci_low: float | None
    ci_high: float | None
    corpora: tuple[str, ...]
    synthetic: bool
    run: Run
    role: Any = None
    bitrate_note: str = ""

    @property
    def cohort(self) -> tuple:
        return (self.task, self.corpora, self.synthetic)


def primary_where(info: dict[str, Any]) -> dict[str, Any]:
    """The filter under which a task's primary metric is read: its first figure's ``where``, else the
    single-valued entries of ``summary_where``."""
    primary = info.get("primary")
    for fig in info.get("figures") or []:
        if fig.get("metric") == primary:
            return dict(fig.get("where") or {})
    return {k: v[0] for k, v in (info.get("summary_where") or {}).items() if isinstance(v, list) and len(v) == 1}


def run_points(run: Run) -> list[OpPoint]:
    """Every operating point of a run: its primary metric per (role, layout, depth) and other keys
    that keep records apart (e.g. ``scoring``), averaged over corpora unless the run reports a mean."""
    doc = run.doc
    info = doc.get("task_info") or {}
    metric = info.get("primary")
    if not metric:
        return []
    w = primary_where(info)
    recs = S.records(doc, metric)
    recs = S.reduce_overall(S.where(recs, S.resolve_depths(recs, w)), set(w))
    keys = ["role", "layout", "depth"]
    split = [k for k in S.split_keys(recs, keys) if k not in w]
    corpora = tuple(S.evaluated_corpora(doc))
    out = []
    for (vals, extra), c in S.group(recs, keys, split).items():
        role, layout, depth = vals
        q = Y.fitted(doc, role, layout)
        bps, note = Y.bitrate(doc, role, layout, depth)
        out.append(OpPoint(doc["task"], Y.system_id(doc, role, layout, tuple(extra)), Y.family(q),
                           depth if isinstance(depth, int) else None, bps, c.value, c.ci_low, c.ci_high, corpora,
                           bool(doc.get("synthetic")), run, role, note))
    return out


def direction(runs: Sequence[Run], task: str) -> str:
    for r in runs:
        if r.doc["task"] == task:
            info = r.doc.get("task_info") or {}
            return ((info.get("metrics") or {}).get(info.get("primary")) or {}).get("direction", "none")
    return "none"


def ranks(scores: dict[Any, float], direction: str) -> dict[Any, float]:
    """Rank 1 = best; ties share the mean of their ranks; no ranks without a better direction."""
    if direction not in ("higher", "lower"):
        return {}
    order = sorted(scores, key=lambda k: scores[k], reverse=direction == "higher")
    out, i = {}, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in order[i : j + 1]:
            out[k] = (i + j) / 2 + 1
        i = j + 1
    return out


def pareto(points: Sequence[tuple[float, float]], direction: str) -> set[int]:
    """Indices of points no other point beats (lower-or-equal bitrate and better-or-equal value);
    of exact duplicates only the first is marked."""
    sign = -1.0 if direction == "lower" else 1.0
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -sign * points[i][1], i))
    front, best = set(), float("-inf")
    for i in order:
        if sign * points[i][1] > best:
            front.add(i)
            best = sign * points[i][1]
    return front


@dataclass
class Headline:
    """One system's number on one task: at the deepest depth it reports, within one cohort."""

    value: float
    ci_low: float | None
    ci_high: float | None
    bitrate: float | None
    depth: int | None
    cohort: tuple
    n_runs: int
    rank: float | None = None
    cohort_size: int = 0


def headlines(points: Sequence[OpPoint]) -> dict[tuple[str, str, bool], Headline]:
    """(system key, task, synthetic) -> headline; a system seen in several cohorts of a task keeps the
    one with the most runs (then the most corpora). Ranks are filled in within each cohort."""
    by: dict[tuple, dict[tuple, list[OpPoint]]] = {}
    for p in points:
        by.setdefault((p.system.key, p.task, p.synthetic), {}).setdefault(p.cohort, []).append(p)
    out: dict[tuple[str, str, bool], Headline] = {}
    for key, cohorts in by.items():
        cohort, pts = max(cohorts.items(), key=lambda kv: (len({id(p.run) for p in kv[1]}), len(kv[0][1]), kv[0][1]))
        deepest = max((p.depth if p.depth is not None else -1) for p in pts)
        at = [p for p in pts if (p.depth if p.depth is not None else -1) == deepest]
        mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
        lows, highs = [p.ci_low for p in at], [p.ci_high for p in at]
        ci = all(x is not None for x in lows + highs)
        out[key] = Headline(mean([p.value for p in at]), mean(lows) if ci else None, mean(highs) if ci else None,
                            mean([p.bitrate for p in at if p.bitrate is not None]), at[0].depth, cohort,
                            len({id(p.run) for p in at}))
    return out


def rank_cohorts(heads: dict[tuple[str, str, bool], Headline], directions: dict[str, str]) -> dict[tuple, int]:
    """Fill ``rank``/``cohort_size`` in place; returns cohort -> number of systems ranked in it."""
    cohorts: dict[tuple, dict[tuple, float]] = {}
    for key, h in heads.items():
        cohorts.setdefault(h.cohort, {})[key] = h.value
    for cohort, scores in cohorts.items():
        for key, rank in ranks(scores, directions.get(cohort[0], "none")).items():
            heads[key].rank, heads[key].cohort_size = rank, len(scores)
    return {c: len(s) for c, s in cohorts.items()}
