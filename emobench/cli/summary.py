"""The terminal summary of a result: the task spec's summary metrics, one row per headline breakdown.

Everything shown comes from the result file (its ``task_info`` carries the metric names, display names
and order), so a new task's metrics appear without touching this module. Rows beyond ``max_rows`` are
never dropped silently: the table ends with "N more rows: see FILE". Intervals are shown as ±half-width.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

DETAIL_KEYS = ("emotion", "stage", "predicted", "book")  # per-emotion/per-stage rows live in the CSV


def _cell(m: dict[str, Any]) -> str:
    v = m.get("value")
    if v is None:
        return "-"
    text = f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    lo, hi = m.get("ci_low"), m.get("ci_high")
    if lo is not None and hi is not None:
        text += f" ±{(hi - lo) / 2:.3f}".replace("±0.", "±.")
    return text


def summary_rows(doc: dict[str, Any]) -> tuple[list[str], list[str], list[tuple[dict, dict]]]:
    """(breakdown columns, metric names, [(breakdown, {metric: record})]) of the headline records."""
    info = doc["task_info"]
    wanted = [m for m in info.get("summary") or [info["primary"]] if m != "bitrate"]
    where = info.get("summary_where") or {}
    rows: dict[tuple, dict[str, dict]] = {}
    rates: dict[tuple, float] = {}
    for m in doc["metrics"]:
        bd = dict(m["breakdown"])
        if any(k in bd for k in DETAIL_KEYS):
            continue
        if m["name"] == "bitrate":
            rates[tuple(sorted((k, v) for k, v in bd.items()))] = m["value"]
            continue
        if m["name"] not in wanted or any(k in bd and bd[k] not in v for k, v in where.items()):
            continue
        rows.setdefault(tuple(bd.items()), {})[m["name"]] = m
    keys: list[str] = []
    for row_key in rows:
        keys += [k for k, _ in row_key if k not in keys]
    constant = {k for k in keys if len({dict(r).get(k) for r in rows}) == 1 and k != "depth"}
    if "depth" in keys:  # the depth column says "continuous" for the baseline: condition adds nothing
        constant.add("condition")
    columns = [k for k in keys if k not in constant]
    out = []
    for row_key, values in rows.items():
        bd = dict(row_key)
        rate_key = tuple(sorted((k, v) for k, v in bd.items() if k != "condition"))
        if rate_key in rates:
            bd["bit/s"] = rates[rate_key]
        out.append((bd, values))
    names = [n for n in wanted if any(n in v for _, v in out)]
    return columns, names, out


def summary_table(doc: dict[str, Any], *, max_rows: int = 40, csv_name: str | None = None) -> Table:
    info = doc["task_info"]
    columns, names, rows = summary_rows(doc)
    constant = {k: v for k, v in (rows[0][0].items() if rows else ())
                if k not in columns and k not in ("bit/s", "condition")}
    title = f"{info.get('title', doc['task'])}: {doc['upstream']['name']} x {doc['quantizer']['name']}"
    title += "".join(f", {k} {v}" for k, v in constant.items())
    table = Table(title=escape(title) + (r"  \[SYNTHETIC demo data]" if doc.get("synthetic") else ""),
                  title_justify="left")
    for k in columns:
        table.add_column(escape(k), no_wrap=True)
    with_rate = any("bit/s" in bd for bd, _ in rows)
    if with_rate:
        table.add_column("bit/s", justify="right")
    metric_info = info.get("metrics") or {}
    for n in names:
        table.add_column(escape((metric_info.get(n) or {}).get("display", n)), justify="right")
    for bd, values in rows[:max_rows]:
        cells = ["continuous" if k == "depth" and bd.get("condition") == "continuous" else str(bd.get(k, ""))
                 for k in columns]
        if with_rate:
            cells.append(f"{bd['bit/s']:,.0f}" if "bit/s" in bd else "")
        table.add_row(*map(escape, cells), *[_cell(values[n]) if n in values else "" for n in names])
    if len(rows) > max_rows:
        where = f"see {csv_name}" if csv_name else "see the result's .metrics.csv"
        table.caption = escape(f"{len(rows) - max_rows} more rows: {where} (--rows N shows more)")
    return table
