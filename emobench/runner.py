"""Run one benchmark: resolve -> load corpora -> build the upstream -> run the task (once per training
seed) -> write the result. The site is built separately (``emobench.leaderboard.build_site``).

The CLI is a thin layer over ``run``; notebooks and scripts call it directly::

    from emobench import RunConfig, run
    outcome = run(RunConfig(upstream="fbank", task="rq1"), out_dir="results")
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emobench.config import RunConfig
from emobench.errors import EmobenchError
from emobench.resolve import ResolvedRun, resolve


@dataclass
class RunOutcome:
    result_path: Path
    result: dict[str, Any]
    wall_s: float
    resolved: ResolvedRun


@dataclass
class Prepared:
    """A resolved run with its corpora loaded and its identity known (nothing extracted yet)."""

    resolved: ResolvedRun
    corpora: dict[str, Any]
    fingerprints: dict[str, str]
    run_hash: str
    task: Any


def load_corpora(resolved: ResolvedRun, *, cache_root: Path, progress=None) -> dict[str, Any]:
    """Every corpus of the run, loaded (the demo corpus is generated into the cache on first use)."""
    loaded = {}
    for name, comp in resolved.corpora.items():
        runtime = {}
        if name == "demo":
            runtime["progress"] = progress
            if comp.params.get("root") is None:
                comp = comp.with_params(root=str(cache_root / "demo"))
        corpus = comp.build(**runtime).load()
        loaded[corpus.name] = corpus
    return loaded


def prepare(resolved: ResolvedRun, *, cache_root: Path, progress=None, on_bad_audio: str = "skip") -> Prepared:
    """Load the corpora, fingerprint their content and let the task check them: the run's identity."""
    from emobench.cache.keys import AudioHasher
    from emobench.errors import CorpusError

    task = resolved.task.build()
    corpora = load_corpora(resolved, cache_root=cache_root, progress=progress)
    unusable = [(n, f, r) for n, c in corpora.items() for f, r in c.unusable]
    if unusable and on_bad_audio == "fail":
        n, f, r = unusable[0]
        raise CorpusError(f"corpus {n!r}: {len(unusable)} unusable file(s), e.g. {r} (--on-bad-audio skip lists "
                          "them in <run>.skipped.csv and goes on)")
    hasher = AudioHasher(cache_root / "features")
    fingerprints = {n: c.content_fingerprint(hasher.file_hash) for n, c in corpora.items()}
    hasher.save()
    task.name = resolved.task.name
    task.check(corpora)  # before any expensive work
    return Prepared(resolved, corpora, fingerprints, resolved.run_hash(fingerprints), task)


def run(config: RunConfig | ResolvedRun, *, out_dir: str | Path = "emobench-results", device: str = "auto",
        progress=None, on_bad_audio: str = "skip", cache_root: str | Path | None = None) -> RunOutcome:
    """Run ``config`` and write ``<out>/<run_id>.json`` with its CSV, predictions and skipped sidecars."""
    from emobench.cache_dirs import cache_root as default_cache_root
    from emobench.fsutil import ensure_writable_dir

    start = time.perf_counter()
    resolved = config if isinstance(config, ResolvedRun) else resolve(config)
    if on_bad_audio not in ("skip", "fail"):
        raise EmobenchError(f"on_bad_audio must be 'skip' or 'fail', got {on_bad_audio!r}")
    out_dir = ensure_writable_dir(out_dir)
    root = Path(cache_root).expanduser() if cache_root else default_cache_root()
    from emobench.cache_dirs import using_cache_root

    with using_cache_root(root):  # an explicit cache root holds everything, assembled model folders too
        prepared = prepare(resolved, cache_root=root, progress=progress, on_bad_audio=on_bad_audio)
        doc, predictions, skipped = execute(prepared, device=device, progress=progress, on_bad_audio=on_bad_audio,
                                            cache_root=root, start=start)
    from emobench.results import write_result
    from emobench.results.io import with_sidecars

    path = write_result(doc, out_dir, predictions=predictions, skipped=skipped)
    return RunOutcome(result_path=path, result=with_sidecars(doc, predictions=predictions is not None),
                      wall_s=time.perf_counter() - start, resolved=resolved)


def execute(prepared: Prepared, *, device: str, progress, on_bad_audio: str, cache_root: Path, start: float):
    """Build the upstream and the services, run the task for every training seed, assemble the result."""
    import torch

    from emobench.cache import FeatureCache
    from emobench.cache.artifacts import ArtifactStore
    from emobench.cache.feature_cache import cache_identity
    from emobench.device import resolve_device
    from emobench.results.document import build
    from emobench.tasks.inputs import Features, Probes, Quantizers, TaskInputs, Timer

    resolved = prepared.resolved
    timer = Timer()
    dev = resolve_device(device)
    with timer("load upstream"):
        upstream = resolved.upstream.build()
        upstream.to(dev)
    check_spec_facts(resolved, upstream)
    layer = resolved.layer if resolved.layer is not None else upstream.default_layer
    if not 0 <= layer < upstream.n_layers:
        raise EmobenchError(f"layer {layer} is out of range for upstream {resolved.upstream.name!r} "
                            f"(layers 0..{upstream.n_layers - 1})")
    identity = cache_identity(upstream)
    features = Features(FeatureCache(cache_root), upstream, layer, dev, timer, progress, on_bad_audio)
    extra = {}
    for param, comp in resolved.extra_upstreams.items():
        with timer("load upstream"):
            other = comp.build()
            other.to(dev)
        other_layer = resolved.task.params.get(f"{param}_layer")
        other_layer = other.default_layer if other_layer is None else int(other.check_layers([other_layer])[0])
        extra[param] = Features(FeatureCache(cache_root), other, other_layer, dev, timer, progress, on_bad_audio)
    outputs, fitted, probes_info = [], [], None
    for seed in resolved.seeds:
        torch.manual_seed(seed)
        quantizers = Quantizers(resolved.roles, ArtifactStore(cache_root, "codebooks"),
                                {"upstream": identity}, dev, seed, timer, progress)
        probes = Probes(resolved.probe, upstream, layer, ArtifactStore(cache_root, "probes"), dev, seed, timer,
                        upstream_identity=identity, features=features)
        features.layers = probes.feed().layers  # a several-layer probe's layers come with the run's
        inputs = TaskInputs(corpora=prepared.corpora, upstream=upstream, layer=layer, features=features,
                            quantizers=quantizers, probes=probes, seed=resolved.seed, train_seed=seed,
                            limit=resolved.limit, device=dev, timer=timer, progress=progress, upstreams=extra)
        out = prepared.task.run(inputs)
        if out.predictions is not None and len(resolved.seeds) > 1:
            out.predictions.insert(0, "seed", seed)
        outputs.append(out)
        fitted += [{**f, "seed": seed} for f in quantizers.fitted]
        probes_info = probes.info() if prepared.task.probe_inputs else None  # () : the task's own models
    for name, corpus in prepared.corpora.items():  # what a loader left out is said, never silent
        if corpus.skipped:
            inputs.notes.append(f"{name}: files not taken: " + ", ".join(f"{v} {k}" for k, v in corpus.skipped.items()))
        if corpus.problems:
            inputs.notes.append(f"{name}: {len(corpus.problems)} problem(s) while loading, e.g. {corpus.problems[0]} "
                                f"(`emobench corpus info {name}` lists them)")
    timings = dict(timer.totals)
    timings["total"] = time.perf_counter() - start
    doc = build(resolved=resolved, run_hash=prepared.run_hash, spec=resolved.task.spec, corpora=prepared.corpora,
                fingerprints=prepared.fingerprints, upstream=upstream, layer=layer, outputs=outputs,
                quantizers=fitted, probe=probes_info, timings=timings, skipped=len(features.skipped),
                device=str(dev), notes=inputs.notes)
    import pandas as pd

    preds = [o.predictions for o in outputs if o.predictions is not None]
    skipped = features.skipped + [(f, r) for c in prepared.corpora.values() for f, r in c.unusable]
    doc["provenance"]["skipped_utterances"] = len(skipped)
    doc["provenance"]["extraction"] = features.speed()
    if extra:
        doc["extra_upstreams"] = {p: {"name": resolved.extra_upstreams[p].name, "layer": f.layer,
                                      "dim": int(f.upstream.dim), "frame_rate_hz": float(f.upstream.frame_rate_hz),
                                      "identity": f.upstream.identity(), "extraction": f.speed()}
                                  for p, f in extra.items()}
    return doc, (pd.concat(preds, ignore_index=True) if preds else None), skipped


def check_spec_facts(resolved: ResolvedRun, upstream) -> None:
    """The spec's layers/dim/frame rate must describe the built model, unless the user changed the model."""
    spec, params = resolved.upstream.spec, resolved.config.upstream_params
    if any(k in params for k in ("model", "root", "checkpoint", "entry")):
        return  # another model than the one the spec describes: its own facts are recorded
    for fact in ("n_layers", "dim", "frame_rate_hz"):
        declared, actual = getattr(spec, fact), getattr(upstream, fact)
        if declared is not None and float(declared) != float(actual):
            raise EmobenchError(f"upstream {resolved.upstream.name!r}: its spec says {fact}={declared} but the "
                                f"model has {actual}; fix emobench/catalogue/upstreams/{resolved.upstream.name}.yaml")
