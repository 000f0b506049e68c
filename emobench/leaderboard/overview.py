"""The overview: emotion preservation versus the bitrate actually sent, and one row per system.

One chart per task (its primary metric on the y axis, as its spec names it): a point per (system,
depth) at the bits that depth sends, a line per system through its depths, colour = quantizer family,
marker = upstream, and the Pareto front of real and of synthetic points apart. One table row per
(system, real|synthetic) with the model facts beside every score and ranks only within a cohort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import paths
from emobench.leaderboard import scores as C
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run
from emobench.leaderboard.figures import axis_label, metric_info
from emobench.leaderboard.plot import (
    N_COLOURS,
    N_MARKERS,
    Figure,
    LegendItem,
    Point,
    Series,
    fmt,
    fmt_bitrate,
)


@dataclass
class Styles:
    """Colour per family and marker per upstream, the same in every chart and legend of the site."""

    families: dict[str, int]
    upstreams: dict[str, int]

    @classmethod
    def of(cls, points: Sequence[C.OpPoint]) -> Styles:
        fams = sorted({p.family for p in points})
        ups = sorted({p.system.upstream for p in points})
        return cls({f: i % N_COLOURS for i, f in enumerate(fams)}, {u: i % N_MARKERS for i, u in enumerate(ups)})


def labels(points: Sequence[C.OpPoint]) -> dict[str, str]:
    """system key -> a short label, with probe / layer / extra keys added only where labels collide."""
    ids = {p.system.key: p.system for p in points}
    out = {k: f"{s.upstream} · {Y.quantizer_label(s.preset, s.layout)}" for k, s in ids.items()}
    for extra in (lambda s: s.probe, lambda s: f"L{s.layer}", lambda s: " ".join(f"{k}={v}" for k, v in s.extra)):
        seen: dict[str, list[str]] = {}
        for k, lab in out.items():
            seen.setdefault(lab, []).append(k)
        for lab, keys in seen.items():
            if len(keys) > 1:
                for k in keys:
                    out[k] = f"{lab} · {extra(ids[k])}".rstrip(" ·")
    return out


def _tip(label: str, p: C.OpPoint, unit: str, n: int) -> str:
    ci = f" [{fmt(p.ci_low)}, {fmt(p.ci_high)}]" if p.ci_low is not None and p.ci_high is not None else ""
    at = f"depth {p.depth}" if p.depth is not None else "headline"
    note = f" ({p.bitrate_note})" if p.bitrate_note else ""
    runs = f"; mean of {n} runs" if n > 1 else ""
    return (f"{label} · {p.family} · {at} · {fmt_bitrate(p.bitrate)}{note}: {fmt(p.value, 4)} {unit}{ci} · "
            f"on {', '.join(p.corpora) or '—'}{' · SYNTHETIC' if p.synthetic else ''}{runs}")


def task_chart(task: str, points: Sequence[C.OpPoint], info: dict[str, Any], styles: Styles,
               names: dict[str, str]) -> Figure:
    """Primary metric vs bitrate for one task (see the module docstring)."""
    primary = info.get("primary", "")
    unit = metric_info(info, primary).get("unit", "")
    direction = metric_info(info, primary).get("direction", "none")
    lines: dict[tuple, dict[Any, list[C.OpPoint]]] = {}
    for p in points:
        if p.bitrate and p.bitrate > 0:
            lines.setdefault((p.system.key, p.synthetic, p.corpora), {}).setdefault(p.depth, []).append(p)
    series, flat = [], []
    for (key, synthetic, _), by_depth in sorted(lines.items(), key=lambda kv: (kv[0][1], names[kv[0][0]])):
        pts = []
        for _, ps in sorted(by_depth.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
            m = lambda xs: sum(xs) / len(xs) if xs and None not in xs else None  # noqa: E731
            avg = C.OpPoint(**{**ps[0].__dict__, "value": m([p.value for p in ps]), "bitrate": m([p.bitrate for p in ps]),
                               "ci_low": m([p.ci_low for p in ps]), "ci_high": m([p.ci_high for p in ps])})
            pts.append(Point(avg.bitrate, avg.value, avg.ci_low, avg.ci_high, _tip(names[key], avg, unit, len(ps))))
            flat.append((pts[-1], synthetic))
        first = next(iter(by_depth.values()))[0]
        series.append(Series(names[key], pts, colour=styles.families[first.family],
                             marker=styles.upstreams[first.system.upstream], band=False,
                             attrs={"system": key, "family": first.family, "upstream": first.system.upstream,
                                    "synthetic": "1" if synthetic else "0"}))
    for synthetic in (False, True):
        group = [pt for pt, syn in flat if syn == synthetic]
        front = C.pareto([(pt.x, pt.y) for pt in group], direction)
        for i in front:
            group[i].front = True
        if front:
            line = sorted((Point(group[i].x, group[i].y) for i in front), key=lambda q: q.x)
            series.append(Series("Pareto front" + (" (synthetic)" if synthetic else ""), line, colour=7, dash=1,
                                 markers=False, band=False, attrs={"front": "1", "synthetic": "1" if synthetic else "0"}))
    legend = [LegendItem(f, c, None, True, 0, "family", f, "quantizer family (kind + training composition)")
              for f, c in styles.families.items() if any(s.attrs.get("family") == f for s in series)]
    legend += [LegendItem(u, 7, m, False, 0, "upstream", u, "upstream encoder")
               for u, m in styles.upstreams.items() if any(s.attrs.get("upstream") == u for s in series)]
    legend.append(LegendItem("Pareto front", 7, None, True, 1, "front", "1",
                             "no other point sends fewer bits and scores better"))
    return Figure(f"overview-{paths.slug(task)}", info.get("title") or task, "bitrate actually sent (bit/s, log scale)",
                  axis_label(info, primary), series, x_log=True, x_fmt="bitrate", legend=legend, width=620, height=360,
                  note=f"One point per system and RVQ depth at the bits that depth sends; ringed points are on the "
                       f"Pareto front ({'lower' if direction == 'lower' else 'higher'} is better), computed for real "
                       "and synthetic runs apart.")


@dataclass
class SystemRow:
    key: str
    label: str
    system: Y.SystemId
    family: str
    synthetic: bool
    facts: dict[str, Any]
    cells: dict[str, C.Headline] = field(default_factory=dict)
    corpora: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    runs: list[tuple[str, str, str]] = field(default_factory=list)  # (task, href, run_id)
    versions: list[str] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    bitrates: tuple[float | None, float | None] = (None, None)
    domain: str = "zero-shot"


def system_rows(points: Sequence[C.OpPoint], runs: Sequence[Run], names: dict[str, str]) -> tuple[list[SystemRow], dict]:
    """One row per (system, synthetic), and cohort -> size (see ``scores.rank_cohorts``)."""
    heads = C.headlines(points)
    tasks = sorted({p.task for p in points}, key=paths.task_sort_key)
    sizes = C.rank_cohorts(heads, {t: C.direction(runs, t) for t in tasks})
    rows: dict[tuple[str, bool], SystemRow] = {}
    for p in points:
        row = rows.get((p.system.key, p.synthetic))
        if row is None:
            row = rows[(p.system.key, p.synthetic)] = SystemRow(
                p.system.key, names[p.system.key], p.system, p.family, p.synthetic, Y.model_facts(p.run.doc))
        if p.task not in row.tasks:
            row.tasks.append(p.task)
        row.corpora = sorted(set(row.corpora) | set(p.corpora))
        ref = (p.task, paths.run_stem(p.run.run_id, p.run.run_hash) + ".html", p.run.run_id)
        if ref not in row.runs:
            row.runs.append(ref)
            row.versions = sorted(set(row.versions) | {str(p.run.doc["provenance"].get("emobench_version"))})
            row.schemas = sorted(set(row.schemas) | {str(p.run.written_version)})
            if Y.model_facts(p.run.doc)["seen"]:
                row.domain = "in-domain"
                row.facts = {**row.facts, "seen": sorted(set(row.facts["seen"]) | set(Y.model_facts(p.run.doc)["seen"]))}
        if p.bitrate:
            lo, hi = row.bitrates
            row.bitrates = (min(lo or p.bitrate, p.bitrate), max(hi or p.bitrate, p.bitrate))
    for (key, task, synthetic), h in heads.items():
        rows[(key, synthetic)].cells[task] = h
    for r in rows.values():
        r.tasks.sort(key=paths.task_sort_key)
        r.runs.sort(key=lambda t: (paths.task_sort_key(t[0]), t[2]))

    def order(r: SystemRow) -> tuple:
        """Real before synthetic; then by the first task the system ran, best rank in its cohort first."""
        first = r.tasks[0] if r.tasks else ""
        h = r.cells.get(first)
        return (r.synthetic, paths.task_sort_key(first), h.cohort if h else (), h.rank if h and h.rank else 1e9,
                r.label)

    return sorted(rows.values(), key=order), sizes
