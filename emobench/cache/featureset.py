"""FeatureSet: cached features of a list of utterances, read from memory-mapped shards on demand.

Nothing is loaded up front: ``pooled`` gathers small fp32 vectors, ``frames`` reads one utterance, and
``frame_source`` streams a layer's frames chunk by chunk, so a cache bigger than RAM can feed k-means.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emobench.cache.store import Shard


@dataclass(frozen=True)
class _Loc:
    shard: Shard
    row: int  # utterance index within the shard


@dataclass
class FeatureSet:
    """Features of ``utt_ids`` (input order, skipped utterances left out) for ``layers``."""

    utt_ids: list[str]
    layers: list[int]
    dim: int
    frame_rate_hz: float
    locs: list[_Loc] = field(repr=False)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (utt id, reason naming the file)
    skipped_files: dict[str, str] = field(default_factory=dict, repr=False)  # utt id -> audio path
    upstream: str = ""
    entry_dir: Path | None = None
    extracted: dict = field(default_factory=dict)  # what the call that made it extracted (not read back)

    def __post_init__(self) -> None:
        self.lengths = np.asarray([loc.shard.lengths[loc.row] for loc in self.locs], dtype=np.int64)  # [N]
        self._index = {u: i for i, u in enumerate(self.utt_ids)}

    def __len__(self) -> int:
        return len(self.utt_ids)

    def _layer_pos(self, shard: Shard, layer: int) -> int:
        if layer not in self.layers:
            raise KeyError(f"layer {layer} was not extracted; this FeatureSet holds layers {self.layers}")
        return shard.layers.index(layer)

    def pooled(self, layer: int) -> np.ndarray:
        """Utterance-level mean-pooled vectors ``[N, dim]`` float32 (mean of the fp32 frames)."""
        out = np.empty((len(self.locs), self.dim), dtype=np.float32)
        for shard, rows, where in self._by_shard():
            out[where] = shard.pooled[self._layer_pos(shard, layer), rows]
        return out

    def frames(self, layer: int, i: int) -> np.ndarray:
        """Frames of the i-th utterance ``[T_i, dim]`` float32."""
        loc = self.locs[i]
        start = loc.shard.offsets[loc.row]
        block = loc.shard.frames[self._layer_pos(loc.shard, layer), start : start + loc.shard.lengths[loc.row]]
        return np.asarray(block, dtype=np.float32)

    def index(self, utt_id: str) -> int:
        return self._index[utt_id]

    def __contains__(self, utt_id: str) -> bool:
        return utt_id in self._index

    def content_digest(self, utt_ids: Sequence[str] | None = None) -> str:
        """sha256 of the content keys (audio bytes + segment) of ``utt_ids`` (all by default), as a set,
        with the feature entry (upstream identity, format): what a codebook trained on them depends on."""
        import hashlib

        ids = self.utt_ids if utt_ids is None else utt_ids
        keys = sorted(self.locs[self._index[u]].shard.keys[self.locs[self._index[u]].row] for u in ids)
        entry = self.entry_dir.name if self.entry_dir is not None else self.upstream
        return hashlib.sha256(("\n".join([entry, *keys])).encode()).hexdigest()[:32]

    def block(self, layer: int, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Frames of utterances ``rows`` concatenated ``[T, dim]`` float32 and their lengths ``[n]``."""
        parts = [self.frames(layer, i) for i in rows]
        x = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        return x, self.lengths[list(rows)]

    def subset(self, utt_ids: Sequence[str]) -> FeatureSet:
        """The same features restricted to (and ordered as) ``utt_ids``; unknown ids are a KeyError."""
        missing = [u for u in utt_ids if u not in self._index]
        if missing:
            raise KeyError(f"{len(missing)} utterance(s) not in this FeatureSet, e.g. {missing[0]!r}")
        idx = [self._index[u] for u in utt_ids]
        return FeatureSet(
            list(utt_ids), self.layers, self.dim, self.frame_rate_hz, [self.locs[i] for i in idx],
            skipped=list(self.skipped), skipped_files=dict(self.skipped_files),
            upstream=self.upstream, entry_dir=self.entry_dir,
        )

    def frame_source(self, layer: int) -> ShardFrameSource:
        """All frames of ``layer`` as a FrameSource (utterance order), streamed from the shards."""
        segments = []  # (shard, layer position, start, stop), contiguous runs merged
        for loc in self.locs:
            pos = self._layer_pos(loc.shard, layer)
            start = int(loc.shard.offsets[loc.row])
            stop = start + int(loc.shard.lengths[loc.row])
            last = segments[-1] if segments else None
            if last and last[0] is loc.shard and last[1] == pos and last[3] == start:
                segments[-1] = (last[0], pos, last[2], stop)
            else:
                segments.append((loc.shard, pos, start, stop))
        return ShardFrameSource(segments, self.dim)

    def write_skipped_csv(self, path: str | Path) -> Path:
        """``utt_id,file,reason`` for every skipped utterance (header only when none were)."""
        from emobench.fsutil import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["utt_id", "file", "reason"])
            for utt_id, reason in self.skipped:
                writer.writerow([utt_id, self.skipped_files.get(utt_id, ""), reason])
        return path

    def _by_shard(self) -> Iterator[tuple[Shard, np.ndarray, np.ndarray]]:
        groups: dict[int, tuple[Shard, list[int], list[int]]] = {}
        for i, loc in enumerate(self.locs):
            groups.setdefault(id(loc.shard), (loc.shard, [], []))
            groups[id(loc.shard)][1].append(loc.row)
            groups[id(loc.shard)][2].append(i)
        for shard, rows, where in groups.values():
            yield shard, np.asarray(rows), np.asarray(where)


class ShardFrameSource:
    """FrameSource over segments of memory-mapped fp16 shards; yields float32 chunks."""

    def __init__(self, segments: list[tuple[Shard, int, int, int]], dim: int):
        self.segments = segments
        self.dim = dim
        sizes = np.asarray([stop - start for _, _, start, stop in segments], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)  # [n_segments + 1]
        self.n_frames = int(self._starts[-1])

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        buf, filled = [], 0
        for shard, pos, start, stop in self.segments:
            while start < stop:
                take = min(stop - start, chunk_size - filled)
                buf.append(np.asarray(shard.frames[pos, start : start + take], dtype=np.float32))
                filled += take
                start += take
                if filled == chunk_size:
                    yield np.concatenate(buf) if len(buf) > 1 else buf[0]
                    buf, filled = [], 0
        if filled:
            yield np.concatenate(buf) if len(buf) > 1 else buf[0]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``[min(n, n_frames), dim]`` frames drawn uniformly without replacement, in frame order."""
        n = min(n, self.n_frames)
        idx = np.sort(rng.choice(self.n_frames, size=n, replace=False))
        seg = np.searchsorted(self._starts, idx, side="right") - 1  # segment of each index
        out = np.empty((n, self.dim), dtype=np.float32)
        for s in np.unique(seg):
            where = np.flatnonzero(seg == s)
            shard, pos, start, _ = self.segments[s]
            rows = idx[where] - self._starts[s] + start
            out[where] = shard.frames[pos, rows]
        return out
