"""FrameSource: how frames reach a quantizer without loading them all into RAM.

Quantizers accept either an array ``[n_frames, dim]`` or any object with this protocol; the feature
cache implements it by streaming its memory-mapped shards, ``ArrayFrameSource`` wraps an array.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FrameSource(Protocol):
    n_frames: int
    dim: int

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        """Yield consecutive ``[<=chunk_size, dim]`` float arrays covering every frame once, in order."""
        ...

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``[min(n, n_frames), dim]`` frames drawn uniformly without replacement."""
        ...


class ArrayFrameSource:
    """A FrameSource over an in-memory (or memory-mapped) array."""

    def __init__(self, frames: np.ndarray):
        frames = np.asarray(frames)
        if frames.ndim != 2:
            raise ValueError(f"frames must be [n_frames, dim], got shape {frames.shape}")
        self.frames = frames
        self.n_frames, self.dim = frames.shape

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        for start in range(0, self.n_frames, chunk_size):
            yield np.asarray(self.frames[start : start + chunk_size], dtype=np.float32)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = min(n, self.n_frames)
        idx = np.sort(rng.choice(self.n_frames, size=n, replace=False))
        return np.asarray(self.frames[idx], dtype=np.float32)


def as_frame_source(frames) -> FrameSource:
    """Accept an array, a torch tensor or a FrameSource."""
    if isinstance(frames, FrameSource):
        return frames
    if hasattr(frames, "detach"):  # torch tensor
        frames = frames.detach().cpu().numpy()
    return ArrayFrameSource(np.asarray(frames))


class BalancedFrameSource:
    """Several FrameSources (one per emotion) seen as one, whose ``sample`` draws the same number of frames
    from each: a balanced composition balances utterances, and this keeps a codebook's frame budget balanced
    too when one emotion's utterances are longer. ``iter_chunks`` streams every frame of every group."""

    def __init__(self, groups: dict[str, FrameSource]):
        self.groups = {k: v for k, v in groups.items() if v.n_frames}
        dims = {g.dim for g in self.groups.values()}
        if len(dims) != 1:
            raise ValueError(f"groups disagree on dim: {sorted(dims)}")
        self.dim = dims.pop()
        self.n_frames = sum(g.n_frames for g in self.groups.values())

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        for g in self.groups.values():
            yield from g.iter_chunks(chunk_size)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if n >= self.n_frames:
            return np.concatenate([g.sample(g.n_frames, rng) for g in self.groups.values()])
        per = n // len(self.groups)
        # a group with fewer frames than its share gives all it has; the others make up the difference
        quota = {k: min(per, g.n_frames) for k, g in self.groups.items()}
        spare = n - sum(quota.values())
        for k in sorted(self.groups, key=lambda k: -self.groups[k].n_frames):
            extra = min(spare, self.groups[k].n_frames - quota[k])
            quota[k] += extra
            spare -= extra
        return np.concatenate([self.groups[k].sample(q, rng) for k, q in quota.items() if q])
