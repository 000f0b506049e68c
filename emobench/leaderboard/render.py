"""The Jinja environment of the site: autoescaped, strict, and inert for hostile text.

Every value printed into a page passes ``inert``: HTML is escaped by autoescaping, and Unicode bidi
controls (U+202A-E, U+2066-9, U+200E/F, U+061C), which would silently reorder what a visitor reads
(a run id that displays as something else), are shown as visible ``⟨U+202E⟩`` marks instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from emobench.leaderboard import claims, paths, plot

BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    return BIDI.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def _finalize(value: Any) -> Any:
    if type(value) is not str:  # numbers, and Markup from macros (already inert)
        return value
    return inert(value) if BIDI.search(value) else value


def _num(value: Any, digits: int = 3) -> str:
    return plot.fmt(value, digits) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _signed(value: Any, digits: int = 2) -> str:
    return f"{value:+.{digits}f}" if isinstance(value, (int, float)) else ""


def _table_num(value: Any, signed: bool) -> str:
    """A paper-table number: two decimals, with its sign when the table holds changes."""
    if not isinstance(value, (int, float)):
        return ""
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _params(n: Any) -> str:
    if not isinstance(n, (int, float)):
        return ""
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f}"


def template_env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, finalize=_finalize,
    )
    env.filters.update(fmt=_num, signed=_signed, table_num=_table_num, bitrate=plot.fmt_bitrate, params=_params, inert=inert,
                       pretty=lambda x: inert(json.dumps(x, indent=2, ensure_ascii=False)), slug=paths.slug,
                       safe_id=paths.safe_id)
    env.globals.update(plot_layout=plot.layout, task_page=paths.task_page, marker_path=plot.marker_path,
                       effect=claims.effect_text)
    return env
