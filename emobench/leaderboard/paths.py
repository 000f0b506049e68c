"""Where each page of the site lives. Names come from result files, so they are made safe here."""

from __future__ import annotations

import hashlib
import re

TASK_ORDER = ("rq1", "rq2", "rq3", "rq4", "ood-ser")  # the paper's order; other tasks follow by name


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-.")[:60] or "x"


def safe_id(text: str) -> str:
    """A DOM id / file stem for any string: readable where possible, unique by a short hash."""
    return f"{slug(text)[:40]}-{hashlib.sha1(str(text).encode()).hexdigest()[:8]}"


def task_page(task: str) -> str:
    """Site-relative path of a task's page."""
    safe = slug(task)
    if safe != task:
        safe = f"{safe}-{hashlib.sha1(task.encode()).hexdigest()[:8]}"
    return f"task-{safe}.html"


def run_stem(run_id: str, run_hash: str) -> str:
    return f"runs/{slug(run_id)}-{str(run_hash)[:8]}"


def task_sort_key(task: str) -> tuple[int, str]:
    return (TASK_ORDER.index(task) if task in TASK_ORDER else len(TASK_ORDER), task)
