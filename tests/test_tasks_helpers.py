"""Synthetic features with known structure and a TaskContext over them (no audio, no cache), shared by
the task tests. Holds no tests itself.

Every utterance's frames are ``center[emotion] + nuisance[utterance] + noise``: emotion lives in a small
subspace, while a larger shared nuisance subspace (speaker / phonetic variation) dominates the variance,
so a balanced codebook with few entries spends them on nuisance and an emotion-specific one does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from emobench.config import RunConfig
from emobench.corpora.base import DEFAULT_LABELS, Corpus, Utterance
from emobench.frames import ArrayFrameSource

LABELS = DEFAULT_LABELS


class FakeUpstream:
    name = "synthetic"
    frame_rate_hz = 50.0
    n_layers = 1
    default_layer = 0

    def __init__(self, dim: int):
        self.dim = dim

    def identity(self) -> dict:
        return {"name": "synthetic", "dim": self.dim}


@dataclass
class FakeFeatureSet:
    utt_ids: list[str]
    frames_by_id: dict[str, np.ndarray]
    skipped: list = field(default_factory=list)

    def __post_init__(self):
        self.lengths = np.array([len(self.frames_by_id[u]) for u in self.utt_ids], dtype=np.int64)
        self._index = {u: i for i, u in enumerate(self.utt_ids)}

    def __len__(self):
        return len(self.utt_ids)

    def index(self, utt_id: str) -> int:
        return self._index[utt_id]

    def pooled(self, layer: int) -> np.ndarray:
        return np.stack([self.frames_by_id[u].mean(0) for u in self.utt_ids]).astype(np.float32)

    def frames(self, layer: int, i: int) -> np.ndarray:
        return self.frames_by_id[self.utt_ids[i]]

    def subset(self, ids) -> FakeFeatureSet:
        return FakeFeatureSet(list(ids), self.frames_by_id)

    def frame_source(self, layer: int) -> ArrayFrameSource:
        return ArrayFrameSource(np.concatenate([self.frames_by_id[u] for u in self.utt_ids]))


class FakeCache:
    def __init__(self, frames_by_id: dict[str, np.ndarray]):
        self.frames_by_id = frames_by_id

    def features(self, upstream, utts, **kwargs) -> FakeFeatureSet:
        return FakeFeatureSet([u.id for u in utts], self.frames_by_id)


def synthetic_corpus(name: str, *, n_per_label: int = 24, n_speakers: int = 4, dim: int = 16, emo_dims: int = 4,
                     emo_scale: float = 1.5, nuisance: float = 4.0, noise: float = 0.3, frames: int = 12, seed: int = 0,
                     soft: bool = False, labels=LABELS, centers: np.ndarray | None = None):
    """A Corpus and its frames. Emotion centres live in the first ``emo_dims`` dims, the per-utterance
    nuisance in the rest. ``soft``: vote shares mixing the true emotion with a second one."""
    rng = np.random.default_rng(seed)
    if centers is None:
        centers = np.zeros((len(labels), dim))
        centers[:, :emo_dims] = np.eye(len(labels), emo_dims) * emo_scale * 2
    utts, feats = [], {}
    for i, lab in enumerate(labels):
        for k in range(n_per_label):
            uid = f"{name}/{lab}_{k:03d}"
            nuis = np.zeros(dim)
            nuis[emo_dims:] = rng.normal(size=dim - emo_dims) * nuisance
            x = centers[i] + nuis + rng.normal(size=(frames, dim)) * noise
            feats[uid] = x.astype(np.float32)
            soft_label = None
            if soft:
                share = rng.uniform(0.4, 0.9)  # primary share; <= 0.5 is the high-ambiguity stratum
                first, second = (i + 1 + k % (len(labels) - 1)) % len(labels), (i + 2 + k % 2) % len(labels)
                v = np.full(len(labels), 0.0)
                v[i], v[first] = share, (1 - share) * 0.6
                v[second] += (1 - share) * 0.4
                soft_label = tuple(float(s) for s in v / v.sum())
            utts.append(Utterance(id=uid, corpus=name, path=f"/nonexistent/{uid}.wav",
                                  speaker=f"{name}-spk{k % n_speakers}", label=lab, soft_label=soft_label))
    corpus = Corpus(name=name, root=None, label_set=tuple(labels), utterances=utts, synthetic=True,
                    has_soft_labels=soft)
    return corpus, feats


def make_context(tmp_path: Path, corpora: dict[str, tuple[Corpus, dict]], *, quantizer: str, task: str,
                 probe: str = "linear", probe_params: dict | None = None, limit: int | None = None, seed: int = 0):
    import torch

    from emobench.tasks.base import TaskContext

    frames: dict[str, np.ndarray] = {}
    for _, feats in corpora.values():
        frames.update(feats)
    dim = next(iter(frames.values())).shape[1]
    config = RunConfig(upstream="fbank", quantizer=quantizer, task=task, corpora={c: None for c in corpora},
                       probe=probe, probe_params={"epochs": 30, "lr": 0.05, "batch_size": 0, "min_steps": 0} if probe_params is None else probe_params, limit=limit, seed=seed)
    return TaskContext(
        config=config, corpora={c: corpus for c, (corpus, _) in corpora.items()}, upstream=FakeUpstream(dim),
        layer=0, device=torch.device("cpu"), cache=FakeCache(frames), codebook_dir=tmp_path / "codebooks",
    )


def register_quantizer(name: str, **params):
    """Register a small RVQ preset for a test; returns a callable that unregisters it."""
    from emobench.registries import quantizers

    quantizers.register(name, "emobench.quantizers.rvq:ResidualVQ", "test preset", **params)
    return lambda: quantizers.unregister(name)


def records(metrics: list[dict], name: str, **where) -> list[dict]:
    return [m for m in metrics if m["name"] == name and all(m["breakdown"].get(k) == v for k, v in where.items())]


def value(metrics: list[dict], name: str, **where) -> float:
    found = records(metrics, name, **where)
    assert len(found) == 1, (name, where, len(found))
    return found[0]["value"]


@pytest.fixture(autouse=False)
def one_thread():
    """Tiny synthetic problems: torch's intra-op threads only add contention on a shared CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
