"""FeatureCache: extract once, reuse everywhere. Resumable, checksummed, streamed from memory maps.

Layout under ``<root>/features`` (root: EMOBENCH_CACHE, else the user cache dir)::

    <upstream name>/<entry key>/entry.json          identity, sample rate, dim, format version
    <upstream name>/<entry key>/shards/<id>.json     manifest: layers, utterance keys, sha256s
    <upstream name>/<entry key>/shards/<id>.*.npy    fp16 frames, fp32 pooled vectors
    <upstream name>/<entry key>/skipped.csv          unusable audio of the latest call (utt_id,file,reason)
    audio-hashes.json                                 (path, size, mtime) -> file sha256 memo
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emobench.cache.compute import computed_batches
from emobench.cache.featureset import FeatureSet, _Loc
from emobench.cache.keys import FEATURE_FORMAT_VERSION, SCHEMA_VERSION, AudioHasher, canonical_json, entry_key
from emobench.cache.store import Shard, read_manifests, write_shard
from emobench.corpora.base import Utterance
from emobench.errors import AudioError, CacheError
from emobench.fsutil import atomic_write_json

if TYPE_CHECKING:
    from emobench.upstreams.base import Upstream

_VERIFIED: set[tuple[str, str]] = set()  # (manifest path, shard id) checked in this process


def cache_identity(upstream: Upstream) -> dict[str, Any]:
    """The upstream's identity, plus its compute dtype when that is not fp32 (fp16 features differ)."""
    identity = dict(upstream.identity())
    dtype = str(getattr(upstream, "dtype", "torch.float32"))
    if dtype != "torch.float32":
        identity["compute_dtype"] = dtype
    return identity


class FeatureCache:
    """``FeatureCache(root=None).features(upstream, utterances, layers=[...]) -> FeatureSet``.

    ``root`` is emobench's cache root (default: EMOBENCH_CACHE or the user cache dir); features live in
    its ``features/`` folder, beside other caches (codebooks, the demo corpus).
    """

    def __init__(
        self, root: str | Path | None = None, *, batch_seconds: float = 120.0, shard_mb: float = 256.0,
        verify: bool = True,
    ):
        from emobench.cache_dirs import cache_root

        self.root = Path(root).expanduser() if root is not None else cache_root()
        self.features_dir = self.root / "features"
        self.batch_seconds = float(batch_seconds)  # padded audio seconds per forward pass
        self.shard_bytes = int(shard_mb * 2**20)  # flush a shard once its frames reach this size
        self.verify = verify

    def entry_dir(self, upstream: Upstream) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", upstream.name) or "upstream"
        return self.features_dir / safe / entry_key(cache_identity(upstream), upstream.sample_rate)

    def features(
        self,
        upstream: Upstream,
        utterances: Sequence[Utterance],
        *,
        layers: Sequence[int] | None = None,
        device: Any = None,
        batch_seconds: float | None = None,
        progress: Any = None,
        on_bad_audio: str = "skip",
    ) -> FeatureSet:
        """Features of ``utterances`` for ``layers`` (default: all), extracting only what is not cached.

        ``batch_seconds`` (default: the cache's) bounds the padded audio per forward pass; ``progress`` is an optional
        rich.progress.Progress. Unusable audio is skipped and listed in ``FeatureSet.skipped``
        (``on_bad_audio="fail"`` raises the AudioError instead).
        """
        if on_bad_audio not in ("skip", "fail"):
            raise ValueError(f"on_bad_audio must be 'skip' or 'fail', got {on_bad_audio!r}")
        layers = upstream.check_layers(layers)
        if device is not None:
            upstream.to(device)
        entry = self.entry_dir(upstream)
        self._write_entry_json(entry, upstream)
        run = _Run(self, upstream, entry / "shards", layers, on_bad_audio)
        hasher = AudioHasher(self.features_dir)
        keys: list[str | None] = []
        for utt in utterances:
            try:
                keys.append(hasher.utterance_key(utt, upstream.content_file(utt)))
            except AudioError as exc:
                run.bad(utt, exc)
                keys.append(None)
        hasher.save()
        have = run.cached({k for k in keys if k is not None})
        todo: dict[str, Utterance] = {}
        for utt, key in zip(utterances, keys, strict=True):
            if key is not None and key not in have:
                todo.setdefault(key, utt)
        batch_seconds = self.batch_seconds if batch_seconds is None else float(batch_seconds)
        have.update(run.extract(todo, batch_seconds=batch_seconds, progress=progress))
        kept = [(u, k) for u, k in zip(utterances, keys, strict=True) if k is not None and k in have]
        fs = FeatureSet(
            [u.id for u, _ in kept], layers, upstream.dim, upstream.frame_rate_hz,
            [have[k] for _, k in kept], skipped=run.skipped, skipped_files=run.skipped_files,
            upstream=upstream.name, entry_dir=entry,
        )
        fs.extracted = dict(run.stats)
        if fs.skipped:
            fs.write_skipped_csv(entry / "skipped.csv")
        return fs

    def _write_entry_json(self, entry: Path, upstream: Upstream) -> None:
        path = entry / "entry.json"
        meta = {
            "schema_version": SCHEMA_VERSION, "format_version": FEATURE_FORMAT_VERSION, "upstream": upstream.name,
            "identity": cache_identity(upstream), "sample_rate": upstream.sample_rate, "dim": upstream.dim,
            "n_layers": upstream.n_layers, "frame_rate_hz": upstream.frame_rate_hz,
        }
        if path.is_file():
            try:
                old = json.loads(path.read_text())
                if canonical_json(old.get("identity")) == canonical_json(meta["identity"]):
                    return
            except ValueError:
                pass  # unreadable: rewrite it below
        try:
            atomic_write_json(path, {**meta, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        except OSError as exc:
            raise CacheError(
                f"cannot write to the feature cache {self.root}: {exc.strerror or exc}; "
                "set EMOBENCH_CACHE to a writable folder"
            ) from exc


class _Run:
    """State of one ``features`` call: what is cached, what was skipped, the shard being filled."""

    def __init__(self, cache: FeatureCache, upstream: Upstream, folder: Path, layers: list[int], on_bad: str):
        self.cache, self.upstream, self.folder, self.layers, self.on_bad = cache, upstream, folder, layers, on_bad
        self.skipped: list[tuple[str, str]] = []
        self.skipped_files: dict[str, str] = {}
        self.stats = {"utterances": 0, "frames": 0, "seconds": 0.0}  # what this call extracted

    def bad(self, utt: Utterance, exc: AudioError) -> None:
        if self.on_bad == "fail":
            raise exc
        self.skipped.append((utt.id, str(exc)))
        self.skipped_files[utt.id] = str(utt.path)

    def cached(self, wanted: set[str]) -> dict[str, _Loc]:
        """Key -> location for wanted keys in verified shards holding every requested layer."""
        shards, problems = read_manifests(self.folder)
        for p in problems:
            warnings.warn(f"feature cache {self.folder}: {p}; its utterances will be recomputed", stacklevel=3)
        need = set(self.layers)
        have: dict[str, _Loc] = {}
        for shard in shards:
            if not need <= set(shard.layers) or shard.manifest.get("dim") != self.upstream.dim:
                continue
            hits = [(row, k) for row, k in enumerate(shard.keys) if k in wanted and k not in have]
            if hits and self._ok(shard):
                have.update({k: _Loc(shard, row) for row, k in hits})
        return have

    def _ok(self, shard: Shard) -> bool:
        if not self.cache.verify or (str(shard.manifest_path), shard.id) in _VERIFIED:
            return True
        problems = shard.problems()
        if problems:
            warnings.warn(
                f"feature cache shard {shard.manifest_path} is corrupt ({'; '.join(problems)}); "
                "removing it and recomputing its utterances", stacklevel=4,
            )
            shard.remove()
            return False
        _VERIFIED.add((str(shard.manifest_path), shard.id))
        return True

    def extract(self, todo: dict[str, Utterance], *, batch_seconds: float, progress: Any) -> dict[str, _Loc]:
        """Compute what is missing and commit it shard by shard (a killed run keeps finished shards)."""
        have: dict[str, _Loc] = {}
        buf_keys: list[str] = []
        buf_feats: list[np.ndarray] = []
        buf_bytes = 0
        batches = computed_batches(self.upstream, todo, self.layers, batch_seconds=batch_seconds,
                                   progress=progress, on_bad=self.bad)
        start = time.perf_counter()
        for keys, feats in batches:
            self.stats["utterances"] += len(keys)
            self.stats["frames"] += sum(int(f.shape[1]) for f in feats)
            buf_keys += keys
            buf_feats += feats
            buf_bytes += sum(f.size * 2 for f in feats)  # fp16 on disk
            if buf_bytes >= self.cache.shard_bytes:
                have.update(self._flush(buf_keys, [todo[k].id for k in buf_keys], buf_feats))
                buf_keys, buf_feats, buf_bytes = [], [], 0
        if buf_keys:
            have.update(self._flush(buf_keys, [todo[k].id for k in buf_keys], buf_feats))
        self.stats["seconds"] += time.perf_counter() - start
        return have

    def _flush(self, keys: list[str], ids: list[str], feats: list[np.ndarray]) -> dict[str, _Loc]:
        shard = write_shard(self.folder, layers=self.layers, keys=keys, ids=ids, feats=feats)
        _VERIFIED.add((str(shard.manifest_path), shard.id))
        return {k: _Loc(shard, row) for row, k in enumerate(keys)}

