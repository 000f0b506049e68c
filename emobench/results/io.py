"""Write and read result files: ``<run_id>.json`` (validated), ``<run_id>.metrics.csv`` (one row per
metric record, breakdown keys as columns: ``pd.read_csv`` ready) and ``<run_id>.predictions.csv``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emobench.errors import SchemaError
from emobench.fsutil import atomic_path, atomic_write_json
from emobench.results.schema import validate_result


def metrics_frame(doc: dict[str, Any]):
    """Flatten a result's metrics into a DataFrame: one row per record, breakdown keys as columns."""
    import pandas as pd

    rows = []
    for m in doc["metrics"]:
        row = {k: v for k, v in m.items() if k != "breakdown"}
        row.update(m.get("breakdown", {}))
        row.update(
            run_id=doc["run_id"], task=doc["task"], upstream=doc["upstream"]["name"],
            quantizer=doc["quantizer"]["name"],
        )
        rows.append(row)
    return pd.DataFrame(rows)


def write_result(doc: dict[str, Any], out_dir: str | Path, predictions=None) -> Path:
    """Validate and write a result (+ CSV, + optional predictions DataFrame). Returns the JSON path."""
    out_dir = Path(out_dir)
    stem = doc["run_id"]
    if predictions is not None:
        doc = {**doc, "predictions_file": f"{stem}.predictions.csv"}
        with atomic_path(out_dir / doc["predictions_file"]) as tmp:
            predictions.to_csv(tmp, index=False)
    validate_result(doc, where=str(out_dir / f"{stem}.json"))
    with atomic_path(out_dir / f"{stem}.metrics.csv") as tmp:
        metrics_frame(doc).to_csv(tmp, index=False)
    path = out_dir / f"{stem}.json"
    atomic_write_json(path, doc)
    return path


def read_result(path: str | Path) -> dict[str, Any]:
    """Read and validate one result JSON; errors name the file and field."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such result file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
    validate_result(doc, where=str(path))
    return doc
