"""A task's page: its spec's figures per system (small multiples behind a system picker), its paper
table, and its runs. Everything comes from the runs' ``task_info``; no task is named here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import paths
from emobench.leaderboard import scores as C
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run
from emobench.leaderboard.figures import FigureGroup, Palette, build_group, metric_info
from emobench.leaderboard.paper_table import paper_tables

DEFAULT_SHOWN = 2  # systems drawn when the page opens; the picker shows any others


@dataclass
class Panel:
    key: str
    dom_id: str
    label: str
    runs: list[Run]
    groups: list[FigureGroup] = field(default_factory=list)
    synthetic: bool = False
    shown: bool = False

    @property
    def links(self) -> list[tuple[str, str]]:
        return [(r.run_id, paths.run_stem(r.run_id, r.run_hash) + ".html") for r in self.runs]


@dataclass
class TaskView:
    task: str
    info: dict[str, Any]
    panels: list[Panel] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)  # the spec's paper tables beside ours
    runs: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.info.get("title") or self.task

    @property
    def primary(self) -> dict[str, Any]:
        return {"name": self.info.get("primary", ""), **metric_info(self.info, self.info.get("primary", ""))}


def _info(runs: Sequence[Run]) -> dict[str, Any]:
    newest = max(runs, key=lambda r: str(r.doc.get("created_at")))
    return newest.doc.get("task_info") or {}


def _point_label(p: C.OpPoint) -> str:
    extra = "".join(f" · {k}={v}" for k, v in p.system.extra)
    return f"{p.role or 'system'}: {Y.quantizer_label(p.system.preset, p.system.layout)}{extra}"


def _run_row(run: Run) -> dict[str, Any]:
    doc = run.doc
    pts = C.run_points(run)
    deepest: dict[str, C.OpPoint] = {}
    for p in pts:
        cur = deepest.get(p.system.key)
        if cur is None or (p.depth or -1) > (cur.depth or -1):
            deepest[p.system.key] = p
    facts = Y.model_facts(doc)
    return {"run_id": run.run_id, "href": paths.run_stem(run.run_id, run.run_hash) + ".html",
            "label": Y.run_label(doc), "upstream": doc["upstream"]["name"], "facts": facts,
            "roles": [(q.get("role"), q.get("preset"), q.get("layout")) for q in doc.get("quantizers") or []],
            "corpora": C.S.evaluated_corpora(doc), "created": doc.get("created_at", ""),
            "synthetic": bool(doc.get("synthetic")), "schema": run.written_version,
            "headline": [(_point_label(p), p) for p in deepest.values()]}


def task_view(task: str, runs: Sequence[Run], palette: Palette | None = None) -> TaskView:
    info = _info(runs)
    view = TaskView(task, info)
    palette = palette or Palette()
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(Y.run_system_key(r.doc) + (" · synthetic" if r.doc.get("synthetic") else ""), []).append(r)
    labels: dict[str, str] = {}
    for key, rs in groups.items():
        label = Y.run_label(rs[0].doc)
        labels[key] = label if label not in labels.values() else f"{label} · {paths.safe_id(key)[-8:]}"
    for key in sorted(groups, key=lambda k: (any(r.doc.get("synthetic") for r in groups[k]), labels[k])):
        if not info.get("figures"):  # a task whose spec draws nothing: its runs table only
            break
        rs = groups[key]
        panel = Panel(key, "sys-" + paths.safe_id(key), labels[key], rs, synthetic=bool(rs[0].doc.get("synthetic")))
        for spec in info.get("figures") or []:
            g = build_group([r.doc for r in rs], spec, info, fig_prefix=f"{paths.slug(task)}-{panel.dom_id}",
                            palette=palette)
            if not any(g.n_series):
                view.missing.append(f"{labels[key]}: {spec['title']}")
            panel.groups.append(g)
        view.panels.append(panel)
    real = [p for p in view.panels if not p.synthetic] or view.panels
    for p in real[:DEFAULT_SHOWN]:
        p.shown = True
    view.tables = paper_tables(runs)
    view.runs = [_run_row(r) for r in sorted(runs, key=lambda r: (bool(r.doc.get("synthetic")), r.run_id))]
    return view
