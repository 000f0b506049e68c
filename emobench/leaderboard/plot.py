"""Plot geometry computed in Python, drawn as inline SVG by a template macro (no plotting library).

``layout(figure)`` is pure: it turns data series into pixel coordinates, ticks and a legend. Every
data point becomes one ``<circle class="pt">`` carrying its values, so hover text works without
JavaScript (SVG ``<title>``) and tests can count points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

W, H = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 28, 16, 48
DASHES = ("", "6 3", "2 3", "8 3 2 3")
EMOTION_COLOURS = {"angry": 1, "happy": 4, "neutral": 2, "sad": 0, "all": 7, "overall": 7}
N_COLOURS = 7  # Okabe-Ito without black; colour 7 is the page's foreground colour


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]  # (x, y); x is a category index when the figure has categories
    colour: int | None = None
    line: bool = True
    markers: bool = True
    tips: list[str] | None = None
    front: list[bool] | None = None  # points on the Pareto front


@dataclass
class Figure:
    fig_id: str
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    x_log: bool = False
    x_categories: list[str] | None = None
    x_fmt: str = "num"  # num | bitrate
    note: str = ""
    y_range: tuple[float, float] | None = None  # always include this range (e.g. 0..1 for entropy)

    @property
    def n_points(self) -> int:
        return sum(len(s.points) for s in self.series if s.markers)


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if 1000 <= abs(x) < 1e9:
        return f"{x:,.0f}"
    if abs(x) >= 1e9 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{max(digits - 1, 1)}f}".rstrip("0").rstrip(".")


def fmt_bitrate(bps: float | None) -> str:
    if bps is None:
        return "—"
    for scale, unit in ((1e6, "Mbit/s"), (1e3, "kbit/s")):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} bit/s"


def _nice_step(span: float, n: int = 5) -> float:
    raw = span / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def linear_ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 if lo else -1.0, hi + 0.5 if hi else 1.0
    step = _nice_step(hi - lo)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [start + i * step for i in range(int(round((stop - start) / step)) + 1)]
    return start, stop, [round(t, 10) for t in ticks]


def log_ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """A range padded by a factor 1.6 each side, with ticks at 1-2-5 (short ranges) or decades."""
    lo, hi = lo / 1.6, hi * 1.6
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for mults in ((1,), (1, 2, 5)) if b - a > 3 else ((1, 2, 5),):
        ticks = [m * 10.0**e for e in range(a, b + 1) for m in mults if lo <= m * 10.0**e <= hi]
        if len(ticks) >= 2:
            break
    return lo, hi, ticks


def layout(fig: Figure) -> dict[str, Any]:
    """Pixel geometry for the SVG template; see the module docstring."""
    xs = [x for s in fig.series for x, _ in s.points]
    ys = [y for s in fig.series for _, y in s.points]
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    out: dict[str, Any] = {"fig": fig, "width": W, "height": H, "left": LEFT, "top": TOP, "pw": pw, "ph": ph,
                           "n_points": fig.n_points, "series": [], "xticks": [], "yticks": [], "empty": not xs}
    if not xs:
        return out
    if fig.x_categories is not None:
        n = max(len(fig.x_categories), 1)
        sx = lambda x: LEFT + (x + 0.5) * pw / n  # noqa: E731
        out["xticks"] = [(sx(i), c) for i, c in enumerate(fig.x_categories)]
    elif fig.x_log:
        lo, hi, ticks = log_ticks(min(xs), max(xs))
        sx = lambda x: LEFT + (math.log10(x) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * pw  # noqa: E731
        out["xticks"] = [(sx(t), fmt_bitrate(t) if fig.x_fmt == "bitrate" else fmt(t)) for t in ticks]
    else:
        lo, hi, ticks = linear_ticks(min(xs), max(xs))
        sx = lambda x: LEFT + (x - lo) / (hi - lo) * pw  # noqa: E731
        out["xticks"] = [(sx(t), fmt(t)) for t in ticks]
    y_lo, y_hi = min(ys), max(ys)
    if fig.y_range:
        y_lo, y_hi = min(y_lo, fig.y_range[0]), max(y_hi, fig.y_range[1])
    ylo, yhi, yt = linear_ticks(y_lo, y_hi)
    sy = lambda y: TOP + ph - (y - ylo) / (yhi - ylo) * ph  # noqa: E731
    out["yticks"] = [(sy(t), fmt(t)) for t in yt]
    free = iter(c for c in range(N_COLOURS) if c not in {EMOTION_COLOURS.get(s.label) for s in fig.series})
    for i, s in enumerate(fig.series):
        colour = s.colour if s.colour is not None else EMOTION_COLOURS.get(s.label)
        if colour is None:
            colour = next(free, i % N_COLOURS)
        pts = sorted(range(len(s.points)), key=lambda j: s.points[j][0])
        coords = [(sx(s.points[j][0]), sy(s.points[j][1])) for j in pts]
        path = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in coords) if s.line and coords else ""
        points = []
        for j in pts if s.markers else []:
            x, y = s.points[j]
            xt = fig.x_categories[int(x)] if fig.x_categories else fmt_bitrate(x) if fig.x_fmt == "bitrate" else fmt(x)
            tip = (s.tips[j] + " — " if s.tips else f"{s.label} — ") + f"{fig.x_label}: {xt}; {fig.y_label}: {fmt(y)}"
            front = bool(s.front and s.front[j])
            points.append({"cx": f"{sx(x):.1f}", "cy": f"{sy(y):.1f}", "x": x, "y": y, "tip": tip, "front": front,
                           "r": 5.5 if front or not s.line else 3.5})
        out["series"].append({"label": s.label, "colour": colour, "dash": DASHES[i % len(DASHES)], "path": path,
                              "points": points, "index": i,
                              "line": s.line, "markers": s.markers})
    return out
