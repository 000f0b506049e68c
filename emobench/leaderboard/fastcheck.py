"""Validate result files fast: the same verdicts as ``validate_result``, without its per-metric cost.

jsonschema spends most of its time walking the hundreds of flat metric records of each file. Here the
metric sub-schema is compiled into plain Python checks once; a file whose metrics all pass is validated
by jsonschema with its metrics left out, and any file whose metrics do not pass is validated in full, so
every error message is still jsonschema's own. The compiled check is at least as strict as the schema
(never laxer), and it is only used when the sub-schema uses keywords it understands.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from emobench.results.schema import RESULT_SCHEMA, validate_result

_TYPES: dict[str, Callable[[Any], bool]] = {
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "string": lambda x: isinstance(x, str),
    "null": lambda x: x is None,
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
}
_KNOWN = {"type", "required", "additionalProperties", "properties", "enum", "minLength", "items"}


def compile_check(schema: Any) -> Callable[[Any], bool] | None:
    """A predicate accepting only instances the schema accepts, or None if the schema is beyond us."""
    if not isinstance(schema, dict) or set(schema) - _KNOWN:
        return None
    checks: list[Callable[[Any], bool]] = []
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
        if any(n not in _TYPES for n in names):
            return None
        preds = [_TYPES[n] for n in names]
        checks.append(lambda x: any(p(x) for p in preds))
    if "enum" in schema:
        if not all(isinstance(v, str) for v in schema["enum"]):
            return None
        allowed = frozenset(schema["enum"])
        checks.append(lambda x: isinstance(x, str) and x in allowed)
    if "items" in schema:
        item = compile_check(schema["items"])
        if item is None:
            return None
        checks.append(lambda x: not isinstance(x, list) or all(item(v) for v in x))
    if "minLength" in schema:
        n = schema["minLength"]
        checks.append(lambda x: not isinstance(x, str) or len(x) >= n)
    props: dict[str, Callable[[Any], bool]] = {}
    for key, sub in schema.get("properties", {}).items():
        check = compile_check(sub)
        if check is None:
            return None
        props[key] = check
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra in (True, False) else compile_check(extra)
    if extra not in (True, False) and extra_check is None:
        return None
    required = tuple(schema.get("required", ()))

    def check_object(x: Any) -> bool:
        if not isinstance(x, dict):
            return True  # object keywords say nothing about other types
        if any(k not in x for k in required):
            return False
        for k, v in x.items():
            if k in props:
                if not props[k](v):
                    return False
            elif extra is False or (extra_check is not None and not extra_check(v)):
                return False
        return True

    if {"properties", "required", "additionalProperties"} & set(schema):
        checks.append(check_object)
    return lambda x: all(c(x) for c in checks)


@cache
def _metric_check() -> Callable[[Any], bool] | None:
    metrics = RESULT_SCHEMA.get("properties", {}).get("metrics", {})
    if set(metrics) != {"type", "items"} or metrics.get("type") != "array":
        return None  # e.g. minItems: leaving the metrics out would change the verdict
    return compile_check(metrics["items"])


def _finite(metric: dict) -> bool:
    """No NaN or infinity among a record's numbers (the schema's types let them through; ``validate_result``
    refuses them by name, so a record with one takes the full path)."""
    nums = [metric.get(k) for k in ("value", "ci_low", "ci_high", "std")] + list(metric.get("per_seed") or [])
    return all(not isinstance(v, float) or math.isfinite(v) for v in nums) and all(
        not isinstance(v, float) or math.isfinite(v) for v in metric.get("breakdown", {}).values())


def validate_fast(doc: Any, *, where: str = "result") -> None:
    """Same as ``validate_result(doc, where=where)`` (raises the same SchemaError), only faster."""
    check = _metric_check()
    metrics = doc.get("metrics") if isinstance(doc, dict) else None
    if check is not None and isinstance(metrics, list) and all(check(m) and _finite(m) for m in metrics):
        validate_result({**doc, "metrics": []}, where=where)
    else:
        validate_result(doc, where=where)
