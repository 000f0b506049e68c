"""Pure functions from merged runs to the overview's rows, ranks and the bitrate/preservation points.

A *system* is one (upstream, quantizer, layout); the overview has one row per system, each number
the mean over that system's runs of the first task (in ``TASK_ORDER``) that reports the metric.
No HTML here: templates lay these rows out, tests check them directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard.collect import Run

TASK_ORDER = ("rq1", "rq2", "rq3", "rq4", "ood-ser")
# task -> metric names whose headline ranks systems within that task
TASK_PRIMARY = {"rq1": S.RECALL, "rq2": ("matched_recall",), "rq3": S.JS, "rq4": S.DELTA, "ood-ser": S.MACRO_F1}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    names: tuple[str, ...]
    unit: str
    direction: str  # higher | lower
    prefer: tuple[str, ...] = ()  # tasks asked first for this column (then TASK_ORDER)


COLUMNS = (
    Column("cosine", "Cosine", S.COSINE, "cosine", "higher"),
    Column("recall", "Recall", S.RECALL, "fraction", "higher"),
    Column("macro_f1", "Macro-F1", S.MACRO_F1, "fraction", "higher", ("rq4", "ood-ser")),
    Column("js", "JS div.", S.JS, "bits", "lower"),
    Column("top2", "Top-2", S.TOP2, "fraction", "higher"),
    Column("delta", "Δ vs cont.", S.DELTA, "pp", "higher", ("rq4", "ood-ser")),
)


@dataclass
class SystemRow:
    key: str
    upstream: str
    quantizer: str
    layout: str
    bitrate: float | None
    band: str
    values: dict[str, float | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # column -> "rq1, mean of 3 runs"
    tasks: list[str] = field(default_factory=list)
    corpora: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # evaluated corpora the upstream was trained on
    mean_rank: float | None = None
    n_ranked: int = 0
    runs: list[tuple[str, str, str]] = field(default_factory=list)  # (short label, page href, run_id)
    synthetic: bool = False


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "run"


def task_page(task: str) -> str:
    """Site-relative path of a task's page; the name comes from result files, so it is made safe."""
    safe = slug(task)
    if safe != task:
        import hashlib

        safe = f"{safe}-{hashlib.sha1(task.encode()).hexdigest()[:8]}"
    return f"task-{safe}.html"


def run_page(run: Run) -> str:
    """Site-relative path of a run's detail page (safe file name whatever the run_id holds)."""
    return f"runs/{slug(run.run_id)}-{run.run_hash[:8]}.html"


def run_json(run: Run) -> str:
    return run_page(run)[: -len(".html")] + ".json"


def system_key(doc: dict[str, Any]) -> str:
    q = doc["quantizer"]
    return f"{doc['upstream']['name']} · {q['name']} · {q.get('layout', '')}"


def task_sort_key(task: str) -> tuple[int, str]:
    return (TASK_ORDER.index(task) if task in TASK_ORDER else len(TASK_ORDER), task)


def group_systems(runs: Sequence[Run]) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for r in runs:
        out.setdefault(system_key(r.doc), []).append(r)
    return out


def mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def run_delta(doc: dict[str, Any]) -> float | None:
    """Change versus the continuous baseline in percentage points (reported, or recomputed)."""
    direct = S.headline(doc, S.DELTA)
    if direct is not None:
        return S.as_points(direct, S.unit_of(doc, S.DELTA))
    for names in (S.MACRO_F1, S.RECALL):
        ours, base = S.headline(doc, names), S.baseline(doc, names)
        if ours is not None and base is not None:
            return S.as_points(ours - base, S.unit_of(doc, names))
    return None


def column_value(col: Column, doc: dict[str, Any]) -> float | None:
    return run_delta(doc) if col.key == "delta" else S.headline(doc, col.names)


def _by_task(runs: Sequence[Run]) -> list[tuple[str, list[Run]]]:
    tasks: dict[str, list[Run]] = {}
    for r in runs:
        tasks.setdefault(r.doc["task"], []).append(r)
    return sorted(tasks.items(), key=lambda kv: task_sort_key(kv[0]))


def primary_names(task: str, runs: Sequence[Run]) -> tuple[str, ...]:
    for r in runs:  # the task's own primary metric, from its spec (copied into every result)
        primary = (r.doc.get("task_info") or {}).get("primary")
        if primary:
            return (primary,)
    if task in TASK_PRIMARY:
        return TASK_PRIMARY[task]
    for r in runs:
        for m in r.doc["metrics"]:
            if m.get("direction") in ("higher", "lower") and m.get("value") is not None:
                return (m["name"],)
    return ()


def _direction(runs: Sequence[Run], names: tuple[str, ...]) -> str:
    for r in runs:
        recs = S.records(r.doc, names)
        if recs:
            return recs[0].get("direction", "none")
    return "none"


def ranks(scores: dict[str, float], direction: str) -> dict[str, float]:
    """Rank 1 = best; ties share the mean of their ranks."""
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


def mean_ranks(systems: dict[str, list[Run]]) -> dict[str, tuple[float, int]]:
    """system -> (mean rank over the tasks it was ranked in, number of such tasks)."""
    all_runs = [r for rs in systems.values() for r in rs]
    per_system: dict[str, list[float]] = {k: [] for k in systems}
    for task, task_runs in _by_task(all_runs):
        names = primary_names(task, task_runs)
        direction = _direction(task_runs, names)
        if direction not in ("higher", "lower"):
            continue
        scores = {}
        for key, rs in systems.items():
            v = mean([S.headline(r.doc, names) for r in rs if r.doc["task"] == task])
            if v is not None:
                scores[key] = v
        for key, rank in ranks(scores, direction).items():
            per_system[key].append(rank)
    return {k: (sum(v) / len(v), len(v)) for k, v in per_system.items() if v}


def overview_rows(runs: Sequence[Run]) -> list[SystemRow]:
    """One row per system, best mean rank first (systems without a rank last)."""
    systems = group_systems(runs)
    rank = mean_ranks(systems)
    rows = []
    for key, rs in systems.items():
        doc0 = rs[0].doc
        bps = mean([S.bitrate(r.doc) for r in rs])
        row = SystemRow(
            key=key, upstream=doc0["upstream"]["name"], quantizer=doc0["quantizer"]["name"],
            layout=str(doc0["quantizer"].get("layout", "")), bitrate=bps, band=S.band(bps),
            tasks=sorted({r.doc["task"] for r in rs}, key=task_sort_key),
            corpora=sorted({c for r in rs for c in S.evaluated_corpora(r.doc)}),
            seen=sorted({c for r in rs for c in S.seen_corpora(r.doc)}),
            runs=[(f"{r.doc['task']}·{r.run_hash[:6]}", run_page(r), r.run_id)
                  for r in sorted(rs, key=lambda r: (task_sort_key(r.doc["task"]), r.run_id))],
            synthetic=any(r.doc.get("synthetic") for r in rs),
        )
        for col in COLUMNS:
            row.values[col.key] = None
            by_task = sorted(_by_task(rs), key=lambda kv: col.prefer.index(kv[0]) if kv[0] in col.prefer else 99)
            for task, task_runs in by_task:
                v = mean([column_value(col, r.doc) for r in task_runs])
                if v is not None:
                    row.values[col.key] = v
                    row.sources[col.key] = f"from {task}, mean of {len(task_runs)} run(s)"
                    break
        row.mean_rank, row.n_ranked = rank.get(key, (None, 0))
        rows.append(row)
    rows.sort(key=lambda r: (r.mean_rank is None, r.mean_rank or 0.0, r.key))
    return rows


def metric_table(doc: dict[str, Any]) -> list[tuple[str, Any, str, str, str, str, str]]:
    """A run page's metrics table: (name, value, shown value, unit, better, breakdown, CI / n) per record."""
    from emobench.leaderboard.plot import fmt

    better = {"higher": "↑ higher", "lower": "↓ lower"}
    out = []
    for m in doc["metrics"]:
        ci = f"[{fmt(m['ci_low'])}, {fmt(m.get('ci_high'))}]" if m.get("ci_low") is not None else ""
        n = f" n={m['n']}" if m.get("n") is not None else ""
        breakdown = "  ".join(f"{k}={v}" for k, v in sorted(m.get("breakdown", {}).items()))
        value = m.get("value")
        out.append((m["name"], "" if value is None else value, fmt(value, 4), m.get("unit", ""),
                    better.get(m.get("direction"), ""), breakdown, (ci + n).strip()))
    return out
