"""The units a plan is made of, as module-level functions of plain data (a Ray worker imports them by name):
extract one shard of utterances into the shared feature cache; execute one run and hand its result back.

Both re-resolve the run from its ``RunConfig`` and read corpora, audio and caches at the driver's paths, so
every node must see the same storage there (a shared or network file system). Neither writes anything but
content-keyed cache entries; the driver writes the result files.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emobench.config import RunConfig
from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError


@contextlib.contextmanager
def _unit(cache_root: str, threads: int | None) -> Iterator[None]:
    """The unit's cache root, and torch's CPU threads set to the CPUs the unit was given."""
    from emobench.cache_dirs import using_cache_root

    if threads:
        import torch

        torch.set_num_threads(max(1, int(threads)))
    with using_cache_root(cache_root):
        yield


def extraction_target(resolved, which: str | None):
    """(upstream component, requested layer or None) of the run's upstream (``which=None``) or of an extra
    upstream task parameter, as ``runner.execute`` picks them."""
    if which is None:
        return resolved.upstream, resolved.layer
    return resolved.extra_upstreams[which], resolved.task.params.get(f"{which}_layer")


_BUILT: dict[str, Any] = {}  # the last upstream this worker built, by identity: its next shard reuses it


def _upstream(comp, dev):
    """``comp.build()`` on ``dev``, kept for the worker's next shard of the same upstream (one model at a time,
    so a worker never holds two)."""
    import json

    key = json.dumps([comp.record(), str(dev)], sort_keys=True, default=str)
    if key not in _BUILT:
        _BUILT.clear()
        upstream = comp.build()
        upstream.to(dev)
        _BUILT[key] = upstream
    return _BUILT[key]


def extract_shard(config: RunConfig, utts: list[Utterance], which: str | None, cache_root: str, device: str,
                  on_bad_audio: str, threads: int | None) -> dict[str, Any]:
    """Features of ``utts`` at the run's layer, committed to the cache (what is cached already is skipped)."""
    from emobench.cache import FeatureCache
    from emobench.device import resolve_device
    from emobench.resolve import resolve

    start = time.perf_counter()
    with _unit(cache_root, threads):
        comp, layer = extraction_target(resolve(config), which)
        dev = resolve_device(device)
        upstream = _upstream(comp, dev)
        layer = upstream.default_layer if layer is None else int(upstream.check_layers([layer])[0])
        fs = FeatureCache(Path(cache_root)).features(upstream, utts, layers=[layer], device=dev,
                                                     on_bad_audio=on_bad_audio)
    stats = getattr(fs, "extracted", None) or {}
    return {"upstream": comp.name, "layer": layer, "utterances": len(utts), "skipped": len(fs.skipped),
            "extracted": int(stats.get("utterances", 0)), "extract_s": float(stats.get("seconds", 0.0)),
            "wall_s": time.perf_counter() - start, "pid": os.getpid(), "host": os.uname().nodename}


def warm_run(config: RunConfig, cache_root: str, device: str, on_bad_audio: str, threads: int | None) -> dict[str, Any]:
    """Execute one fan-out part of a run (one seed, one value of the task's ``fan_out`` param) for what it
    leaves in the shared cache (its codebooks and probes); its result is dropped."""
    from emobench import runner
    from emobench.resolve import resolve

    start = time.perf_counter()
    with _unit(cache_root, threads):
        prepared = runner.prepare(resolve(config), cache_root=Path(cache_root), on_bad_audio=on_bad_audio)
        runner.execute(prepared, device=device, progress=None, on_bad_audio=on_bad_audio,
                       cache_root=Path(cache_root), start=start)
    return {"wall_s": time.perf_counter() - start, "pid": os.getpid(), "host": os.uname().nodename}


def fan_out_parts(config: RunConfig, resolved) -> list[tuple[str, RunConfig]]:
    """(label, config) of each independent part of a run: one per training seed x value of the task spec's
    ``fan_out`` list param (its default taken from the task's signature); one part means nothing to split."""
    import dataclasses
    import inspect

    seeds = list(config.seeds or [config.seed])
    param = resolved.task.spec.fan_out
    values: list[Any] = [None]
    if param:
        given = resolved.task.params.get(param)
        if given is None:
            default = inspect.signature(resolved.task.impl).parameters[param].default
            given = None if default is inspect.Parameter.empty else default
        values = list(given) if given is not None else [None]
    if len(seeds) * len(values) <= 1:
        return []
    parts = []
    for seed in seeds:
        for value in values:
            task_params = dict(config.task_params) if value is None else {**config.task_params, param: [value]}
            label = f"seed {seed}" + ("" if value is None else f" {param}={value}")
            parts.append((label, dataclasses.replace(config, seeds=[seed], task_params=task_params)))
    return parts


def execute_run(config: RunConfig, cache_root: str, device: str, on_bad_audio: str, expect_hash: str,
                threads: int | None) -> dict[str, Any]:
    """Prepare and execute one run (features from the shared cache, codebooks and probes fitted into it);
    returns the result document, its predictions and skipped utterances for the driver to write."""
    from emobench import runner
    from emobench.resolve import resolve

    start = time.perf_counter()
    with _unit(cache_root, threads):
        prepared = runner.prepare(resolve(config), cache_root=Path(cache_root), on_bad_audio=on_bad_audio)
        if prepared.run_hash != expect_hash:
            raise EmobenchError(
                f"run {config.task} x {config.upstream}: this worker ({os.uname().nodename}) sees other corpus "
                f"content than the driver (run hash {prepared.run_hash}, driver {expect_hash}); corpora and "
                "the cache must be on storage every node shares, at the same paths")
        doc, predictions, skipped = runner.execute(prepared, device=device, progress=None,
                                                   on_bad_audio=on_bad_audio, cache_root=Path(cache_root),
                                                   start=start)
    return {"doc": doc, "predictions": predictions, "skipped": skipped, "wall_s": time.perf_counter() - start,
            "pid": os.getpid(), "host": os.uname().nodename}
