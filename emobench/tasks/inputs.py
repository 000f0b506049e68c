"""What a task is handed: corpora, the upstream, and services for features, quantizers and probes.

Tasks never look names up in the registries: the runner resolves everything first and passes the
resolved pieces in. Quantizers come by *role* (the task spec's ``roles``) and are fitted through the
content-keyed codebook cache; probes are trained (and cached) through ``Probes``; features come from the
feature cache. Times are recorded exclusively (a nested step pauses its parent), so parts never sum to
more than the whole.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emobench.corpora.base import Corpus, Utterance
from emobench.errors import EmobenchError


class Timer:
    """Exclusive wall time per step name: time inside a nested step is not counted for its parent."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._stack: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        now = time.perf_counter()
        if self._stack:
            parent, since = self._stack[-1]
            self.totals[parent] = self.totals.get(parent, 0.0) + now - since
        self._stack.append((name, now))
        try:
            yield
        finally:
            end = time.perf_counter()
            step, since = self._stack.pop()
            self.totals[step] = self.totals.get(step, 0.0) + end - since
            if self._stack:
                self._stack[-1] = (self._stack[-1][0], end)


@dataclass
class Features:
    """Cached features of utterances at the run's layer; unusable audio is skipped and listed."""

    cache: Any  # emobench.cache.FeatureCache
    upstream: Any
    layer: int
    device: Any
    timer: Timer
    progress: Any = None
    on_bad_audio: str = "skip"
    skipped: list[tuple[str, str]] = field(default_factory=list)
    extracted: dict[str, float] = field(default_factory=lambda: {"utterances": 0, "frames": 0, "seconds": 0.0})
    # Layers fetched with the run's: a several-layer probe's, so that one extraction (the upstream's
    # forward gives every layer at once) serves both the quantizers and the probe.
    layers: list[int] | None = None

    def get(self, utts: list[Utterance], layers: list[int] | None = None):
        """FeatureSet of ``utts`` (each id once, extracted once, then read from the cache) holding the run's
        layer and ``layers`` (default: ``self.layers``)."""
        unique = list({u.id: u for u in utts}.values())
        extra = self.layers if layers is None else layers
        layers = sorted({self.layer, *(extra or [])})
        with self.timer("features"):
            fs = self.cache.features(self.upstream, unique, layers=layers, device=self.device,
                                     progress=self.progress, on_bad_audio=self.on_bad_audio)
        seen = {s[0] for s in self.skipped}
        self.skipped.extend(s for s in fs.skipped if s[0] not in seen)
        for k, v in (getattr(fs, "extracted", None) or {}).items():
            self.extracted[k] = self.extracted.get(k, 0) + v
        return fs

    def speed(self) -> dict[str, float | None]:
        """Extraction speed of this run: seconds of audio extracted (not read back from the cache), the time
        it took and the real-time factor (compute seconds per audio second)."""
        rate = float(self.upstream.frame_rate_hz)  # 0 for utterance-level upstreams (x-vector): audio unknown
        audio = self.extracted["frames"] / rate if rate > 0 else 0.0
        return {"extracted_utterances": int(self.extracted["utterances"]), "audio_s": round(audio, 3),
                "extract_s": round(self.extracted["seconds"], 3),
                "rtf": round(self.extracted["seconds"] / audio, 5) if audio else None}

    def pooled(self, fs, utts: list[Utterance]) -> tuple[np.ndarray, list[Utterance]]:
        """Mean-pooled features ``[N, D]`` of the utterances that survived extraction, in order."""
        kept = [u for u in utts if u.id in fs]
        pooled = fs.pooled(self.layer)
        return pooled[[fs.index(u.id) for u in kept]], kept


@dataclass
class Quantizers:
    """Quantizers by role: ``new`` builds one; ``fit`` fits it (or loads the identical fit) by content."""

    roles: Mapping[str, Any]  # role -> emobench.resolve.Component
    store: Any  # emobench.cache.artifacts.ArtifactStore("codebooks")
    fitted_on: dict[str, Any]
    device: Any
    seed: int
    timer: Timer
    progress: Any = None
    fitted: list[dict[str, Any]] = field(default_factory=list)

    def component(self, role: str, **overrides: Any):
        if role not in self.roles:
            raise EmobenchError(f"this task has no quantizer role {role!r} (roles: {', '.join(self.roles)})")
        comp = self.roles[role]
        return comp.with_params(**overrides) if overrides else comp

    def new(self, role: str, **overrides: Any):
        return self.component(role, **overrides).build()

    def fit(self, role: str, fs, train: list[Utterance] | dict[str, list[Utterance]], *, layer: int,
            overrides: Mapping[str, Any] | None = None, label: str = "", balance_frames: bool = True):
        """Fit role ``role`` (with ``overrides``) on the features of ``train`` (a list, or emotion -> list
        for per-emotion quantizers); the result is cached under a key of everything that determines it.
        A list is a balanced composition: ``balance_frames`` makes a sampled frame budget equal per emotion
        too (``emobench.frames.BalancedFrameSource``)."""
        from emobench import __version__
        from emobench.cache.artifacts import artifact_key
        from emobench.quantizers.base import load_quantizer

        comp = self.component(role, **(overrides or {}))
        q = comp.build()
        groups = train if isinstance(train, dict) else {"all": train}
        groups = {g: [u for u in utts if u.id in fs] for g, utts in groups.items()}
        fitted_on = {**self.fitted_on, "layer": layer, "level": q.input_level}
        payload = {
            "emobench": __version__, "quantizer": type(q).__module__ + ":" + type(q).__qualname__,
            "params": comp.record()["params"], "fitted_on": fitted_on, "seed": self.seed,
            "train": {g: fs.content_digest([u.id for u in utts]) for g, utts in sorted(groups.items())},
            "balanced_frames": bool(balance_frames and not isinstance(train, dict)),
        }
        key = artifact_key(payload)
        cached = self.store.load(key, lambda d: load_quantizer(d, expect=fitted_on, device=str(self.device)))
        if cached is None:
            sources = {g: _training_source(fs, utts, layer, q.input_level) for g, utts in groups.items()}
            if not isinstance(train, dict) and balance_frames and q.input_level == "frame":
                from emobench.frames import BalancedFrameSource

                by_label: dict[str, list[Utterance]] = {}
                for u in groups["all"]:
                    by_label.setdefault(str(u.label), []).append(u)
                sources["all"] = BalancedFrameSource({k: _training_source(fs, v, layer, "frame")
                                                      for k, v in sorted(by_label.items())})
            what = label or f"{role} {comp.name}"
            task = self.progress.add_task(f"fitting {what}", total=None) if self.progress else None
            with self.timer("fit"):
                q.fit(sources if isinstance(train, dict) else sources["all"], device=str(self.device), seed=self.seed)
            if task is not None:
                self.progress.update(task, total=1, completed=1)
            q.fitted_on = fitted_on
            self.store.save(key, q.save, payload)
        else:
            q = cached
        self.fitted.append(describe_fit(role, comp, q, groups, key))
        return q

    def share(self, role: str) -> float:
        """The target-emotion share a role's training set is composed with: 0 (balanced) for a plain
        quantizer, its ``target_share`` (class default included: 1.0 = 100+0) for a per-emotion one."""
        if not self.is_router(role):
            return 0.0
        from emobench.params import defaults

        comp = self.component(role)
        return float({**defaults(comp.impl), **comp.params}.get("target_share", 1.0))

    def is_router(self, role: str) -> bool:
        from emobench.quantizers.routing import is_router

        return is_router(self.roles[role].impl)


def _training_source(fs, utts: list[Utterance], layer: int, level: str):
    sub = fs.subset([u.id for u in utts])
    if level == "utterance":  # the codebook learns pooled vectors, the object it will quantize
        from emobench.frames import ArrayFrameSource

        return ArrayFrameSource(sub.pooled(layer))
    return sub.frame_source(layer)


def describe_fit(role: str, comp, q, groups: Mapping[str, list], key: str) -> dict[str, Any]:
    """The result's record of one fitted quantizer: what it is, its resolved params and its rates."""
    from emobench.quantizers.bitrate import quantizer_storage_bytes

    return {
        "role": role, "preset": comp.name, "impl": comp.spec.impl, "params": comp.record()["params"],
        "kind": type(q).__name__, "layout": f"{q.n_stages}x{q.codebook_size}", "n_stages": int(q.n_stages),
        "codebook_size": int(q.codebook_size), "codes_per_stage": int(q.codes_per_stage), "level": q.input_level,
        "bits_per_frame": {str(d): float(q.bits_per_frame(d)) for d in q.depths},
        "route_bits_per_utterance": float(q.route_bits),
        "storage_bytes": int(quantizer_storage_bytes(q)), "train_utterances": {g: len(v) for g, v in groups.items()},
        "cache_key": key,
    }


@dataclass
class Probes:
    """Trains the run's probe on continuous features (cached by content), attaching an upstream's own
    head for probes that have one (emotion2vec's). A probe whose spec reads frames or several layers
    comes back as a ``FedProbe`` (``emobench.tasks.probe_feed``): score it with ``proba(probe, fs, utts)``;
    several layers are read through ``features`` (the run's Features service)."""

    component: Any  # emobench.resolve.Component of the probe
    upstream: Any
    layer: int
    store: Any  # ArtifactStore("probes")
    device: Any
    seed: int
    timer: Timer
    upstream_identity: dict[str, Any] = field(default_factory=dict)
    trained: list[dict[str, Any]] = field(default_factory=list)
    features: Any = None  # Features: the feature cache for probes that read several layers

    @property
    def name(self) -> str:
        return self.component.name

    @property
    def input(self) -> str:
        """pooled, frames, layers or layer-frames (``emobench.tasks.probe_feed.input_kind``)."""
        from emobench.tasks.probe_feed import input_kind

        return input_kind(self.component)

    def info(self) -> dict[str, Any]:
        out = {**self.component.record(), "trained": bool(self.component.spec.trained), "fits": self.trained}
        if self.input != "pooled":
            out.update(self.feed().describe())
        return out

    def feed(self):
        """How this probe's inputs are built (``emobench.tasks.probe_feed.ProbeFeed``)."""
        from emobench.tasks.probe_feed import ProbeFeed

        kind = self.input
        if kind not in ("layers", "layer-frames"):
            return ProbeFeed(kind, self.layer)
        layers = self.component.build().layers_read(int(self.upstream.n_layers))
        return ProbeFeed(kind, self.layer, layers, self._all_layers(sorted({*layers, self.layer})))

    def _all_layers(self, layers: list[int]):
        def get(utts: list[Utterance]):
            if self.features is None:
                raise EmobenchError(f"probe {self.name!r} reads several layers, but this run's Probes service has "
                                    "no feature cache; build Probes(..., features=<the run's Features>)")
            return self.features.get(utts, layers)
        return get

    def proba(self, probe, fs, utts: list[Utterance]) -> np.ndarray:
        """Class probabilities ``[N, C]`` of ``utts`` (all in ``fs``) on continuous features, for any probe."""
        from emobench.tasks.probe_feed import FedProbe

        if isinstance(probe, FedProbe):
            return probe.proba(fs, utts)
        return probe.predict_proba(_pooled(fs, utts, self.layer)[0])

    def train(self, fs, train: list[Utterance], val: list[Utterance], labels: list[str]):
        """A probe over ``labels`` trained on ``train`` (selected on ``val``): on mean-pooled features, or
        (a ``FedProbe``) on the frames or layers its spec reads."""
        from emobench import __version__
        from emobench.cache.artifacts import artifact_key
        from emobench.tasks.probe_feed import FedProbe

        feed = self.feed()
        tr = [u for u in train if u.id in fs]
        va = [u for u in val if u.id in fs]
        if feed.kind == "pooled":
            x_tr, x_va = _pooled(fs, tr, self.layer)[0], _pooled(fs, va, self.layer)[0]
        else:
            x_tr, x_va = feed.inputs(fs, tr), feed.inputs(fs, va)
        y_tr = np.array([labels.index(u.label) for u in tr], dtype=np.int64)
        y_va = np.array([labels.index(u.label) for u in va], dtype=np.int64)
        probe = self.component.build()
        attach = getattr(probe, "attach", None)  # probes that read an upstream's own head
        if attach is not None:
            attach(self.upstream, layer=self.layer, labels=labels)
        if not self.component.spec.trained:
            probe.fit(x_tr, y_tr, x_va, y_va, n_classes=len(labels), seed=self.seed, device=self.device)
            self.trained.append({"train": len(tr), "val": len(va), "cached": False})
            return probe if feed.kind == "pooled" else FedProbe(probe, feed)
        payload = {"emobench": __version__, "probe": self.component.record(), "seed": self.seed, "labels": labels,
                   "upstream": self.upstream_identity, "layer": self.layer,
                   "train": fs.content_digest([u.id for u in tr]), "val": fs.content_digest([u.id for u in va]),
                   "y": [int(v) for v in y_tr], "y_val": [int(v) for v in y_va]}
        if feed.kind != "pooled":
            payload["input"] = feed.describe()
        key = artifact_key(payload)
        cls = self.component.impl
        cached = self.store.load(key, lambda d: cls.load(d, device=str(self.device)))
        if cached is not None:
            self.trained.append({"train": len(tr), "val": len(va), "cached": True, "cache_key": key,
                                 **_weights(cached, feed)})
            return cached if feed.kind == "pooled" else FedProbe(cached, feed)
        with self.timer("probe"):
            probe.fit(x_tr, y_tr, x_va, y_va, n_classes=len(labels), seed=self.seed, device=self.device)
        self.store.save(key, probe.save, {k: v for k, v in payload.items() if k not in ("y", "y_val")})
        self.trained.append({"train": len(tr), "val": len(va), "cached": False, "cache_key": key,
                             "history": getattr(probe, "history", {}), **_weights(probe, feed)})
        return probe if feed.kind == "pooled" else FedProbe(probe, feed)


def _weights(probe, feed) -> dict[str, Any]:
    """The learned layer weights of a several-layer probe, for the result's record of its fits."""
    if not feed.several or not hasattr(probe, "layer_weights"):
        return {}
    return {"layer_weights": {str(layer): float(w) for layer, w in zip(feed.layers, probe.layer_weights, strict=True)}}


def _pooled(fs, utts: list[Utterance], layer: int) -> tuple[np.ndarray, list[Utterance]]:
    kept = [u for u in utts if u.id in fs]
    pooled = fs.pooled(layer)
    return pooled[[fs.index(u.id) for u in kept]] if kept else np.zeros((0, fs.dim), np.float32), kept


@dataclass
class TaskInputs:
    """Everything a task run uses. ``seed`` draws splits and bootstrap resamples; ``train_seed`` the
    codebooks and probes (one value of ``--seeds``)."""

    corpora: dict[str, Corpus]
    upstream: Any
    layer: int
    features: Features
    quantizers: Quantizers
    probes: Probes
    seed: int
    train_seed: int
    limit: int | None
    device: Any
    timer: Timer
    progress: Any = None
    notes: list[str] = field(default_factory=list)
    upstreams: dict[str, Features] = field(default_factory=dict)  # further upstreams by task param (spec's upstream_params)

    @property
    def label_set(self) -> tuple[str, ...]:
        sets = {c.label_set for c in self.corpora.values()}
        if len(sets) != 1:
            raise EmobenchError(f"corpora use different label sets {sorted(sets)}; load them with one label set "
                                "(-T label_set=...)")
        return sets.pop()

    def limited(self, utts: list[Utterance]) -> list[Utterance]:
        """``--limit N``: the first N utterances of a split, round-robin over labels so every emotion stays."""
        n = self.limit
        if n is None or len(utts) <= n:
            return utts
        rank: dict[str | None, int] = {}
        keyed = []
        for pos, u in enumerate(utts):
            rank[u.label] = rank.get(u.label, 0) + 1
            keyed.append((rank[u.label], pos, u))
        return [u for _, _, u in sorted(keyed, key=lambda t: (t[0], t[1]))[:n]]
