"""The one k-means in emobench: every quantizer that clusters calls ``kmeans`` and ``nearest`` (or ``assign``,
its argmin without distances, for encoding).

* greedy k-means++ initialisation (scikit-learn's) on a subsample of ``init_points_per_centroid * K``
  points (a subsample keeps its K sequential passes cheap next to Lloyd's matmuls);
* Lloyd iterations whose distances are batched matmuls ``|x|^2 - 2 x C^T + |c|^2`` over row chunks
  (16 MiB score blocks, cache-sized), so memory stays ``O(chunk * K)`` whatever the number of frames; sums
  and counts in fp32; two host syncs per iteration (the inertia for the stopping test; any empty codeword?);
* at most ``max_points_per_centroid * K`` training points, drawn with ``FrameSource.sample`` (only
  the sampled rows are read); ``max_points_per_centroid=None`` streams every frame through
  ``FrameSource.iter_chunks`` at each iteration instead (no full load);
* empty codewords re-seeded by splitting the largest clusters (a symmetric nudge along a random
  direction, scaled by that cluster's spread), as faiss does;
* any torch device via ``device`` (``emobench.device.generator`` seeds it); seeded (torch.Generator +
  numpy Generator), reproducible run to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from emobench.device import generator, one_cpu_thread, threads_for
from emobench.frames import FrameSource, as_frame_source
from emobench.quantizers.base import Progress, QuantizerError, as_progress, check_finite, to_tensor

_ELEMS_PER_CHUNK = 1 << 22  # distance block of chunk x K fp32 values: 16 MiB, cache-sized (rows are scored
# independently: the block size changes speed, never results)
_GRAM_MAX = 8192  # k-means++ subsample size up to which a [m, m] Gram matrix (256 MiB) is used


@dataclass
class KMeansResult:
    centroids: torch.Tensor  # [K, D] fp32
    counts: torch.Tensor  # [K] training points per centroid at the last assignment
    inertia: float  # mean squared distance to the nearest centroid, last assignment
    n_iter: int
    n_train: int
    n_dead: int  # codewords with no training point at the last assignment
    n_reseeded: int  # re-seeds (cluster splits) done during training


def chunk_rows(k: int, d: int) -> int:
    return int(min(65536, max(1024, _ELEMS_PER_CHUNK // max(k, d))))


def nearest(
    x: torch.Tensor,
    centroids: torch.Tensor,
    c_sqnorm: torch.Tensor | None = None,
    chunk: int | None = None,
    x_sqnorm: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index ``[n]`` int64 and squared distance ``[n]`` of each row's nearest centroid.

    ``x_sqnorm`` ([n], optional) saves recomputing |x|^2 when the same rows are assigned repeatedly."""
    if c_sqnorm is None:
        c_sqnorm = (centroids * centroids).sum(1)
    chunk = chunk or chunk_rows(len(centroids), x.shape[1])
    if x_sqnorm is None:
        x_sqnorm = _cat([(xc * xc).sum(1) for xc in x.split(chunk)]) if len(x) else x.new_zeros(0)
    if not len(x):
        return x.new_zeros(0, dtype=torch.long), x.new_zeros(0)
    idx, dist = [], []
    ct = centroids.t()
    for xc, xn in zip(x.split(chunk), x_sqnorm.split(chunk)):
        m, i = _scores(xc, ct, c_sqnorm).min(dim=1)
        idx.append(i)
        dist.append(m.add_(xn).clamp_min_(0.0))
    return _cat(idx), _cat(dist)


def assign(x: torch.Tensor, centroids: torch.Tensor, c_sqnorm: torch.Tensor | None = None,
           chunk: int | None = None) -> torch.Tensor:
    """Index ``[n]`` of each row's nearest centroid: ``nearest`` without the distances (no |x|^2 pass),
    for encoding, where only the argmin is needed. Same scores, so the same indices as ``nearest``."""
    if c_sqnorm is None:
        c_sqnorm = (centroids * centroids).sum(1)
    if not len(x):
        return x.new_zeros(0, dtype=torch.long)
    chunk = chunk or chunk_rows(len(centroids), x.shape[1])
    ct = centroids.t()
    return _cat([_scores(xc, ct, c_sqnorm).min(dim=1)[1] for xc in x.split(chunk)])


def _scores(xc: torch.Tensor, ct: torch.Tensor, c_sqnorm: torch.Tensor) -> torch.Tensor:
    return torch.addmm(c_sqnorm, xc, ct, beta=1.0, alpha=-2.0)  # [chunk, K] = |c|^2 - 2 x.c


def _cat(parts: list[torch.Tensor]) -> torch.Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts)  # one chunk (tiny K, the usual case): no copy


class _Data:
    """Training rows as fp32 device chunks: an in-memory tensor, or a streamed FrameSource."""

    def __init__(self, tensor: torch.Tensor | None, source: FrameSource | None, transform, device, chunk):
        self.tensor, self.source, self.transform, self.device, self.chunk = (
            tensor,
            source,
            transform,
            device,
            chunk,
        )
        self.n = len(tensor) if tensor is not None else source.n_frames
        self.sqnorm: torch.Tensor | None = None

    def chunks(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(rows [c, D], |rows|^2 [c])`` chunks; in memory, the norms are computed once."""
        if self.tensor is not None:
            if self.sqnorm is None:
                self.sqnorm = _cat([(xc * xc).sum(1) for xc in self.tensor.split(self.chunk)])
            yield from zip(self.tensor.split(self.chunk), self.sqnorm.split(self.chunk))
            return
        for block in self.source.iter_chunks(self.chunk):
            x = to_tensor(block, self.device)
            check_finite(x, "k-means training frames")
            x = self.transform(x) if self.transform else x
            yield x, (x * x).sum(1)

    def sample(self, m: int, seed: int, gen: torch.Generator) -> torch.Tensor:
        if self.tensor is not None:
            if m >= self.n:
                return self.tensor
            return self.tensor[torch.randperm(self.n, generator=gen, device=gen.device)[:m].to(self.device)]
        x = to_tensor(self.source.sample(m, np.random.default_rng(seed)), self.device)
        check_finite(x, "k-means training frames")
        return self.transform(x) if self.transform else x


def kmeans(
    frames,
    k: int,
    *,
    n_iter: int = 20,
    max_points_per_centroid: int | None = 256,
    init_points_per_centroid: int = 4,
    tol: float = 1e-4,
    device: str | torch.device = "cpu",
    seed: int = 0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    progress: Progress | None = None,
    what: str = "k-means",
) -> KMeansResult:
    """Cluster ``frames`` ([n, D] array/tensor or FrameSource) into ``k`` centroids.

    ``transform`` (streaming only) maps each raw chunk to the rows to cluster, e.g. residuals.
    """
    device = torch.device(device)
    progress = as_progress(progress)
    gen = generator(device, seed)
    if not isinstance(frames, torch.Tensor):
        frames = as_frame_source(frames)  # numpy (memmaps too): only sampled rows are read
    n = len(frames) if isinstance(frames, torch.Tensor) else frames.n_frames
    dim = frames.shape[1] if isinstance(frames, torch.Tensor) else frames.dim
    if n < k:
        raise QuantizerError(
            f"{what}: {n} training frame(s) for {k} codewords; use more data or a smaller codebook_size"
        )
    chunk = chunk_rows(k, dim)
    budget = n if max_points_per_centroid is None else min(n, k * max_points_per_centroid)
    if isinstance(frames, torch.Tensor):
        x = frames.to(device=device, dtype=torch.float32)
        check_finite(x, f"{what} training frames")
        data = _Data(x, None, None, device, chunk)
        if budget < n:
            data = _Data(data.sample(budget, seed, gen), None, None, device, chunk)
    elif budget < n or n <= chunk:  # sampled (or small): hold the training rows in memory
        data = _Data(None, frames, transform, device, chunk)
        data = _Data(data.sample(budget, seed, gen), None, None, device, chunk)
    else:  # every frame, streamed each iteration
        data = _Data(None, frames, transform, device, chunk)

    centroids = _kmeans_pp(
        data.sample(min(data.n, max(init_points_per_centroid * k, 256)), seed + 1, gen), k, gen
    )
    with threads_for(min(data.n, chunk) * k * dim, device):
        return _lloyd(data, centroids, k, n_iter=n_iter, tol=tol, chunk=chunk, gen=gen, progress=progress, what=what)


def _lloyd(data: _Data, centroids: torch.Tensor, k: int, *, n_iter: int, tol: float, chunk: int,
           gen: torch.Generator, progress, what: str) -> KMeansResult:
    """Lloyd iterations from ``centroids`` until the inertia stops improving by ``tol`` (relative)."""
    device = centroids.device
    counts = torch.zeros(k, device=device)
    prev, inertia, n_reseeded, it = None, float("nan"), 0, 0
    for it in range(1, n_iter + 1):
        c_sqnorm = (centroids * centroids).sum(1)
        sums = torch.zeros_like(centroids)
        counts = torch.zeros(k, device=device)
        sse = torch.zeros(k, device=device)
        for xc, xn in data.chunks():
            idx, d2 = nearest(xc, centroids, c_sqnorm, chunk, x_sqnorm=xn)
            sums.index_add_(0, idx, xc)
            counts.index_add_(0, idx, torch.ones_like(d2))
            sse.index_add_(0, idx, d2)
        inertia = float(sse.sum()) / data.n  # host sync: the stopping test needs the value
        alive = counts > 0
        centroids = torch.where(alive[:, None], sums / counts.clamp_min(1)[:, None], centroids)
        if progress:
            progress(f"{what}: Lloyd", it, n_iter)
        converged = prev is not None and prev - inertia <= tol * max(prev, 1e-30)
        if it < n_iter and not bool(alive.all()):
            n_reseeded += _split_largest(centroids, counts, sse, gen)
            converged = False
        if converged:
            break
        prev = inertia
    n_dead = int((counts == 0).sum())
    return KMeansResult(centroids, counts.long(), inertia, it, data.n, n_dead, n_reseeded)


def _kmeans_pp(x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """Greedy k-means++ on ``x`` [m, D], as scikit-learn: each step draws 2 + log(k) candidates by
    D^2 sampling and keeps the one that lowers the potential most. Distances come from one Gram
    matrix [m, m] (m <= 8192), so the k sequential steps are cheap gathers, not passes over x."""
    m = len(x)
    n_trials = 2 + int(np.log(k))
    xn = (x * x).sum(1)
    gram = x @ x.t() if m <= _GRAM_MAX else None  # [m, m]

    def dist_from(idx: torch.Tensor) -> torch.Tensor:  # [t, m] squared distances from rows idx to all
        dots = gram[idx] if gram is not None else x[idx] @ x.t()  # gram is symmetric: rows are contiguous
        return dots.mul_(-2).add_(xn).add_(xn[idx][:, None]).clamp_min_(0)

    picks = torch.empty(k, dtype=torch.long, device=x.device)
    picks[0] = torch.randint(m, (1,), generator=gen, device=gen.device)[0]
    d2 = dist_from(picks[:1])[0]
    with one_cpu_thread(x.device):
        for j in range(1, k):
            weights = d2 if float(d2.sum()) > 0 else torch.ones_like(d2)
            cand = torch.multinomial(weights, n_trials, replacement=True, generator=gen)  # [t]
            dc = torch.minimum(dist_from(cand), d2)  # [t, m]
            best = torch.argmin(dc.sum(1))
            picks[j] = cand[best]
            d2 = dc[best]
    return x[picks].clone()


def _split_largest(
    centroids: torch.Tensor, counts: torch.Tensor, sse: torch.Tensor, gen: torch.Generator
) -> int:
    """Re-seed each empty codeword by splitting the currently largest cluster in two (in place)."""
    dead = torch.nonzero(counts == 0).flatten().tolist()
    counts, sse = counts.clone(), sse.clone()
    dim = centroids.shape[1]
    done = 0
    for j in dead:
        i = int(torch.argmax(counts))
        if counts[i] < 2:  # fewer distinct points than codewords: nothing left to split
            break
        spread = float(torch.sqrt(sse[i] / counts[i] / dim))
        scale = spread if spread > 0 else 1e-6 * (float(centroids[i].abs().mean()) + 1e-12)
        delta = torch.randn(dim, generator=gen, device=gen.device).to(centroids.device) * (0.5 * scale)
        centroids[j] = centroids[i] + delta
        centroids[i] -= delta
        counts[i] /= 2
        counts[j] = counts[i]
        sse[i] /= 2
        sse[j] = sse[i]
        done += 1
    return done
