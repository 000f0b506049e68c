"""The versioned result schema (JSON Schema draft 2020-12), validated on write and on read.

A result file holds one run of one task: its identity (``run_hash``, over the resolved configuration
and the corpora's content), the task's display facts (``task_info``, from its spec), what was run
(``config`` as asked, ``resolved`` as validated), on what (corpora with fingerprints, the protocol, the
upstream, every fitted quantizer with its params and bitrate), where (provenance) and every metric as a
flat record with unit, direction, interval and breakdown (corpus, role, condition, depth, stage,
emotion, stratum, ...). Per-utterance predictions live in a sidecar CSV (``predictions_file``).

Beyond the JSON Schema, every number must be finite (no NaN/Infinity) and depths and stages are small
non-negative integers, so one malformed file cannot take down a site built for everyone.

Schema history:
  1 -- first release.
  2 -- run_hash (content identity) replaces config_hash; task_info, resolved, quantizers; per_seed values.
        Version-1 files are upgraded on read (``emobench.results.upgrade``).
"""

from __future__ import annotations

import math
from typing import Any

from emobench.errors import SchemaError

SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
MAX_NESTING = 64  # deeper JSON is refused before any recursive validator sees it
MAX_DEPTH_VALUE = 100_000

_NUM = {"type": ["number", "null"]}
_METRIC = {
    "type": "object",
    "required": ["name", "value", "unit", "direction", "breakdown"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "value": _NUM,
        "unit": {"type": "string"},
        "direction": {"enum": ["higher", "lower", "none"]},
        "breakdown": {
            "type": "object",
            "additionalProperties": {"type": ["string", "integer", "number", "null"]},
        },
        "ci_low": _NUM,
        "ci_high": _NUM,
        "n": {"type": ["integer", "null"]},
        "std": _NUM,
        "per_seed": {"type": "array", "items": _NUM},
        "chosen": {"type": "array", "items": {"type": "string"}},  # breakdown keys the protocol chose
    },
}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://emobench.dev/schema/result-v2.json",
    "title": "emobench result",
    "type": "object",
    "required": [
        "schema_version", "run_id", "run_hash", "created_at", "task", "task_info", "config",
        "upstream", "quantizer", "corpora", "protocol", "provenance", "metrics",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "run_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "run_hash": {"type": "string", "pattern": "^[0-9a-f]{8,64}$"},
        "created_at": {"type": "string"},
        "task": {"type": "string", "minLength": 1, "maxLength": 100},
        "synthetic": {"type": "boolean"},
        "task_info": {
            "type": "object",
            "required": ["name", "title", "primary", "metrics"],
            "properties": {
                "title": {"type": "string"}, "primary": {"type": "string"},
                "metrics": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["unit", "direction"],
                    "properties": {"direction": {"enum": ["higher", "lower", "none"]}}}},
                "figures": {"type": "array", "items": {"type": "object", "required": ["id", "title", "metric"]}},
                "paper_table": {"type": ["object", "null"]},  # files written before paper_tables
                "paper_tables": {"type": "array", "items": {"type": "object", "required": ["metric", "values"]}},
                "claims": {"type": "array"},
            },
        },
        "config": {"type": "object"},
        "resolved": {"type": "object"},
        "upstream": {
            "type": "object",
            "required": ["name", "layer", "frame_rate_hz", "dim"],
            "properties": {
                "name": {"type": "string"},
                "layer": {"type": ["integer", "array", "null"]},
                "frame_rate_hz": {"type": "number", "exclusiveMinimum": 0},
                "dim": {"type": "integer", "minimum": 1},
                "trained_on": {"type": "array", "items": {"type": "string"}},
            },
        },
        "quantizer": {
            "type": "object",
            "required": ["name", "layout"],
            "properties": {
                "name": {"type": "string"}, "kind": {"type": "string"}, "layout": {"type": "string"},
                "n_stages": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_DEPTH_VALUE},
                "codebook_size": {"type": ["integer", "null"]}, "bitrate": {"type": "object"},
            },
        },
        "quantizers": {"type": "array", "items": {"type": "object", "required": ["role", "preset", "layout"]}},
        "extra_upstreams": {"type": "object", "additionalProperties": {"type": "object", "required": ["name", "dim"]}},
        "probe": {"type": ["object", "null"]},
        "system": {"type": ["string", "null"]},
        "ci_level": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "corpora": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "fingerprint", "n_utterances", "role"],
                "properties": {
                    "name": {"type": "string"}, "fingerprint": {"type": "string"},
                    "n_utterances": {"type": "integer", "minimum": 0}, "role": {"type": "string"},
                    "synthetic": {"type": "boolean"},
                },
            },
        },
        "protocol": {"type": "object", "required": ["name", "seed"]},
        "provenance": {
            "type": "object",
            "required": ["emobench_version", "packages", "machine", "device", "dtype", "seeds", "timings_s"],
            "properties": {
                "emobench_version": {"type": "string"}, "git_commit": {"type": ["string", "null"]},
                "packages": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "machine": {"type": "object"}, "device": {"type": "string"}, "dtype": {"type": "string"},
                "seeds": {"type": "array", "items": {"type": "integer"}},
                "timings_s": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
            },
        },
        "metrics": {"type": "array", "items": _METRIC},
        "predictions_file": {"type": ["string", "null"]},
        "skipped_file": {"type": ["string", "null"]},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}


def _walk(obj: Any, path: str, depth: int, where: str) -> None:
    """Refuse too-deep nesting and non-finite numbers (iteratively bounded: no RecursionError)."""
    if depth > MAX_NESTING:
        raise SchemaError(f"{where}: field {path or '(top level)'}: nested deeper than {MAX_NESTING} levels")
    if isinstance(obj, float) and not math.isfinite(obj):
        raise SchemaError(f"{where}: field {path}: {obj} is not a finite number (NaN/Infinity are not JSON)")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, f"{path}/{k}" if path else str(k), depth + 1, where)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk(v, f"{path}/{i}", depth + 1, where)


def _check_breakdowns(doc: dict[str, Any], where: str) -> None:
    for i, m in enumerate(doc.get("metrics") or []):
        for key in ("depth", "stage"):
            v = (m.get("breakdown") or {}).get(key) if isinstance(m, dict) else None
            if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DEPTH_VALUE):
                raise SchemaError(f"{where}: field metrics/{i}/breakdown/{key}: {v!r} is not an integer in "
                                  f"0..{MAX_DEPTH_VALUE}")


def validate_result(doc: Any, *, where: str = "result") -> None:
    """Raise SchemaError naming the file and the first offending field."""
    import jsonschema

    if not isinstance(doc, dict):
        raise SchemaError(f"{where}: a result must be a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if version not in SUPPORTED_VERSIONS or version != SCHEMA_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION
        fix = "upgrade emobench (pip install -U emobench)" if newer else (
            "read it with emobench.results.read_result, which upgrades it" if version in SUPPORTED_VERSIONS
            else "re-run the benchmark to regenerate it")
        raise SchemaError(
            f"{where}: schema_version {version!r} is not supported by this emobench "
            f"(writes {SCHEMA_VERSION}, reads {', '.join(map(str, SUPPORTED_VERSIONS))}); {fix}"
        )
    _walk(doc, "", 0, where)
    _check_breakdowns(doc, where)
    validator = jsonschema.Draft202012Validator(RESULT_SCHEMA)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        field = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{where}: field {field}: {err.message}{more}")
