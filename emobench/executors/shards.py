"""Feature extraction of a plan, cut into shards: every utterance of the pending runs' corpora, once per
(upstream, layer), as contiguous ranges of the cache's longest-first order balanced by audio seconds.

Each worker batches its shard by the cache's own rule (``emobench.cache.compute``). Batch-invariant
upstreams (``fbank``: bitwise) give exactly the features of a local run; for neural upstreams the batch
composition changes features only within their batching tolerance, as it already does between local runs
(which batch whatever each task asks for first).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emobench.corpora.base import Utterance
from emobench.executors import Work
from emobench.executors.work import extract_shard, extraction_target


def extraction_works(items: list[Any], prepared: Mapping[int, Any], *, cache_root: str, device: str,
                     gpus: float, cpus: float, on_bad_audio: str, n_shards: int) -> list[Work]:
    """One ``extract_shard`` work per shard of every (upstream, layer) the ``items`` (Planned) use."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        corpora = prepared[id(item)].corpora
        utts = [u for c in corpora.values() for u in c.utterances + c.unlabelled]
        for which in [None, *item.resolved.extra_upstreams]:
            comp, layer = extraction_target(item.resolved, which)
            key = json.dumps([comp.record(), layer], sort_keys=True, default=str)
            group = groups.setdefault(key, {"config": item.config, "which": which, "name": comp.name, "utts": {}})
            group["utts"].update((u.id, u) for u in utts)
    works = []
    for group in groups.values():
        shards = shard_utterances(list(group["utts"].values()), n_shards)
        for k, shard in enumerate(shards, start=1):
            args = (group["config"], shard, group["which"], cache_root, device, on_bad_audio, int(cpus) or None)
            works.append(Work(extract_shard, args, label=f"{group['name']} {k}/{len(shards)}", cpus=cpus, gpus=gpus))
    return works


def shard_utterances(utts: list[Utterance], n_shards: int) -> list[list[Utterance]]:
    """Contiguous ranges of the longest-first order, about equal in audio seconds (in count without audio)."""
    from emobench.audio import utterance_duration_s
    from emobench.errors import AudioError

    durations: dict[str, float] = {}
    for u in utts:
        try:
            durations[u.id] = utterance_duration_s(u)
        except AudioError:  # the worker reports it as unusable audio, like a local run
            durations[u.id] = 0.0
    by_id = {u.id: u for u in utts}
    order = sorted(by_id, key=lambda i: -durations[i])  # stable, as the cache sorts
    weights = [durations[i] or 1.0 for i in order]
    shards: list[list[Utterance]] = [[]]
    left, filled = sum(weights), 0.0
    for i, w in zip(order, weights):
        share = left / (n_shards - len(shards) + 1)  # what each shard still to fill should get
        if shards[-1] and len(shards) < n_shards and filled + w / 2 > share:
            shards.append([])  # closer to its share without this utterance: start the next shard
            left, filled = left - filled, 0.0
        shards[-1].append(by_id[i])
        filled += w
    return shards
