"""Synthetic features with a known answer, and TaskInputs over them: for emobench's own known-outcome
tests, and for plugin authors testing a task or quantizer without audio, models or a cache.

Every utterance's frames are ``centre[emotion] + nuisance[utterance] + noise``: emotion lives in a small
subspace while a larger per-utterance nuisance subspace (speaker, phonetic content) dominates the
variance. So a balanced codebook with few entries spends them on nuisance; a codebook trained on one
emotion spends them near that emotion's centre; and a router comparing reconstructions through emotion
codebooks recognises the emotion. How strong each effect is follows from the construction's parameters.

Several layers: ``stack_layers`` turns one layer's frames into ``[layers, frames, dim]`` where only some
layers carry them (the rest nuisance), so a probe that learns layer weights has a known best layer; the
synthetic feature set then holds every layer. Several "languages": ``synthetic_corpus(language=...)`` tags
the utterances, and ``centers`` puts each corpus' emotion in its own subspace.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emobench.corpora.base import DEFAULT_LABELS, Corpus, Utterance
from emobench.frames import ArrayFrameSource


def synthetic_corpus(name: str, *, n_per_label: int = 24, n_speakers: int = 4, dim: int = 16, emo_dims: int = 4,
                     emo_scale: float = 1.5, nuisance: float = 4.0, noise: float = 0.3, frames: int = 12, seed: int = 0,
                     soft: bool = False, labels=DEFAULT_LABELS, centers: np.ndarray | None = None,
                     no_agreement: int = 0, language: str | None = None) -> tuple[Corpus, dict[str, np.ndarray]]:
    """A Corpus and its frames (``utt_id -> [frames, dim]``). ``soft``: vote shares mixing the true emotion
    with others (about a third of the utterances without a majority); ``no_agreement``: that many extra
    utterances per emotion without an agreed label (votes only), as IEMOCAP's ``xxx``; ``language``: the
    utterances' ``meta["language"]``, as the cross-lingual loaders set it."""
    rng = np.random.default_rng(seed)
    if centers is None:
        centers = np.zeros((len(labels), dim))
        centers[:, :emo_dims] = np.eye(len(labels), emo_dims) * emo_scale * 2
    utts, unlabelled, feats = [], [], {}
    for i, lab in enumerate(labels):
        for k in range(n_per_label + no_agreement):
            uid = f"{name}/{lab}_{k:03d}"
            nuis = np.zeros(dim)
            nuis[emo_dims:] = rng.normal(size=dim - emo_dims) * nuisance
            feats[uid] = (centers[i] + nuis + rng.normal(size=(frames, dim)) * noise).astype(np.float32)
            soft_label = share = None
            if soft or k >= n_per_label:
                top = rng.uniform(0.3, 0.5) if k >= n_per_label else rng.uniform(0.35, 0.95)
                votes = np.zeros(len(labels))
                others = [j for j in range(len(labels)) if j != i]
                votes[i] = top
                votes[others[k % len(others)]] += (1 - top) * 0.6
                votes[others[(k + 1) % len(others)]] += (1 - top) * 0.4
                soft_label, share = tuple(float(v) for v in votes / votes.sum()), float(votes.max() / votes.sum())
            u = Utterance(id=uid, corpus=name, path=f"/nonexistent/{uid}.wav", speaker=f"{name}-spk{k % n_speakers}",
                          label=lab if k < n_per_label else None, soft_label=soft_label, primary_share=share,
                          meta={"language": language} if language else {})
            (utts if k < n_per_label else unlabelled).append(u)
    corpus = Corpus(name=name, root=None, label_set=tuple(labels), utterances=utts, synthetic=True,
                    has_soft_labels=soft or bool(no_agreement), unlabelled=unlabelled)
    return corpus, feats


def lingual_corpus(name: str, *, language: str, emotion_dims: tuple[int, int], emo_scale: float = 1.5,
                   dim: int = 16, nuisance_from: int = 8, nuisance: float = 4.0, speaker_scale: float = 0.0,
                   speaker_dims: tuple[int, int] | None = None, n_speakers: int = 6, n_per_label: int = 24,
                   labels=DEFAULT_LABELS, seed: int = 0) -> tuple[Corpus, dict[str, np.ndarray]]:
    """A synthetic corpus of one "language" (``meta["language"]``): emotion centres in dims
    ``emotion_dims = (lo, hi)`` (each language can use its own subspace, at its own scale), per-utterance
    nuisance in dims ``nuisance_from..``, and with ``speaker_scale`` a fixed offset per speaker in
    ``speaker_dims`` (default: the nuisance dims)."""
    lo, hi = emotion_dims
    centers = np.zeros((len(labels), dim))
    centers[:, lo:hi] = np.eye(len(labels), hi - lo) * emo_scale * 2
    corpus, feats = synthetic_corpus(name, n_per_label=n_per_label, n_speakers=n_speakers, dim=dim,
                                     emo_dims=nuisance_from, nuisance=nuisance, centers=centers, labels=labels,
                                     seed=seed, language=language)
    if speaker_scale:
        s_lo, s_hi = speaker_dims or (nuisance_from, dim)
        rng = np.random.default_rng([seed, 7])  # its own stream: the frames above stay those of synthetic_corpus
        offsets = {s: rng.normal(size=s_hi - s_lo) * speaker_scale
                   for s in sorted({u.speaker for u in corpus.utterances})}
        for u in corpus.utterances:
            feats[u.id][:, s_lo:s_hi] += offsets[u.speaker].astype(np.float32)
    return corpus, feats


def stack_layers(feats: dict[str, np.ndarray], *, n_layers: int, informative: dict[int, float], nuisance: float = 4.0,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """``utt_id -> [n_layers, frames, dim]``: layer l holds ``informative[l] x`` the utterance's frames plus
    noise, every other layer only per-utterance nuisance and noise (no emotion)."""
    rng = np.random.default_rng(seed)
    out = {}
    for uid, x in feats.items():
        layers = []
        for layer in range(n_layers):
            base = np.zeros_like(x) + rng.normal(size=x.shape[1]) * nuisance  # a per-utterance offset
            base += rng.normal(size=x.shape) * 0.3
            if layer in informative:
                base = base * 0.1 + informative[layer] * x
            layers.append(base)
        out[uid] = np.stack(layers).astype(np.float32)
    return out


@dataclass
class SyntheticFeatures:
    """A FeatureSet look-alike over in-memory frames: ``[frames, dim]`` per utterance (one layer, any index
    reads it) or ``[layers, frames, dim]`` (``stack_layers``: layer l reads ``[l]``)."""

    utt_ids: list[str]
    frames_by_id: dict[str, np.ndarray]
    skipped: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lengths = np.array([self.frames_by_id[u].shape[-2] for u in self.utt_ids], dtype=np.int64)
        self._index = {u: i for i, u in enumerate(self.utt_ids)}
        first = next(iter(self.frames_by_id.values()))
        self.dim = int(first.shape[-1])
        self.n_layers = int(first.shape[0]) if first.ndim == 3 else 1

    def _layer(self, x: np.ndarray, layer: int) -> np.ndarray:
        return x[layer] if x.ndim == 3 else x

    def __len__(self) -> int:
        return len(self.utt_ids)

    def __contains__(self, utt_id: str) -> bool:
        return utt_id in self._index

    def index(self, utt_id: str) -> int:
        return self._index[utt_id]

    def pooled(self, layer: int) -> np.ndarray:
        return np.stack([self._layer(self.frames_by_id[u], layer).mean(0) for u in self.utt_ids]).astype(np.float32)

    def frames(self, layer: int, i: int) -> np.ndarray:
        return self._layer(self.frames_by_id[self.utt_ids[i]], layer)

    def block(self, layer: int, rows) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([self.frames(layer, i) for i in rows]), self.lengths[list(rows)]

    def subset(self, ids) -> SyntheticFeatures:
        return SyntheticFeatures(list(ids), self.frames_by_id)

    def frame_source(self, layer: int) -> ArrayFrameSource:
        return ArrayFrameSource(np.concatenate([self._layer(self.frames_by_id[u], layer) for u in self.utt_ids]))

    def content_digest(self, utt_ids=None) -> str:
        ids = sorted(self.utt_ids if utt_ids is None else utt_ids)
        h = hashlib.sha256()
        for u in ids:
            h.update(u.encode() + self.frames_by_id[u].tobytes())
        return h.hexdigest()[:32]


class SyntheticCache:
    def __init__(self, frames_by_id: dict[str, np.ndarray]):
        self.frames_by_id = frames_by_id

    def features(self, upstream, utts, **_: Any) -> SyntheticFeatures:
        return SyntheticFeatures([u.id for u in utts], self.frames_by_id)


class SyntheticUpstream:
    """Stands in for the upstream of synthetic features (nothing is extracted)."""

    name, frame_rate_hz, n_layers, default_layer = "synthetic", 50.0, 1, 0

    def __init__(self, dim: int, n_layers: int = 1):
        self.dim, self.n_layers = dim, int(n_layers)

    def identity(self) -> dict[str, Any]:
        return {"loader": "synthetic", "dim": self.dim}


def make_inputs(tmp_path: str | Path, corpora: dict[str, tuple[Corpus, dict]], *, task: str,
                quantizers: dict[str, str] | None = None, quantizer_params: dict[str, dict] | None = None,
                probe: str | None = None, probe_params: dict | None = None, limit: int | None = None, seed: int = 0,
                layer: int | None = None):
    """TaskInputs for ``task`` over synthetic corpora: roles bound as ``emobench run`` binds them (the task
    spec's presets for the ``fbank`` upstream, overridden by ``quantizers``), real caches under ``tmp_path``.
    Frames ``[layers, frames, dim]`` (``stack_layers``) make a several-layer upstream; ``layer`` is the run's
    layer (default: the last, as a transformer upstream's); ``probe`` defaults to the upstream's (linear)."""
    import torch

    from emobench.cache.artifacts import ArtifactStore
    from emobench.config import RunConfig
    from emobench.resolve import resolve
    from emobench.tasks.inputs import Features, Probes, Quantizers, TaskInputs, Timer

    frames: dict[str, np.ndarray] = {}
    for _, feats in corpora.values():
        frames.update(feats)
    first = next(iter(frames.values()))
    dim, n_layers = first.shape[-1], (first.shape[0] if first.ndim == 3 else 1)
    layer = n_layers - 1 if layer is None else int(layer)
    fast_probe = {"epochs": 30, "lr": 0.05, "batch_size": 0, "min_steps": 0}
    config = RunConfig(upstream="fbank", task=task, quantizers=dict(quantizers or {}),
                       quantizer_params=dict(quantizer_params or {}), probe=probe,
                       probe_params=fast_probe if probe_params is None else probe_params, limit=limit, seed=seed,
                       corpora={"demo": None})
    resolved = resolve(config)
    upstream, timer, dev, root = SyntheticUpstream(dim, n_layers), Timer(), torch.device("cpu"), Path(tmp_path)
    upstream.default_layer = layer
    features = Features(SyntheticCache(frames), upstream, layer, dev, timer)
    return TaskInputs(
        corpora={c: corpus for c, (corpus, _) in corpora.items()}, upstream=upstream, layer=layer, features=features,
        quantizers=Quantizers(resolved.roles, ArtifactStore(root, "codebooks"), {"upstream": upstream.identity()},
                              dev, seed, timer),
        probes=Probes(resolved.probe, upstream, layer, ArtifactStore(root, "probes"), dev, seed, timer,
                      features=features),
        seed=seed, train_seed=seed, limit=limit, device=dev, timer=timer,
    ), resolved


def records(metrics: list[dict], name: str, **where: Any) -> list[dict]:
    """Records of ``name`` whose breakdown has ``where`` (``key=None``: the key is absent)."""
    return [m for m in metrics if m["name"] == name and all(m["breakdown"].get(k) == v for k, v in where.items())]


def value(metrics: list[dict], name: str, **where: Any) -> float:
    found = records(metrics, name, **where)
    if len(found) != 1:
        raise AssertionError(f"{len(found)} records of {name} with {where}")
    return found[0]["value"]
