"""Pick metric records out of result documents with the rules every page shares (no per-task code).

A task's spec says *which* records a view wants (a metric, a ``where`` filter, the keys that make the
x axis, the series and the facets); these functions find them in any task's records:

- The continuous baseline is ``condition: continuous`` (v1 files: ``baseline``/``scheme`` continuous);
  it is never a quantized value, only a reference.
- ``where`` keeps records whose breakdown has the given values. A key that a role's records never carry
  does not apply to that role (RQ3's balanced codebook has no ``routing``, so ``routing: oracle`` keeps
  it), while a record that lacks a key its own role carries elsewhere is dropped. ``corpus: mean``
  where no record is the mean keeps every corpus, to be averaged.
- Keys nobody asked for are *reduced*: an overall value (``all``/``mean``/``overall``, or a record
  without the key) is preferred; otherwise records are averaged over ``AVERAGED`` keys (corpora, folds,
  emotions, ...) and kept apart by every other key (role, layout, routing, ...).
Everything here is a pure function of plain dicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

OVERALL = {"all", "mean", "overall"}
AVERAGED = ("corpus", "fold", "emotion", "stratum", "book", "predicted", "stage")


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def bd(rec: dict[str, Any]) -> dict[str, Any]:
    return rec.get("breakdown") or {}


def is_baseline(rec: dict[str, Any]) -> bool:
    b = bd(rec)
    return any(str(b.get(k, "")).lower() == "continuous" for k in ("condition", "baseline", "scheme"))


def records(doc: dict[str, Any], name: str, *, baseline: bool = False) -> list[dict[str, Any]]:
    """Records of metric ``name`` holding a number; the continuous baseline's with ``baseline=True``."""
    return [m for m in doc.get("metrics") or []
            if m.get("name") == name and _num(m.get("value")) is not None and is_baseline(m) == baseline]


_ANY = object()


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)


def where(recs: Sequence[dict[str, Any]], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The records matching ``spec`` (see the module docstring for keys a role does not carry)."""
    if not spec:
        return list(recs)
    spec = dict(spec)
    for k, v in list(spec.items()):  # corpus: mean with no such record = the mean over the corpora present
        if str(v).lower() in OVERALL and k in AVERAGED and not any(_same(bd(r).get(k), v) for r in recs):
            spec[k] = _ANY
    carried: dict[Any, set[str]] = {}
    for r in recs:
        carried.setdefault(bd(r).get("role"), set()).update(k for k in spec if k in bd(r))
    out = []
    for r in recs:
        b, own = bd(r), carried.get(bd(r).get("role"), set())
        if all((v is _ANY or _same(b[k], v)) if k in b else k not in own for k, v in spec.items()):
            out.append(r)
    return out


def resolve_depths(recs: Sequence[dict[str, Any]], spec: dict[str, Any]) -> dict[str, Any]:
    """``depth: min|max`` in a ``where`` as the shallowest/deepest depth these records report."""
    d = spec.get("depth")
    if d not in ("min", "max"):
        return dict(spec)
    depths = [bd(r)["depth"] for r in where(recs, {k: v for k, v in spec.items() if k != "depth"})
              if isinstance(bd(r).get("depth"), int)]
    return {**spec, "depth": (min if d == "min" else max)(depths) if depths else "none"}


def reduce_overall(recs: Sequence[dict[str, Any]], keep: Iterable[str]) -> list[dict[str, Any]]:
    """Prefer overall records for every ``AVERAGED`` key not in ``keep`` (see the module docstring)."""
    keep = set(keep)
    out = list(recs)
    for key in AVERAGED:
        if key in keep:
            continue
        overall = [r for r in out if key not in bd(r) or str(bd(r)[key]).lower() in OVERALL]
        if overall:
            out = overall
    return out


@dataclass
class Cell:
    """The mean of one or more records that a view shows as one number."""

    value: float
    ci_low: float | None
    ci_high: float | None
    n_records: int
    averaged: dict[str, list[Any]] = field(default_factory=dict)  # key -> the values averaged over
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_ci(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None


def cell(recs: Sequence[dict[str, Any]]) -> Cell:
    """Mean value; the interval is the mean of the records' intervals when every record has one."""
    vals = [float(r["value"]) for r in recs]
    lows = [_num(r.get("ci_low")) for r in recs]
    highs = [_num(r.get("ci_high")) for r in recs]
    ci = all(x is not None for x in lows + highs)
    averaged: dict[str, list[Any]] = {}
    for key in AVERAGED:
        seen = list(dict.fromkeys(bd(r).get(key) for r in recs if key in bd(r)))
        if len(seen) > 1:
            averaged[key] = seen
    return Cell(sum(vals) / len(vals), sum(lows) / len(lows) if ci else None,  # type: ignore[arg-type]
                sum(highs) / len(highs) if ci else None, len(recs), averaged, list(recs))


def split_keys(recs: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """Keys beyond ``keys`` (and the averaged ones) whose values differ within one group of ``keys``:
    they keep records apart (two roles in one series), while a key with one value per group (RQ4's
    selected depth per layout) only annotates it."""
    seen: dict[str, dict[tuple, set[str]]] = {}
    for r in recs:
        b = bd(r)
        at = tuple(str(b.get(k)) for k in keys)
        for k, v in b.items():
            if k not in keys and k not in AVERAGED:
                seen.setdefault(k, {}).setdefault(at, set()).add(str(v))
    return sorted(k for k, by_group in seen.items() if any(len(v) > 1 for v in by_group.values()))


def group(recs: Sequence[dict[str, Any]], keys: Sequence[str], split: Sequence[str] = ()) -> dict[tuple, Cell]:
    """Cells keyed by ``(values of keys, ((split key, value), ...))``; everything else is averaged."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in recs:
        b = bd(r)
        groups.setdefault((tuple(b.get(k) for k in keys), tuple((k, b.get(k)) for k in split)), []).append(r)
    return {k: cell(v) for k, v in groups.items()}


def is_evaluated(role: Any) -> bool:
    """'train+eval', 'test', 'held-out', 'ood' score on the corpus; 'train', 'codebook-train' do not."""
    parts = [p for p in str(role).lower().split("+") if p]
    return not parts or any("train" not in p for p in parts)


def evaluated_corpora(doc: dict[str, Any]) -> list[str]:
    """Corpora the run scores on, each named once; with none marked (RQ4 on the demo's pseudo-OOD
    split), the corpora the evaluated records name."""
    names = [c["name"] for c in doc.get("corpora") or [] if is_evaluated(c.get("role", ""))]
    if not names:
        names = sorted({str(bd(m)["corpus"]) for m in doc.get("metrics") or []
                        if "corpus" in bd(m) and str(bd(m)["corpus"]).lower() not in OVERALL})
    return list(dict.fromkeys(names))


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def seen_corpora(doc: dict[str, Any]) -> list[str]:
    """Evaluated corpora that the upstream lists in ``trained_on`` (names compared loosely)."""
    seen = {_norm(x) for x in (doc.get("upstream") or {}).get("trained_on") or []}
    return [c for c in evaluated_corpora(doc) if _norm(c) in seen]
