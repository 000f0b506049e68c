"""The versioned result schema (JSON Schema draft 2020-12), validated on write and on read.

A result file holds one run of one task: what was run (config + hash), on what (corpora with
fingerprints, protocol, upstream, quantizer with bitrate), where (provenance: versions, git, machine,
device, dtype, batch size, seeds, timings), and every metric as a flat record with its unit,
direction and breakdown (depth, emotion, corpus, stratum, ...). Per-utterance predictions live in a
sidecar CSV named in ``predictions_file`` so that every number can be recomputed.

Schema history:
  1 -- first release.
"""

from __future__ import annotations

from typing import Any

from emobench.errors import SchemaError

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (1,)

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
    },
}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://emobench.dev/schema/result-v1.json",
    "title": "emobench result",
    "type": "object",
    "required": [
        "schema_version", "run_id", "created_at", "task", "config", "config_hash",
        "upstream", "quantizer", "corpora", "protocol", "provenance", "metrics",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "run_id": {"type": "string", "minLength": 1},
        "created_at": {"type": "string"},
        "task": {"type": "string", "minLength": 1},
        "synthetic": {"type": "boolean"},
        "config": {"type": "object"},
        "config_hash": {"type": "string", "pattern": "^[0-9a-f]{8,64}$"},
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
                "name": {"type": "string"},
                "kind": {"type": "string"},
                "layout": {"type": "string"},
                "n_stages": {"type": ["integer", "null"]},
                "codebook_size": {"type": ["integer", "null"]},
                "composition": {"type": ["object", "null"]},
                "bitrate": {"type": "object"},
            },
        },
        "probe": {"type": ["object", "null"]},
        "corpora": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "fingerprint", "n_utterances", "role"],
                "properties": {
                    "name": {"type": "string"},
                    "fingerprint": {"type": "string"},
                    "n_utterances": {"type": "integer", "minimum": 0},
                    "role": {"type": "string"},
                    "synthetic": {"type": "boolean"},
                },
            },
        },
        "protocol": {"type": "object", "required": ["name", "seed"]},
        "provenance": {
            "type": "object",
            "required": ["emobench_version", "packages", "machine", "device", "dtype", "seeds", "timings_s"],
            "properties": {
                "emobench_version": {"type": "string"},
                "git_commit": {"type": ["string", "null"]},
                "packages": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "machine": {"type": "object"},
                "device": {"type": "string"},
                "dtype": {"type": "string"},
                "batch_size": {"type": ["integer", "number", "null"]},
                "seeds": {"type": "array", "items": {"type": "integer"}},
                "timings_s": {"type": "object", "additionalProperties": {"type": "number"}},
            },
        },
        "metrics": {"type": "array", "items": _METRIC},
        "predictions_file": {"type": ["string", "null"]},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}


def validate_result(doc: Any, *, where: str = "result") -> None:
    """Raise SchemaError naming the file and the first offending field."""
    import jsonschema

    if not isinstance(doc, dict):
        raise SchemaError(f"{where}: a result must be a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if version not in SUPPORTED_VERSIONS:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        fix = "upgrade emobench (pip install -U emobench)" if newer else "re-run the benchmark to regenerate it"
        raise SchemaError(
            f"{where}: schema_version {version!r} is not supported by this emobench "
            f"(supports {', '.join(map(str, SUPPORTED_VERSIONS))}); {fix}"
        )
    validator = jsonschema.Draft202012Validator(RESULT_SCHEMA)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        field = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{where}: field {field}: {err.message}{more}")
