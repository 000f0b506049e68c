"""The About page: what is measured (from the runs' task_info), every metric's definition, the
protocols the runs used, the paper to cite, how to submit, and what the downloads hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emobench.leaderboard import paths
from emobench.leaderboard.collect import Run

TITLE = "Emotion-Aware Quantization for Discrete Speech Representations: An Analysis of Emotion Preservation"
AUTHORS = ("Haoguang Zhou", "Siyi Wang", "Jingyao Wu", "James Bailey", "Ting Dang")
# The arXiv listing (submitted 22 March 2026) gives no identifier in the text we hold: link a title search.
ARXIV = ("https://arxiv.org/search/?searchtype=title&query="
         "Emotion-Aware+Quantization+for+Discrete+Speech+Representations")
CODE = "https://anonymous.4open.science/r/00000-3C90/README.md"
BIBTEX = """@misc{zhou2026emotionaware,
  title  = {Emotion-Aware Quantization for Discrete Speech Representations:
            An Analysis of Emotion Preservation},
  author = {Zhou, Haoguang and Wang, Siyi and Wu, Jingyao and Bailey, James and Dang, Ting},
  year   = {2026},
  note   = {arXiv preprint, submitted 22 March 2026},
  url    = {""" + ARXIV + """}
}"""

SKIP_PROTOCOL = {"seed", "seeds", "limit", "per_corpus", "splits", "strata"}


def _scalar(v: Any) -> str | None:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return str(v)
    if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
        return ", ".join(map(str, v))
    return None


def tasks(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per task: its newest run's task_info, the number of runs, and the protocol values seen."""
    by: dict[str, list[Run]] = {}
    for r in runs:
        by.setdefault(r.doc["task"], []).append(r)
    out = []
    for task in sorted(by, key=paths.task_sort_key):
        rs = by[task]
        info = max(rs, key=lambda r: str(r.doc.get("created_at"))).doc.get("task_info") or {}
        protocol: dict[str, list[str]] = {}
        for r in rs:
            for k, v in (r.doc.get("protocol") or {}).items():
                text = _scalar(v)
                if k not in SKIP_PROTOCOL and text is not None and text not in protocol.setdefault(k, []):
                    protocol[k].append(text)
        out.append({"task": task, "href": paths.task_page(task), "info": info, "n_runs": len(rs),
                    "protocol": protocol})
    return out


def metrics(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Every metric any task declares: display name, unit, better direction, definition, tasks."""
    out: dict[str, dict[str, Any]] = {}
    for r in runs:
        for name, m in ((r.doc.get("task_info") or {}).get("metrics") or {}).items():
            entry = out.setdefault(name, {"name": name, **m, "tasks": []})
            if r.doc["task"] not in entry["tasks"]:
                entry["tasks"].append(r.doc["task"])
    for e in out.values():
        e["tasks"].sort(key=paths.task_sort_key)
    return sorted(out.values(), key=lambda e: e["name"])


def ci_levels(runs: Sequence[Run]) -> str:
    """The interval levels the runs recorded (``ci_level``), e.g. "95%"; files from before it: 95%."""
    levels = sorted({float(r.doc.get("ci_level") or 0.95) for r in runs}) or [0.95]
    return " / ".join(f"{100 * v:g}%" for v in levels)
