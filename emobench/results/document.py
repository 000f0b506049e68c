"""Assemble a result document from a run: identity, display facts from the task spec, every fitted
quantizer, the probe, corpora with fingerprints, provenance, and the metrics with their units.

Units and directions come from the task's spec (one home); a task that reports a metric its spec does
not declare is a bug, reported here. With several training seeds the task's outputs are merged: each
record's value is the mean over seeds, ``std`` their standard deviation, ``per_seed`` the values, and
its interval the mean of the per-seed intervals (sampling uncertainty; the seed spread is ``std``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np

from emobench.errors import EmobenchError
from emobench.metrics.bootstrap import CI_LEVEL

SYNTHETIC_NOTE = "SYNTHETIC DATA: computed on emobench's generated demo corpus, not real speech."


def task_info(spec) -> dict[str, Any]:
    """The task's display facts copied into every result, so the site needs no code or catalogue."""
    from emobench.catalogue import task_metrics

    return {
        "name": spec.name, "title": spec.title, "paper": spec.paper, "description": " ".join(spec.description.split()),
        "primary": spec.primary, "summary": list(spec.summary), "summary_where": dict(spec.summary_where),
        "metrics": {k: v.model_dump() for k, v in task_metrics(spec).items()},
        "roles": {k: r.description for k, r in spec.roles.items()},
        "figures": [f.model_dump() for f in spec.figures],
        "paper_tables": [t.model_dump() for t in spec.paper_tables],
        "claims": [c.model_dump() for c in spec.claims],
    }


def with_units(records: list[dict[str, Any]], spec) -> list[dict[str, Any]]:
    from emobench.catalogue import task_metrics

    info = task_metrics(spec)
    out = []
    for r in records:
        meta = info.get(r["name"])
        if meta is None:
            raise EmobenchError(f"task {spec.name!r} reported metric {r['name']!r}, which its spec does not declare; "
                                f"add it under `metrics:` in emobench/catalogue/tasks/{spec.name}.yaml")
        out.append({"name": r["name"], "value": r["value"], "unit": meta.unit, "direction": meta.direction,
                    **{k: r[k] for k in ("ci_low", "ci_high", "n", "std", "per_seed", "chosen") if k in r},
                    "breakdown": r["breakdown"]})
    return out


def merge_seeds(per_seed: list[list[dict[str, Any]]], seeds: list[int]) -> list[dict[str, Any]]:
    """One record per (metric, breakdown): mean over the seeds that report it, with sd and the values.

    Breakdown keys a record marks ``chosen`` (chosen by the protocol, e.g. RQ4's depth per seed) are not
    part of its identity: the seeds' records merge whatever each chose, and the key is kept only where every
    seed chose the same value (the choices themselves are their own metric, e.g. ``selected_depth``)."""
    if len(per_seed) == 1:
        return per_seed[0]
    groups: dict[str, list[dict[str, Any]]] = {}
    for records in per_seed:
        for r in records:
            ident = {k: v for k, v in r["breakdown"].items() if k not in (r.get("chosen") or ())}
            groups.setdefault(json.dumps([r["name"], ident], sort_keys=True, default=str), []).append(r)
    out = []
    for recs in groups.values():
        vals = [r["value"] for r in recs]
        finite = [v for v in vals if v is not None]
        chosen = recs[0].get("chosen") or ()
        breakdown = {k: v for k, v in recs[0]["breakdown"].items()
                     if k not in chosen or all(r["breakdown"].get(k) == v for r in recs)}
        merged = {**recs[0], "breakdown": breakdown, "value": float(np.mean(finite)) if finite else None,
                  "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0 if finite else None,
                  "per_seed": vals if len(recs) == len(seeds) else None}
        for k in ("ci_low", "ci_high"):
            ends = [r[k] for r in recs if r.get(k) is not None]
            if k in recs[0]:
                merged[k] = float(np.mean(ends)) if ends else None
        if merged["per_seed"] is None:
            merged.pop("per_seed")
        out.append(merged)
    return out


def build(*, resolved, run_hash: str, spec, corpora: dict, fingerprints: dict[str, str], upstream, layer: int,
          outputs: list, quantizers: list[dict], probe: dict, timings: dict[str, float], skipped: int,
          device: str, notes: list[str]) -> dict[str, Any]:
    from emobench import __version__
    from emobench.provenance import git_commit, machine, package_versions
    from emobench.results.schema import SCHEMA_VERSION

    first = outputs[0]
    synthetic = any(c.synthetic for c in corpora.values())
    metrics = merge_seeds([with_units(o.metrics, spec) for o in outputs], list(resolved.seeds))
    up_spec = resolved.upstream.spec
    roles = [q for q in quantizers]
    primary_role = next(iter(spec.roles), None)
    primary = next((q for q in roles if q["role"] == primary_role), roles[0] if roles else None)
    all_notes = ([SYNTHETIC_NOTE] if synthetic else []) + list(first.notes) + notes
    if len(outputs) > 1:
        all_notes.append(f"values are means over training seeds {list(resolved.seeds)} (std and per_seed beside them)")
    preset = primary["preset"] if primary else "none"
    system = first.system or f"{resolved.upstream.name}-{preset}"
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": f"{spec.name}-{re.sub(r'[^A-Za-z0-9._]+', '-', system).strip('-')}-{run_hash[:10]}",
        "system": first.system,
        "ci_level": CI_LEVEL,  # of every ci_low/ci_high below (percentile bootstrap)
        "run_hash": run_hash,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "task": spec.name,
        "synthetic": synthetic,
        "task_info": task_info(spec),
        "config": resolved.config.to_dict(),
        "resolved": {**resolved.description(), "corpus_fingerprints": fingerprints},
        "upstream": {
            "name": resolved.upstream.name, "layer": layer, "frame_rate_hz": float(upstream.frame_rate_hz),
            "dim": int(upstream.dim), "n_layers": int(upstream.n_layers), "trained_on": list(up_spec.trained_on),
            "languages": list(up_spec.languages), "license": up_spec.license, "n_parameters": up_spec.n_parameters,
            "identity": upstream.identity(), "dtype": str(upstream.dtype).removeprefix("torch."),
        },
        "quantizer": _system(primary, upstream),
        "quantizers": quantizers,
        "probe": probe,
        "corpora": [
            {"name": name, "fingerprint": fingerprints[name], "n_utterances": len(c.utterances),
             "role": first.corpora_roles.get(name, "eval"), "synthetic": c.synthetic, "label_set": list(c.label_set),
             "language": getattr(resolved.corpora[name].spec, "language", None), "dropped": c.dropped,
             "skipped_files": c.skipped, "root": str(c.root) if c.root else None}
            for name, c in corpora.items()
        ],
        "protocol": {**first.protocol, "seed": resolved.seed, "seeds": list(resolved.seeds), "limit": resolved.limit},
        "provenance": {
            "emobench_version": __version__, "git_commit": git_commit(), "packages": package_versions(),
            "machine": machine(), "device": device, "dtype": str(upstream.dtype).removeprefix("torch."),
            "seeds": list(resolved.seeds), "timings_s": {k: round(v, 3) for k, v in timings.items()},
            "skipped_utterances": skipped,
        },
        "metrics": metrics,
        "notes": list(dict.fromkeys(all_notes)),
    }


def _system(primary: dict | None, upstream) -> dict[str, Any]:
    """The headline system's quantizer (the task's first role): what the leaderboard lists a run under."""
    if primary is None:
        return {"name": "none", "layout": "continuous", "role": None}
    fr = float(upstream.frame_rate_hz)
    per_depth = {d: b * fr for d, b in primary["bits_per_frame"].items()}
    return {
        "name": primary["preset"], "role": primary["role"], "kind": primary["kind"], "layout": primary["layout"],
        "n_stages": primary["n_stages"], "codebook_size": primary["codebook_size"],
        "bitrate": {"frame_rate_hz": fr, "bps_per_depth": per_depth, "bps": per_depth[max(per_depth, key=int)],
                    "route_bits_per_utterance": primary["route_bits_per_utterance"],
                    "continuous_bps": float(upstream.dim * 32 * fr), "storage_bytes": primary["storage_bytes"]},
    }
