"""Operating points for the preservation-versus-bitrate plot, and their Pareto front (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard.collect import Run
from emobench.leaderboard.rows import group_systems, mean


@dataclass(frozen=True)
class Point:
    """One operating point on the preservation-versus-bitrate plot."""

    system: str
    upstream: str
    depth: int | None
    bitrate: float
    value: float
    front: bool = False


def _overall_recall_by_depth(doc: dict[str, Any]) -> dict[int, float]:
    out = {}
    for rec in S.records(doc, S.RECALL):
        b = S.effective(rec)
        if set(b) - {"corpus"} == {"depth"} and isinstance(b["depth"], int):
            out.setdefault(b["depth"], []).append(float(rec["value"]))
    return {d: sum(v) / len(v) for d, v in out.items()}


def operating_points(runs: Sequence[Run]) -> list[Point]:
    """Recall at every RVQ depth a run reports (with the bitrate of that depth), else the run's headline."""
    points = []
    for key, rs in group_systems(runs).items():
        per_depth: dict[int, list[tuple[float, float]]] = {}
        for r in rs:
            for d, v in _overall_recall_by_depth(r.doc).items():
                bps = S.bitrate_at_depth(r.doc, d)
                if bps is not None:
                    per_depth.setdefault(d, []).append((bps, v))
        upstream = rs[0].doc["upstream"]["name"]
        if per_depth:
            for d, pairs in sorted(per_depth.items()):
                bps = mean([p[0] for p in pairs])
                if bps and bps > 0:
                    points.append(Point(key, upstream, d, bps, mean([p[1] for p in pairs])))
            continue
        bps = mean([S.bitrate(r.doc) for r in rs])
        value = mean([S.headline(r.doc, S.RECALL) for r in rs])
        if bps is not None and value is not None and bps > 0:
            points.append(Point(key, upstream, None, bps, value))
    return pareto(points)


def pareto(points: Sequence[Point]) -> list[Point]:
    """Mark the points no other point beats (lower-or-equal bitrate and higher-or-equal preservation)."""
    order = sorted(range(len(points)), key=lambda i: (points[i].bitrate, -points[i].value))
    front, best = set(), float("-inf")
    for i in order:
        if points[i].value > best:
            front.add(i)
            best = points[i].value
    return [Point(**{**p.__dict__, "front": i in front}) for i, p in enumerate(points)]
