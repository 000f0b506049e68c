"""What tasks share: the run context (features, fitted quantizers and probes, all cached) and the
Task base class. Tasks hold the paper's protocols; they compose parts, they don't reimplement them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emobench import __version__
from emobench.config import RunConfig
from emobench.corpora.base import Corpus, Utterance
from emobench.errors import EmobenchError


@dataclass
class TaskOutput:
    """What a task hands back to the runner, which turns it into a result file."""

    metrics: list[dict[str, Any]]
    protocol: dict[str, Any]
    corpora_roles: dict[str, str]  # corpus name -> "train", "eval", "train+eval", "held-out", ...
    predictions: Any = None  # pandas DataFrame, one row per (utterance, condition)
    quantizer_info: dict[str, Any] = field(default_factory=dict)
    probe_info: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TaskContext:
    """Shared services for a task run. Everything expensive is cached on disk by content."""

    config: RunConfig
    corpora: dict[str, Corpus]
    upstream: Any
    layer: int
    device: Any  # torch.device
    cache: Any  # emobench.cache.FeatureCache
    codebook_dir: Path
    progress: Any = None  # rich.progress.Progress
    on_bad_audio: str = "skip"
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _features: Any = None

    # -- bookkeeping ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def timer(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def label_set(self) -> tuple[str, ...]:
        sets = {c.label_set for c in self.corpora.values()}
        if len(sets) != 1:
            raise EmobenchError(f"corpora use different label sets {sorted(sets)}; choose one --label-set")
        return sets.pop()

    # -- features ------------------------------------------------------------------------------
    def features(self, utts: list[Utterance]):
        """FeatureSet for ``utts`` (extracted once, then read from the cache). Bad audio is skipped."""
        with self.timer("features"):
            fs = self.cache.features(
                self.upstream, utts, layers=[self.layer], device=self.device,
                progress=self.progress, on_bad_audio=self.on_bad_audio,
            )
        self.skipped.extend(s for s in fs.skipped if s not in self.skipped)
        return fs

    def pooled(self, fs, utts: list[Utterance]) -> tuple[np.ndarray, list[Utterance]]:
        """Mean-pooled features of the utterances that survived extraction, in order."""
        index = {uid: i for i, uid in enumerate(fs.utt_ids)}
        kept = [u for u in utts if u.id in index]
        pooled = fs.pooled(self.layer)
        return pooled[[index[u.id] for u in kept]], kept

    # -- quantizers ----------------------------------------------------------------------------
    def new_quantizer(self, name: str | None = None, **overrides):
        from emobench.registries import quantizers

        name = name or self.config.quantizer
        params = {**(self.config.quantizer_params if name == self.config.quantizer else {}), **overrides}
        return quantizers.create(name, **params)

    def fit_quantizer(self, quantizer, fs, train: list[Utterance] | dict[str, list[Utterance]], *, tag: str):
        """Fit (or load the cached fit of) ``quantizer`` on the frames of ``train``.

        ``train`` is a list of utterances, or for per-emotion quantizers a mapping emotion -> utterances
        built with a training composition. Codebooks are cached under a key of everything that
        determines them, so reruns and other tasks reuse them.
        """
        from emobench.quantizers.base import load_quantizer

        if getattr(quantizer, "per_emotion", False) and not isinstance(train, dict):
            # A per-emotion quantizer (Emo-Q) draws each emotion's training set with its own composition.
            sets = quantizer.training_sets([u.label for u in train], seed=self.seed)
            train = {emotion: [train[i] for i in idx] for emotion, idx in sets.items()}
        groups = train if isinstance(train, dict) else {"all": train}
        key_src = {
            "emobench": __version__,  # k-means changes between versions give different codebooks
            "upstream": self.upstream.identity(), "layer": self.layer, "seed": self.seed,
            "quantizer": type(quantizer).__name__, "params": quantizer.config(),
            "train": {k: sorted(u.id for u in v) for k, v in groups.items()},
        }
        key = hashlib.sha256(json.dumps(key_src, sort_keys=True, default=str).encode()).hexdigest()[:20]
        folder = self.codebook_dir / f"{tag}-{key}"
        fitted_on = {"upstream": self.upstream.identity(), "layer": self.layer}
        if (folder / "config.json").is_file():
            return load_quantizer(folder, expect=fitted_on)
        extracted = set(fs.utt_ids)
        sources = {k: fs.subset([u.id for u in v if u.id in extracted]).frame_source(self.layer)
                   for k, v in groups.items()}
        with self.timer("fit"):
            frames = sources if isinstance(train, dict) else sources["all"]
            quantizer.fit(frames, device=self.device, seed=self.seed, progress=self.progress)
        quantizer.fitted_on = fitted_on
        _save_dir_atomically(quantizer, folder)
        return quantizer

    def limit(self, utts: list[Utterance]) -> list[Utterance]:
        """``--limit N``: the first N utterances of a split, taken round-robin over labels so every
        emotion stays represented."""
        n = self.config.limit
        if n is None or len(utts) <= n:
            return utts
        rank: dict[str, int] = {}
        keyed = []
        for pos, u in enumerate(utts):
            rank[u.label] = rank.get(u.label, 0) + 1
            keyed.append((rank[u.label], pos, u))
        return [u for _, _, u in sorted(keyed, key=lambda t: (t[0], t[1]))[:n]]

    # -- probes --------------------------------------------------------------------------------
    def train_probe(self, X_train, y_train, X_val, y_val, *, seed: int | None = None):
        from emobench.registries import probes

        probe = probes.create(self.config.probe, **self.config.probe_params)
        if hasattr(probe, "attach"):  # a probe that uses the upstream's own head (emotion2vec's)
            probe.attach(self.upstream)
        with self.timer("probe"):
            probe.fit(X_train, y_train, X_val, y_val, n_classes=len(self.label_set),
                      seed=self.seed if seed is None else seed, device=self.device)
        return probe


def _save_dir_atomically(quantizer, folder: Path) -> None:
    """Save into a sibling temp dir, then rename: a killed run never leaves a half-written codebook."""
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        quantizer.save(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class Task:
    """Base class of task plugins. Subclasses set ``name`` and implement ``check`` and ``run``."""

    name: str = "task"
    needs_soft_labels: bool = False
    min_utterances_per_label: int = 2

    def __init__(self, **params: Any):
        self.params = params

    def check(self, corpora: dict[str, Corpus]) -> None:
        """Fail before any expensive work when the corpora cannot support the task."""
        for corpus in corpora.values():
            if not corpus.utterances:
                raise EmobenchError(f"corpus {corpus.name!r} at {corpus.root} has no usable utterances")
            if self.needs_soft_labels and not corpus.has_soft_labels:
                raise EmobenchError(
                    f"task {self.name} needs soft labels (annotator vote distributions); corpus "
                    f"{corpus.name!r} has none — use IEMOCAP, CREMA-D, MSP-Podcast or the demo corpus"
                )
            counts = {lab: 0 for lab in corpus.label_set}
            for u in corpus.utterances:
                counts[u.label] = counts.get(u.label, 0) + 1
            thin = {lab: n for lab, n in counts.items() if n < self.min_utterances_per_label}
            if thin:
                raise EmobenchError(
                    f"task {self.name}: corpus {corpus.name!r} has too few utterances of {thin} "
                    f"(needs {self.min_utterances_per_label} per emotion); use a larger --limit or another label set"
                )

    def run(self, ctx: TaskContext) -> TaskOutput:  # pragma: no cover - abstract
        raise NotImplementedError
