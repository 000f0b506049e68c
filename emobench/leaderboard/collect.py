"""Load result files from many folders (many machines), validate them and merge them.

Invalid and future-version files are reported with file and field and skipped; copies of one run
(same ``run_hash``) are merged with the newest ``created_at`` winning; two files that claim one
run (same ``run_hash`` or ``run_id``) with different numbers are reported as a conflict.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emobench.errors import SchemaError
from emobench.leaderboard.fastcheck import validate_fast

RESULT_KEYS = ("run_id", "metrics", "run_hash", "config_hash")  # a JSON object with none of these is not a result


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: shown by ``validate``/``build`` and on the site's index."""

    path: str
    field: str
    message: str
    kind: str = "invalid"  # invalid | future-version | conflict | render

    def __str__(self) -> str:
        return f"{self.path}: [{self.kind}] field {self.field}: {self.message}"


@dataclass
class Run:
    doc: dict[str, Any]
    path: Path
    written_version: Any = None  # the schema_version of the file as written (v1 files are upgraded on read)

    @property
    def run_id(self) -> str:
        return self.doc["run_id"]

    @property
    def run_hash(self) -> str:
        return self.doc["run_hash"]


@dataclass
class Collection:
    runs: list[Run] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0  # identical copies merged silently
    ignored: list[str] = field(default_factory=list)  # JSON files that are not result files


def _load(path: Path) -> tuple[Any, Problem | None, Any]:
    """(document, problem, the schema_version it was written with); version-1 results are upgraded."""
    from emobench.results.upgrade import upgrade

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and any(k in doc for k in RESULT_KEYS):
            return upgrade(doc), None, doc.get("schema_version")
        return doc, None, None
    except FileNotFoundError:
        return None, Problem(str(path), "(file)", "no such file"), None
    except RecursionError:
        return None, Problem(str(path), "(file)", "nested too deeply to be a result file"), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Problem(str(path), "(file)", f"not valid JSON ({exc})"), None


def _check(path: Path, doc: Any) -> Problem | None:
    try:
        validate_fast(doc, where=str(path))
    except SchemaError as exc:
        return _problem(path, doc, str(exc))
    return None


def check_file(path: str | Path) -> tuple[dict[str, Any] | None, Problem | None]:
    """Read and validate one file; (doc, None) when valid, (None, problem) otherwise."""
    path = Path(path)
    doc, problem, _ = _load(path)
    problem = problem or _check(path, doc)
    return (None, problem) if problem else (doc, None)


def _problem(path: Path, doc: Any, message: str) -> Problem:
    message = message.removeprefix(f"{path}: ")
    if "schema_version" in message and "not supported" in message:
        newer = isinstance(doc, dict) and isinstance(doc.get("schema_version"), int)
        return Problem(str(path), "schema_version", message, "future-version" if newer else "invalid")
    m = re.match(r"field (\S+): (.*)", message)
    return Problem(str(path), m.group(1), m.group(2)) if m else Problem(str(path), "(top level)", message)


SITE_MARKER = ".emobench-site.json"  # a built site holds copies of results: never read them back


def find_files(dirs: Iterable[str | Path]) -> list[Path]:
    """Every ``*.json`` under the folders (recursively; hidden folders and built sites skipped); files
    given directly too."""
    out: list[Path] = []
    for d in dirs:
        d = Path(d)
        if d.is_file():
            out.append(d)
            continue
        sites = {m.parent for m in d.rglob(SITE_MARKER)}
        for p in sorted(d.rglob("*.json")):
            rel = p.relative_to(d).parts
            if any(part.startswith(".") for part in rel) or any(s in p.parents for s in sites):
                continue
            out.append(p)
    return out


def _created(doc: dict[str, Any]) -> datetime:
    try:
        t = datetime.fromisoformat(str(doc.get("created_at", "")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _numbers(doc: dict[str, Any]) -> dict[str, float | None]:
    return {
        json.dumps([m["name"], m.get("breakdown", {})], sort_keys=True): m.get("value") for m in doc["metrics"]
    }


def same_numbers(a: dict[str, Any], b: dict[str, Any]) -> bool:
    na, nb = _numbers(a), _numbers(b)
    if na.keys() != nb.keys():
        return False
    for k, va in na.items():
        vb = nb[k]
        if (va is None) != (vb is None):
            return False
        if va is not None and not math.isclose(va, vb, rel_tol=1e-6, abs_tol=1e-9):
            return False
    return True


def merge(runs: list[Run], col: Collection) -> list[Run]:
    """Deduplicate by run_hash (newest wins), then by run_id; report conflicting numbers."""
    for key in ("run_hash", "run_id"):
        groups: dict[str, list[Run]] = {}
        for r in runs:
            groups.setdefault(getattr(r, key), []).append(r)
        runs = []
        for ident, group in groups.items():
            group.sort(key=lambda r: (_created(r.doc), str(r.path)), reverse=True)
            winner = group[0]
            for loser in group[1:]:
                if same_numbers(winner.doc, loser.doc):
                    col.duplicates += 1
                    continue
                col.problems.append(Problem(
                    str(loser.path), key,
                    f"conflicts with {winner.path}: both claim {key} {ident!r} with different numbers; "
                    f"kept the newer ({winner.doc.get('created_at')})", "conflict",
                ))
            runs.append(winner)
    return runs


def collect(dirs: Iterable[str | Path]) -> Collection:
    col = Collection()
    runs = []
    for path in find_files(dirs):
        doc, problem, version = _load(path)
        if problem is None and isinstance(doc, dict) and not any(k in doc for k in RESULT_KEYS):
            col.ignored.append(str(path))  # e.g. a codebook's JSON config next to the results
            continue
        problem = problem or _check(path, doc)
        if problem:
            col.problems.append(problem)
        else:
            runs.append(Run(doc, path, version))
    col.runs = sorted(merge(runs, col), key=lambda r: (r.doc["task"], r.run_id))
    return col
