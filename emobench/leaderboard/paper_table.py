"""A task's ``paper_table`` (the paper's own numbers, typed once in its spec) beside ours.

Each cell holds our mean over runs of the table's metric where the breakdown has ``row_key=row`` and
``column_key=column`` (plus the table's ``where``), in the paper's unit (``scale``), with the interval,
the bitrate those records actually sent and the depth they were read at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emobench.leaderboard import select as S
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _cell(items: list[tuple[dict[str, Any], dict[str, Any]]], scale: float) -> dict[str, Any]:
    c = S.cell([r for _, r in items])
    rates = [b for b in (Y.bitrate(doc, S.bd(r).get("role"), S.bd(r).get("layout"), S.bd(r).get("depth"))[0]
                         for doc, r in items) if b is not None]
    depths = sorted({S.bd(r)["depth"] for _, r in items if isinstance(S.bd(r).get("depth"), int)})
    return {"ours": c.value * scale, "lo": c.ci_low * scale if c.has_ci else None,
            "hi": c.ci_high * scale if c.has_ci else None, "n": len({id(d) for d, _ in items}),
            "bitrate": _mean(rates), "depths": depths}


def specs_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A result's paper tables (files from before ``paper_tables`` hold one ``paper_table``)."""
    info = doc.get("task_info") or {}
    return list(info.get("paper_tables") or ([info["paper_table"]] if info.get("paper_table") else []))


def paper_tables(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Every paper table of the task these runs share (its spec's order), each with one block per
    (system, probe); empty when the spec has none."""
    specs = next((specs_of(r.doc) for r in runs if specs_of(r.doc)), [])
    return [_table(spec, runs) for spec in specs]


def _table(spec: dict[str, Any], runs: Sequence[Run]) -> dict[str, Any]:
    row_key, col_key, scale = spec["row_key"], spec["column_key"], float(spec.get("scale") or 1.0)
    values: dict[str, dict[str, float]] = spec.get("values") or {}
    where = spec.get("where") or {}
    continuous = str(where.get("condition")) == "continuous"  # the paper's numbers are continuous features'
    blocks: dict[tuple[str, str], dict[tuple[str, str], list]] = {}
    for run in runs:
        doc = run.doc
        recs = S.records(doc, spec["metric"], baseline=continuous)
        recs = S.reduce_overall(S.where(recs, S.resolve_depths(recs, where)), {row_key, col_key, *where})
        block = blocks.setdefault((Y.system_name(doc), Y.probe_of(doc)[0] if doc.get("probe") else ""), {})
        for r in recs:
            b = S.bd(r)
            if row_key in b and col_key in b:
                block.setdefault((str(b[row_key]), str(b[col_key])), []).append((doc, r))
    paper_rows = list(values)
    paper_cols = list(dict.fromkeys(c for row in values.values() for c in row))
    out = []
    for (upstream, probe), cells in sorted(blocks.items()) or [(("", ""), {})]:
        rows = paper_rows + sorted({r for r, _ in cells} - set(paper_rows))
        cols = paper_cols + sorted({c for _, c in cells} - set(paper_cols))
        out.append({"upstream": upstream, "probe": probe, "columns": cols, "rows": [
            {"key": row, "label": (spec.get("row_labels") or {}).get(row, row), "cells": [
                {**(_cell(cells[(row, col)], scale) if (row, col) in cells else EMPTY),
                 "paper": (values.get(row) or {}).get(col), "column": col} for col in cols]}
            for row in rows]})
    signed = any(v < 0 for row in values.values() for v in row.values())  # a change: show its sign
    return {"title": spec.get("title", ""), "unit": spec.get("unit", ""), "scale": scale, "signed": signed,
            "paper_upstream": spec.get("upstream", ""), "metric": spec["metric"], "blocks": out}


EMPTY = {"ours": None, "lo": None, "hi": None, "n": 0, "bitrate": None, "depths": []}
