"""Older result files read as the current schema: version 1 -> 2 (``run_hash`` from ``config_hash``,
``task_info`` from the catalogue's spec of the task, or from the file itself for an unknown task)."""

from __future__ import annotations

from typing import Any


def upgrade(doc: Any) -> Any:
    """A version-1 document as version 2 (run_hash from config_hash, task_info from the catalogue)."""
    if not isinstance(doc, dict) or doc.get("schema_version") != 1:
        return doc
    out = {**doc, "schema_version": 2, "run_hash": doc.get("config_hash", "0" * 16)}
    out.pop("config_hash", None)
    try:
        from emobench.registries import tasks
        from emobench.results.document import task_info

        out["task_info"] = task_info(tasks.get(doc.get("task")).spec)
    except Exception:  # an unknown task: a minimal description from the file itself
        names = {m.get("name"): m for m in doc.get("metrics") or [] if isinstance(m, dict)}
        out["task_info"] = {"name": doc.get("task"), "title": str(doc.get("task")), "primary": next(iter(names), ""),
                            "metrics": {k: {"unit": m.get("unit", ""), "direction": m.get("direction", "none"),
                                            "display": k} for k, m in names.items()}}
    return out
