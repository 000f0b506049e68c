"""Plot geometry computed in Python, drawn as inline SVG by a template macro (no plotting library).

``layout(figure)`` is pure: data series (with optional intervals), reference lines (the continuous
baseline) and a legend become pixel coordinates and ticks. Every data point is one element of class
``pt`` carrying its hover text, so tests can count points and the page needs no plotting code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DASHES = ("", "6 3", "2 3", "8 3 2 3")
EMOTION_COLOURS = {"angry": 1, "happy": 4, "neutral": 2, "sad": 0, "all": 7, "overall": 7, "mean": 7}
N_COLOURS = 7  # Okabe-Ito without black; colour 7 is the page's foreground colour
N_MARKERS = 7


@dataclass
class Point:
    x: float
    y: float
    lo: float | None = None
    hi: float | None = None
    tip: str = ""
    front: bool = False


@dataclass
class Series:
    label: str
    points: list[Point]
    colour: int | None = None
    marker: int = 0
    dash: int = 0
    line: bool = True
    markers: bool = True
    band: bool = True  # intervals as a band (line charts) or whiskers (categorical / point charts)
    attrs: dict[str, str] = field(default_factory=dict)  # data-* attributes (system, family, upstream)
    title: str = ""  # the legend's hover text (e.g. a role's description)


@dataclass
class Ref:
    """A horizontal reference line (the continuous baseline), with its interval as a band."""

    label: str
    y: float
    lo: float | None = None
    hi: float | None = None
    colour: int | None = None
    tip: str = ""


@dataclass
class LegendItem:
    label: str
    colour: int
    marker: int | None = 0
    line: bool = True
    dash: int = 0
    attr: str = "series"  # clicking toggles every series whose data-<attr> is ``value``
    value: str = ""
    title: str = ""


@dataclass
class Figure:
    fig_id: str
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    x_log: bool = False
    x_categories: list[str] | None = None
    x_fmt: str = "num"  # num | bitrate
    note: str = ""
    y_range: tuple[float, float] | None = None  # always include this range (e.g. 0..1 for entropy)
    legend: list[LegendItem] | None = None  # None: one entry per series and reference line
    width: int = 480
    height: int = 300
    heatmap: bool = False  # rows = series, columns = x values, shade = value (``heatmap_layout``)

    @property
    def n_points(self) -> int:
        return sum(len(s.points) for s in self.series if s.markers)


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return ""
    if x == 0:
        return "0"
    if 1000 <= abs(x) < 1e9:
        return f"{x:,.0f}"
    if abs(x) >= 1e9 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{max(digits - 1, 1)}f}".rstrip("0").rstrip(".")


def fmt_bitrate(bps: float | None) -> str:
    if bps is None:
        return ""
    for scale, unit in ((1e6, "Mbit/s"), (1e3, "kbit/s")):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} bit/s"


def _nice_step(span: float, n: int = 5) -> float:
    raw = span / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def linear_ticks(lo: float, hi: float, *, integer: bool = False) -> tuple[float, float, list[float]]:
    """Nice ticks covering [lo, hi]; ``integer`` keeps them on whole numbers (depths, stages)."""
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 if lo else -1.0, hi + 0.5 if hi else 1.0
    step = _nice_step(hi - lo)
    if integer:
        step = next(m for m in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 10**9) if m >= step)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [start + i * step for i in range(int(round((stop - start) / step)) + 1)]
    return start, stop, [round(t, 10) for t in ticks]


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels with as many decimals as the step needs (0.9925 next to 0.995 stays distinct)."""
    if len(ticks) < 2:
        return [fmt(t) for t in ticks]
    step = abs(ticks[1] - ticks[0])
    if step >= 1000 or step == 0:
        return [fmt(t) for t in ticks]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step * 10**decimals, 6) % 1:
        decimals += 1
    return [f"{t:.{decimals}f}" for t in ticks]


def log_ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """A range padded by a factor 1.6 each side, with ticks at 1-2-5 (short ranges) or decades."""
    lo, hi = lo / 1.6, hi * 1.6
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for mults in ((1,), (1, 2, 5)) if b - a > 3 else ((1, 2, 5),):
        ticks = [m * 10.0**e for e in range(a, b + 1) for m in mults if lo <= m * 10.0**e <= hi]
        if len(ticks) >= 2:
            break
    return lo, hi, ticks


def marker_path(shape: int, x: float, y: float, r: float) -> str:
    """SVG path of marker ``shape`` (1 square, 2 triangle, 3 diamond, 4 down-triangle, 5 plus, 6 star)."""
    if shape == 1:
        s = r * 0.9
        return f"M{x - s:.1f} {y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}Z"
    if shape in (2, 4):
        k = -1 if shape == 2 else 1
        return f"M{x:.1f} {y + k * r * 1.2:.1f}L{x + r * 1.1:.1f} {y - k * r * 0.7:.1f}L{x - r * 1.1:.1f} {y - k * r * 0.7:.1f}Z"
    if shape == 3:
        return f"M{x:.1f} {y - r * 1.3:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r * 1.3:.1f}L{x - r:.1f} {y:.1f}Z"
    if shape == 5:
        a, b = r * 1.2, r * 0.4
        return (f"M{x - b:.1f} {y - a:.1f}h{2 * b:.1f}v{a - b:.1f}h{a - b:.1f}v{2 * b:.1f}h{b - a:.1f}v{a - b:.1f}"
                f"h{-2 * b:.1f}v{b - a:.1f}h{b - a:.1f}v{-2 * b:.1f}h{a - b:.1f}Z")
    pts = []
    for i in range(10):
        rr = r * 1.35 if i % 2 == 0 else r * 0.6
        ang = -math.pi / 2 + i * math.pi / 5
        pts.append(f"{x + rr * math.cos(ang):.1f} {y + rr * math.sin(ang):.1f}")
    return "M" + "L".join(pts) + "Z"


def _colours(fig: Figure) -> list[int]:
    used = {s.colour for s in fig.series if s.colour is not None} | {EMOTION_COLOURS.get(s.label) for s in fig.series}
    free = iter([c for c in range(N_COLOURS) if c not in used] * 8)
    out = []
    for s in fig.series:
        c = s.colour if s.colour is not None else EMOTION_COLOURS.get(s.label)
        out.append(c if c is not None else next(free, len(out) % N_COLOURS))
    return out


def _x_scale(fig: Figure, xs: list[float], left: float, pw: float):
    if fig.x_categories is not None:
        n = max(len(fig.x_categories), 1)
        return (lambda x: left + (x + 0.5) * pw / n), [(left + (i + 0.5) * pw / n, c)
                                                       for i, c in enumerate(fig.x_categories)]
    if fig.x_log:
        lo, hi, ticks = log_ticks(min(xs), max(xs))
        span = math.log10(hi) - math.log10(lo)
        sx = lambda x: left + (math.log10(x) - math.log10(lo)) / span * pw  # noqa: E731
        return sx, [(sx(t), fmt_bitrate(t) if fig.x_fmt == "bitrate" else fmt(t)) for t in ticks]
    lo, hi, ticks = linear_ticks(min(xs), max(xs), integer=all(float(x).is_integer() for x in xs))
    sx = lambda x: left + (x - lo) / (hi - lo) * pw  # noqa: E731
    return sx, list(zip([sx(t) for t in ticks], tick_labels(ticks), strict=True))


def heatmap_layout(fig: Figure) -> dict[str, Any]:
    """A grey-scale grid: one row per series, one column per x value, darker = higher (scaled from the
    smallest to the largest value shown); every cell is a ``pt`` with its hover text."""
    left, right, top, bottom = 96, 12, 10, 44
    cols = sorted({p.x for s in fig.series for p in s.points})
    rows = [s for s in fig.series if s.points]
    values = [p.y for s in rows for p in s.points]
    out: dict[str, Any] = {"fig": fig, "heatmap": True, "empty": not values, "n_points": len(values), "series": [],
                           "refs": [], "legend": [], "width": fig.width, "left": left, "top": top}
    if not values:
        return out
    lo, hi = min(values), max(values)
    pw = fig.width - left - right
    cw, rh = pw / len(cols), 22.0
    ph = rh * len(rows)
    step = max(1, math.ceil(len(cols) / 16))  # at most ~16 column labels
    out.update(pw=pw, ph=ph, height=int(top + ph + bottom), lo=fmt(lo), hi=fmt(hi),
               xticks=[(left + (i + 0.5) * cw, tick_labels([c])[0]) for i, c in enumerate(cols) if i % step == 0])
    for r, s in enumerate(rows):
        cells = [{"x": f"{left + cols.index(p.x) * cw:.1f}", "y": f"{top + r * rh:.1f}", "w": f"{cw:.1f}",
                  "h": f"{rh:.1f}", "shade": f"{0.06 + 0.94 * ((p.y - lo) / (hi - lo) if hi > lo else 1.0):.3f}",
                  "tip": p.tip or f"{s.label}: {fmt(p.y)}"} for p in s.points]
        out["series"].append({"label": s.label, "y": f"{top + (r + 0.5) * rh + 4:.1f}", "cells": cells, "index": r,
                              "attrs": s.attrs})
    return out


def layout(fig: Figure) -> dict[str, Any]:
    """Pixel geometry for the SVG template; see the module docstring."""
    if fig.heatmap:
        return heatmap_layout(fig)
    left, right, top, bottom = 58, 30, 14, 44
    pw, ph = fig.width - left - right, fig.height - top - bottom
    xs = [p.x for s in fig.series for p in s.points if not fig.x_log or p.x > 0]
    ys = [v for s in fig.series for p in s.points for v in (p.y, p.lo, p.hi) if v is not None]
    ys += [v for r in fig.refs for v in (r.y, r.lo, r.hi) if v is not None]
    out: dict[str, Any] = {"fig": fig, "width": fig.width, "height": fig.height, "left": left, "top": top, "pw": pw,
                           "ph": ph, "n_points": fig.n_points, "series": [], "refs": [], "xticks": [], "yticks": [],
                           "empty": not xs, "legend": [], "heatmap": False}
    if not xs:
        return out
    sx, out["xticks"] = _x_scale(fig, xs, left, pw)
    y_lo, y_hi = min(ys), max(ys)
    if fig.y_range:
        y_lo, y_hi = min(y_lo, fig.y_range[0]), max(y_hi, fig.y_range[1])
    ylo, yhi, yt = linear_ticks(y_lo, y_hi)
    sy = lambda y: top + ph - (y - ylo) / (yhi - ylo) * ph  # noqa: E731
    out["yticks"] = list(zip([sy(t) for t in yt], tick_labels(yt), strict=True))
    many = len(fig.series) > 2  # bands of many series hide each other: whiskers instead
    colours = _colours(fig)
    n_cat = len(fig.series) if fig.x_categories is not None else 1
    slot = pw / max(len(fig.x_categories or [1]), 1)
    for i, s in enumerate(fig.series):
        dodge = (i - (n_cat - 1) / 2) * min(slot * 0.7 / n_cat, 18) if n_cat > 1 else 0.0
        pts = sorted((p for p in s.points if not fig.x_log or p.x > 0), key=lambda p: p.x)
        coords = [(sx(p.x) + dodge, sy(p.y)) for p in pts]
        path = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in coords) if s.line and len(coords) > 1 else ""
        with_ci = [(sx(p.x) + dodge, sy(p.lo), sy(p.hi)) for p in pts if p.lo is not None and p.hi is not None]
        band = ""
        if s.band and s.line and not many and len(with_ci) > 1 and len(with_ci) == len(pts):
            band = ("M" + "L".join(f"{x:.1f} {hi:.1f}" for x, _, hi in with_ci)
                    + "L" + "L".join(f"{x:.1f} {lo:.1f}" for x, lo, _ in reversed(with_ci)) + "Z")
        whiskers = "" if band else "".join(f"M{x:.1f} {lo:.1f}V{hi:.1f}" for x, lo, hi in with_ci)
        r = 3.2 if s.line else 4.5
        points = [{"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": r + (1.5 if p.front else 0), "front": p.front,
                   "d": marker_path(s.marker % N_MARKERS, x, y, r) if s.marker % N_MARKERS else "",
                   "tip": p.tip or f"{s.label}: {fmt(p.y)}", "x": p.x, "y": p.y}
                  for p, (x, y) in zip(pts, coords, strict=True)] if s.markers else []
        out["series"].append({"label": s.label, "colour": colours[i], "dash": DASHES[s.dash % len(DASHES)],
                              "path": path, "band": band, "whiskers": whiskers, "points": points, "index": i,
                              "attrs": s.attrs, "line": s.line, "marker": s.marker % N_MARKERS, "title": s.title,
                              "dash_index": s.dash})
    for j, ref in enumerate(fig.refs):
        colour = ref.colour if ref.colour is not None else EMOTION_COLOURS.get(ref.label, 7)
        band = whisker = None
        if ref.lo is not None and ref.hi is not None:
            if len(fig.refs) <= 2:
                band = (f"{sy(ref.hi):.1f}", f"{max(sy(ref.lo) - sy(ref.hi), 0.5):.1f}")
            else:  # one short whisker per line at the right edge, staggered
                whisker = (f"{left + pw - 4 - 5 * j:.1f}", f"{sy(ref.lo):.1f}", f"{sy(ref.hi):.1f}")
        out["refs"].append({"label": ref.label, "colour": colour, "y": f"{sy(ref.y):.1f}", "band": band,
                            "whisker": whisker, "tip": ref.tip or f"{ref.label}: {fmt(ref.y)}", "index": j})
    if fig.legend is not None:
        out["legend"] = fig.legend
    else:
        out["legend"] = [LegendItem(s["label"], s["colour"], s["marker"], s["line"], s["dash_index"], "series",
                                    str(i), s["title"]) for i, s in enumerate(out["series"])]
        out["legend"] += [LegendItem(r["label"], r["colour"], None, True, 1, "ref", str(r["index"]),
                                     "the continuous (unquantized) baseline") for r in out["refs"]]
    return out
