"""Write and read result files as one unit: ``<run_id>.json`` (validated), ``<run_id>.metrics.csv`` (the
tidy metrics table), ``<run_id>.predictions.csv`` and ``<run_id>.skipped.csv``.

Every file is first written in full under a temporary name; only when all of them are complete are they
renamed into place, the JSON last (its presence marks a complete result). A full disk or a kill while
writing leaves the previous files of that run untouched and no half-written set behind; the sidecars of
a rerun always replace the old ones (the skipped list is written even when empty).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from emobench.errors import SchemaError
from emobench.fsutil import disk_error, public_mode
from emobench.results.schema import validate_result
from emobench.results.upgrade import upgrade


def metrics_frame(doc: dict[str, Any]):
    """The result's metrics as the tidy table (``emobench.results.table``): one row per record."""
    from emobench.results.table import tidy

    return tidy([doc])


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def with_sidecars(doc: dict[str, Any], *, predictions: bool) -> dict[str, Any]:
    """The document naming its sidecar files (as it is written)."""
    stem = doc["run_id"]
    return {**doc, "predictions_file": f"{stem}.predictions.csv" if predictions else None,
            "skipped_file": f"{stem}.skipped.csv"}


def write_result(doc: dict[str, Any], out_dir: str | Path, *, predictions=None,
                 skipped: list[tuple[str, str]] | None = None) -> Path:
    """Validate and write a result with its sidecars, all or nothing. Returns the JSON path."""
    out_dir = Path(out_dir)
    stem = doc["run_id"]
    doc = with_sidecars(doc, predictions=predictions is not None)
    validate_result(doc, where=str(out_dir / f"{stem}.json"))
    final = {"metrics": out_dir / f"{stem}.metrics.csv", "skipped": out_dir / f"{stem}.skipped.csv",
             "json": out_dir / f"{stem}.json"}
    if predictions is not None:
        final["predictions"] = out_dir / doc["predictions_file"]
    temps = {k: _temp(p) for k, p in final.items()}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics_frame(doc).to_csv(temps["metrics"], index=False)
        if predictions is not None:
            predictions.to_csv(temps["predictions"], index=False)
        with open(temps["skipped"], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["utt_id", "reason"])
            w.writerows(skipped or [])
        temps["json"].write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        for tmp in temps.values():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            public_mode(tmp)
    except OSError as exc:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise disk_error(exc, out_dir, f"result {stem}", "nothing of this result was written") from exc
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for kind in [k for k in temps if k != "json"] + ["json"]:  # renames need no space; the JSON goes last
        os.replace(temps[kind], final[kind])
    return final["json"]


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such result file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
    except RecursionError:
        raise SchemaError(f"{path}: nested too deeply to be a result file") from None


def read_result(path: str | Path) -> dict[str, Any]:
    """Read, upgrade (schema 1 -> 2) and validate one result JSON; errors name the file and field."""
    path = Path(path)
    doc = upgrade(load_json(path))
    validate_result(doc, where=str(path))
    return doc


def existing_results(out_dir: Path) -> dict[str, Path]:
    """run_hash -> result file, for every readable result JSON in ``out_dir``."""
    found = {}
    for path in sorted(Path(out_dir).glob("*.json")) if Path(out_dir).is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("run_hash"), str) and "metrics" in doc:
            found[doc["run_hash"]] = path
    return found
