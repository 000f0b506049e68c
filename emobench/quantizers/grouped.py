"""Grouped residual VQ: the feature dimension split into G contiguous groups, each with its own RVQ.

E.g. 12 groups x 3 stages x 128 codes on 768-dim emotion2vec features, as in the thesis code that
preceded the Emo-Q paper. Codes are ``[n, n_stages * n_groups]`` in stage-major order (column
``stage * n_groups + group``), so the first ``depth * n_groups`` columns are the depth-``depth`` prefix.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from emobench.frames import FrameSource
from emobench.quantizers.base import Progress, Quantizer, QuantizerError
from emobench.quantizers.rvq import ResidualVQ, check_codes, rvq_from_params, train_budget


class _Columns:
    """A FrameSource view of columns [lo, hi) of another FrameSource (streams, never loads all)."""

    def __init__(self, source: FrameSource, lo: int, hi: int):
        self.source, self.lo, self.hi = source, lo, hi
        self.n_frames, self.dim = source.n_frames, hi - lo

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        for block in self.source.iter_chunks(chunk_size):
            yield np.ascontiguousarray(block[:, self.lo : self.hi])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.ascontiguousarray(self.source.sample(n, rng)[:, self.lo : self.hi])


def group_bounds(dim: int, n_groups: int) -> list[tuple[int, int]]:
    if not 1 <= n_groups <= dim:
        raise QuantizerError(f"GroupedResidualVQ: n_groups={n_groups} must be in 1..dim ({dim})")
    edges = np.linspace(0, dim, n_groups + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


class GroupedResidualVQ(Quantizer):
    """``n_groups`` independent ResidualVQs, one per slice of the feature dimension."""

    def __init__(
        self,
        *,
        n_groups: int = 12,
        n_stages: int = 3,
        codebook_size: int = 128,
        max_points_per_centroid: int | None = 256,
        n_iter: int = 20,
        tol: float = 1e-4,
    ):
        super().__init__(
            n_groups=n_groups,
            n_stages=n_stages,
            codebook_size=codebook_size,
            max_points_per_centroid=max_points_per_centroid,
            n_iter=n_iter,
            tol=tol,
        )
        self.n_stages, self.codebook_size, self.codes_per_stage = (
            int(n_stages),
            int(codebook_size),
            int(n_groups),
        )
        self.groups: list[ResidualVQ] = []
        self.bounds: list[tuple[int, int]] = []

    def _new_group(self) -> ResidualVQ:
        return rvq_from_params(self.n_stages, self.codebook_size, self.params)

    def _fit(
        self, source: FrameSource, *, device: torch.device, seed: int, progress: Progress | None
    ) -> None:
        self.bounds = group_bounds(source.dim, self.codes_per_stage)
        mppc = self.params["max_points_per_centroid"]
        if mppc is not None:  # one sample of rows shared by every group: the source is read once
            rows = source.sample(train_budget(self.codebook_size, mppc), np.random.default_rng(seed))
        self.groups = []
        for g, (lo, hi) in enumerate(self.bounds):
            part = np.ascontiguousarray(rows[:, lo:hi]) if mppc is not None else _Columns(source, lo, hi)
            self.groups.append(self._new_group().fit(part, device=str(device), seed=seed + 101 * g))
            if progress:
                progress("GroupedResidualVQ: groups", g + 1, len(self.bounds))
        self.fit_info = {"groups": [q.fit_info for q in self.groups]}

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        per_group = [q._encode(x[:, lo:hi]) for q, (lo, hi) in zip(self.groups, self.bounds)]  # G x [n, L]
        return torch.stack(per_group, 2).reshape(len(x), -1)  # [n, L, G] -> stage-major [n, L * G]

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        G = self.codes_per_stage
        check_codes(codes, depth, self.codebook_size, "GroupedResidualVQ", width=depth * G)
        per_stage = codes[:, : depth * G].reshape(len(codes), depth, G)
        parts = [q._decode(per_stage[:, :, g], depth) for g, q in enumerate(self.groups)]
        return torch.cat(parts, 1)

    def _state(self) -> dict[str, torch.Tensor]:
        return {f"codebooks.{g}": q.codebooks for g, q in enumerate(self.groups)}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.groups, self.bounds, lo = [], [], 0
        for g in range(self.codes_per_stage):
            books = tensors[f"codebooks.{g}"]
            q = self._new_group()
            q._load_state({"codebooks": books})
            q.dim, q.device = int(books.shape[-1]), self.device
            self.groups.append(q)
            self.bounds.append((lo, lo + q.dim))
            lo += q.dim
        if self.dim is not None and lo != self.dim:
            raise QuantizerError(
                f"GroupedResidualVQ: group codebooks cover {lo} dims, config says {self.dim}"
            )

    def to(self, device: str | torch.device) -> GroupedResidualVQ:
        self.device = torch.device(device)
        for q in self.groups:
            q.to(device)
        return self
