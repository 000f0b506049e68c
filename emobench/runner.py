"""Run one task: corpora -> splits -> features (cached) -> quantizer -> probe -> metrics -> result file.

The CLI is a thin layer over ``run``; notebooks and scripts can call it directly.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emobench.config import RunConfig
from emobench.errors import EmobenchError


@dataclass
class RunOutcome:
    result_path: Path
    result: dict[str, Any]
    site_dir: Path | None
    wall_s: float


def load_corpora(config: RunConfig, *, progress=None, cache_root: Path | None = None) -> dict:
    """Instantiate and load every corpus named in the config (root None: the loader's own lookup)."""
    from emobench.registries import corpora

    loaded = {}
    for name, root in config.corpora.items():
        kwargs: dict[str, Any] = {"root": root}
        if name == "demo":  # generated, so it lives in the cache
            kwargs.update(progress=progress, root=root or (cache_root / "demo" if cache_root else None))
        corpus = corpora.create(name, **kwargs).load()
        loaded[corpus.name] = corpus
    return loaded


def run(
    config: RunConfig, *, out_dir: str | Path = "emobench-results", device: str = "auto", progress=None,
    on_bad_audio: str = "skip", build_site: bool = True, cache_root: str | Path | None = None,
) -> RunOutcome:
    """Run ``config`` and write ``<out>/<run_id>.json`` (+ CSV, predictions) and ``<out>/site``."""
    from emobench.fsutil import ensure_writable_dir

    start = time.perf_counter()
    out_dir = ensure_writable_dir(out_dir)
    from emobench.registries import tasks, upstreams

    task = tasks.create(config.task, **config.task_params)
    quantizer_entry = _check_names(config)
    root = Path(cache_root) if cache_root else None
    corpora = load_corpora(config, progress=progress, cache_root=root)
    task.check(corpora)  # fail before any expensive work

    import torch

    from emobench.cache import FeatureCache
    from emobench.cache_dirs import cache_root as default_cache_root
    from emobench.device import resolve_device
    from emobench.tasks.base import TaskContext

    torch.manual_seed(config.seed)
    dev = resolve_device(device)
    upstream_entry = upstreams.get(config.upstream)
    upstream = upstreams.create(config.upstream, **config.upstream_params)
    upstream.to(dev)
    layer = config.layer if config.layer is not None else upstream.default_layer
    if not 0 <= layer < upstream.n_layers:
        raise EmobenchError(
            f"layer {layer} is out of range for upstream {config.upstream!r} (layers 0..{upstream.n_layers - 1})"
        )
    root = root or default_cache_root()
    ctx = TaskContext(
        config=config, corpora=corpora, upstream=upstream, layer=layer, device=dev,
        cache=FeatureCache(root), codebook_dir=root / "codebooks", progress=progress,
        on_bad_audio=on_bad_audio,
    )
    output = task.run(ctx)
    wall = time.perf_counter() - start
    ctx.timings["total"] = wall
    doc = _result_document(config, ctx, output, upstream_entry, quantizer_entry, str(dev))
    from emobench.results import write_result

    path = write_result(doc, out_dir, predictions=output.predictions)
    if ctx.skipped:
        _write_skipped(out_dir / f"{doc['run_id']}.skipped.csv", ctx.skipped)
    site = None
    if build_site:
        from emobench.leaderboard.build import build_site as build

        site = out_dir / "site"
        build([out_dir], site)
    return RunOutcome(result_path=path, result=doc, site_dir=site, wall_s=time.perf_counter() - start)


def _check_names(config: RunConfig):
    """Resolve every registry name up front so a typo fails in milliseconds, not after extraction."""
    from emobench.registries import corpora, probes, quantizers, upstreams

    upstreams.get(config.upstream)
    if getattr(probes.load(config.probe), "input_ndim", 2) != 2:
        raise EmobenchError(
            f"probe {config.probe!r} reads several layers per utterance ([N, layers, D]), but tasks probe the "
            "one quantized layer's mean-pooled features; use --probe linear, mlp or e2v-head"
        )
    for name in config.corpora:
        corpora.get(name)
    return quantizers.get(config.quantizer)


def _write_skipped(path: Path, skipped) -> None:
    import csv

    from emobench.fsutil import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["utt_id", "reason"])
        w.writerows(skipped)


def _result_document(config: RunConfig, ctx, output, upstream_entry, quantizer_entry, device: str) -> dict:
    from emobench import __version__
    from emobench.provenance import git_commit, machine, package_versions

    created = dt.datetime.now(dt.timezone.utc)
    synthetic = any(c.synthetic for c in ctx.corpora.values())
    qinfo = {**output.quantizer_info, "name": config.quantizer}
    qinfo.setdefault("layout", "n/a")
    notes = list(output.notes) + ctx.notes
    if synthetic:
        notes.insert(0, "SYNTHETIC DATA: computed on emobench's generated demo corpus, not real speech.")
    return {
        "schema_version": 1,
        "run_id": f"{config.task}-{config.upstream}-{config.quantizer}-{config.hash[:10]}",
        "created_at": created.isoformat(timespec="seconds"),
        "task": config.task,
        "synthetic": synthetic,
        "config": config.to_dict(),
        "config_hash": config.hash,
        "upstream": {
            "name": config.upstream, "layer": ctx.layer, "frame_rate_hz": float(ctx.upstream.frame_rate_hz),
            "dim": int(ctx.upstream.dim), "trained_on": list(upstream_entry.meta.get("trained_on", []) or []),
            "identity": ctx.upstream.identity(),
        },
        "quantizer": qinfo,
        "probe": output.probe_info,
        "corpora": [
            {"name": name, "fingerprint": c.fingerprint, "n_utterances": len(c.utterances),
             "role": output.corpora_roles.get(name, "eval"), "synthetic": c.synthetic,
             "label_set": list(c.label_set), "dropped": c.dropped}
            for name, c in ctx.corpora.items()
        ],
        "protocol": {**output.protocol, "seed": config.seed, "limit": config.limit},
        "provenance": {
            "emobench_version": __version__, "git_commit": git_commit(), "packages": package_versions(),
            "machine": machine(), "device": device, "dtype": str(ctx.upstream.dtype).removeprefix("torch."),
            # extraction batches are sized by audio duration, not by a count of utterances
            "batch_size": None, "batch_seconds": getattr(ctx.cache, "batch_seconds", None), "seeds": [config.seed],
            "timings_s": {k: round(v, 3) for k, v in ctx.timings.items()},
            "skipped_utterances": len(ctx.skipped),
        },
        "metrics": output.metrics,
        "notes": notes,
    }
