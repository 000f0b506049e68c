"""Residual vector quantization trained stage by stage with emobench's k-means (paper section 3.1).

r_0 = z, r_l = r_{l-1} - Q_l(r_{l-1}), z_hat = sum_l Q_l(r_{l-1}); each Q_l is a k-means codebook
of ``codebook_size`` entries fitted on the residuals left by the stages before it.

Training data: at most ``max(max_points_per_centroid * codebook_size, min_train_frames)`` frames
(the floor keeps tiny codebooks such as K=2 from training on a few hundred frames) are sampled once
from the FrameSource (only those rows are read) and their residuals are carried from stage to stage in
memory, as faiss does; encoding is always the exact greedy residual search over every frame.
``max_points_per_centroid=None`` trains on every frame instead, streaming the source through the
stages fitted so far at each Lloyd iteration (exact, no full load, O(L^2) passes).
"""

from __future__ import annotations

from typing import Annotated

import torch
from annotated_types import Ge

from emobench.frames import FrameSource
from emobench.quantizers.base import Progress, Quantizer, QuantizerError, check_finite, to_tensor
from emobench.quantizers.kmeans import assign, chunk_rows, kmeans


class ResidualVQ(Quantizer):
    """Greedy residual VQ with ``n_stages`` codebooks of ``codebook_size`` entries each."""

    def __init__(
        self,
        *,
        n_stages: Annotated[int, Ge(1)] = 8,
        codebook_size: Annotated[int, Ge(2)] = 256,
        max_points_per_centroid: Annotated[int, Ge(1)] | None = 256,
        n_iter: Annotated[int, Ge(1)] = 20,
        tol: Annotated[float, Ge(0)] = 1e-4,
        init_points_per_centroid: Annotated[int, Ge(1)] = 4,
        min_train_frames: Annotated[int, Ge(0)] = 16384,
    ):
        if n_stages < 1 or codebook_size < 2:
            raise QuantizerError(
                f"ResidualVQ needs n_stages >= 1 and codebook_size >= 2, got {n_stages} x {codebook_size}"
            )
        super().__init__(
            n_stages=n_stages,
            codebook_size=codebook_size,
            max_points_per_centroid=max_points_per_centroid,
            n_iter=n_iter,
            tol=tol,
            init_points_per_centroid=init_points_per_centroid,
            min_train_frames=min_train_frames,
        )
        self.n_stages, self.codebook_size = int(n_stages), int(codebook_size)
        self.codebooks: torch.Tensor | None = None  # [L, K, D]
        self._sqnorms: torch.Tensor | None = None  # [L, K]

    def _kmeans_kwargs(self) -> dict:
        p = self.params
        return {
            "n_iter": p["n_iter"],
            "tol": p["tol"],
            "init_points_per_centroid": p["init_points_per_centroid"],
        }

    def _fit(
        self, source: FrameSource, *, device: torch.device, seed: int, progress: Progress | None
    ) -> None:
        L, K, mppc = self.n_stages, self.codebook_size, self.params["max_points_per_centroid"]
        books = torch.empty(L, K, source.dim, device=device)
        residual = None
        if mppc is not None:
            import numpy as np

            budget = train_budget(K, mppc, self.params["min_train_frames"])
            residual = to_tensor(source.sample(budget, np.random.default_rng(seed)), device)  # [n, D]
            check_finite(residual, f"{self.name} training frames")
        from emobench.device import threads_for

        rows = len(residual) if residual is not None else min(source.n_frames, 65536)
        with threads_for(rows * K * source.dim, device):
            self._fit_stages(source, books, residual, device=device, seed=seed, progress=progress)

    def _fit_stages(self, source, books, residual, *, device, seed, progress) -> None:
        L, K, mppc = self.n_stages, self.codebook_size, self.params["max_points_per_centroid"]
        stats = []
        for stage in range(L):
            what = f"{self.name} stage {stage + 1}/{L}"
            if mppc is not None:
                res = kmeans(
                    residual,
                    K,
                    max_points_per_centroid=None,
                    device=device,
                    seed=seed + 7919 * stage,
                    progress=progress,
                    what=what,
                    **self._kmeans_kwargs(),
                )
                books[stage] = res.centroids
                self._subtract_nearest(residual, res.centroids)
            else:
                done = books[:stage]
                res = kmeans(
                    source,
                    K,
                    max_points_per_centroid=None,
                    device=device,
                    seed=seed + 7919 * stage,
                    transform=lambda x, done=done: self._residual(x, done),
                    progress=progress,
                    what=what,
                    **self._kmeans_kwargs(),
                )
                books[stage] = res.centroids
            stats.append(
                {
                    "inertia": res.inertia,
                    "n_iter": res.n_iter,
                    "n_dead": res.n_dead,
                    "n_reseeded": res.n_reseeded,
                    "n_train": res.n_train,
                }
            )
            if progress:
                progress(f"{self.name}: stages", stage + 1, L)
        self._set_codebooks(books)
        self.fit_info = {"stages": stats}

    @staticmethod
    def _subtract_nearest(residual: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
        """residual -= Q(residual), in place, chunk by chunk (no [n, D] temporary)."""
        sq = (centroids * centroids).sum(1)
        for rc in residual.split(chunk_rows(len(centroids), residual.shape[1])):
            rc.sub_(centroids.index_select(0, assign(rc, centroids, sq)))
        return residual

    def _residual(self, x: torch.Tensor, books: torch.Tensor) -> torch.Tensor:
        r = x.clone()
        for c in books:
            self._subtract_nearest(r, c)
        return r

    def _set_codebooks(self, books: torch.Tensor) -> None:
        self.codebooks = books.float().contiguous()
        self._sqnorms = (self.codebooks * self.codebooks).sum(-1)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        from emobench.device import threads_for

        with threads_for(len(x) * self.codebook_size * x.shape[1], x.device):
            return self._greedy_codes(x)

    def _greedy_codes(self, x: torch.Tensor) -> torch.Tensor:
        r = x.clone()
        codes = torch.empty(self.n_stages, len(x), dtype=torch.long, device=x.device)  # [L, n]: rows, not columns
        for stage, book in enumerate(self.codebooks):
            codes[stage] = assign(r, book, self._sqnorms[stage])
            r.sub_(book.index_select(0, codes[stage]))  # index_select: ~6x faster than book[idx] on CPU
        return codes.t()

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        check_codes(codes, depth, self.codebook_size, self.name)
        return sum_codewords(self.codebooks, codes, depth)

    def decode_prefixes(self, codes, depths):
        """Incremental prefix decoding: depth d adds stage d's codewords to depth d-1's sum."""
        yield from prefix_sums(self, self.codebooks, codes, depths)

    def state_bytes(self, dim: int) -> int:
        mppc = self.params["max_points_per_centroid"]
        train = train_budget(self.codebook_size, mppc, self.params["min_train_frames"]) if mppc else 0
        return 4 * dim * (self.n_stages * self.codebook_size + train)

    def _state(self) -> dict[str, torch.Tensor]:
        return {"codebooks": self.codebooks}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        books = tensors["codebooks"]
        if tuple(books.shape[:2]) != (self.n_stages, self.codebook_size):
            raise QuantizerError(
                f"{self.name}: codebooks of shape {tuple(books.shape)} do not match "
                f"{self.n_stages} stages x {self.codebook_size} codewords"
            )
        self._set_codebooks(books)


def train_budget(codebook_size: int, max_points_per_centroid: int, min_train_frames: int = 16384) -> int:
    """How many frames a sampled codebook trains on."""
    return max(codebook_size * max_points_per_centroid, min_train_frames)


def check_codes(
    codes: torch.Tensor, depth: int, codebook_size: int, who: str, width: int | None = None
) -> None:
    need = depth if width is None else width
    if codes.shape[1] < need:
        raise QuantizerError(
            f"{who}.decode: codes have {codes.shape[1]} column(s), depth {depth} needs {need}"
        )
    if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= codebook_size):
        raise QuantizerError(
            f"{who}.decode: codes outside 0..{codebook_size - 1}; were they made by another codebook?"
        )


def sum_codewords(codebooks: torch.Tensor, codes: torch.Tensor, depth: int) -> torch.Tensor:
    """Residual decoding: sum of the chosen codewords of the first ``depth`` stages.
    codebooks [L, K, D], codes [n, >=depth] -> [n, D]."""
    out = torch.zeros(len(codes), codebooks.shape[-1], device=codebooks.device)
    by_stage = codes[:, :depth].t().contiguous()  # [depth, n]
    for stage in range(depth):
        out += codebooks[stage].index_select(0, by_stage[stage])
    return out


def prefix_sums(quantizer, codebooks: torch.Tensor, codes, depths):
    """``(depth, sum of the first depth stages' codewords)`` for sorted ``depths``; codebooks [L, K, D].
    Each yielded tensor is the caller's (the next depth starts from a new one): no clone per depth."""
    c = codes if isinstance(codes, torch.Tensor) else torch.as_tensor(codes)
    c = c.to(codebooks.device).long()
    wanted = sorted({quantizer.check_depth(d) for d in depths})
    check_codes(c, wanted[-1] if wanted else 1, codebooks.shape[1], quantizer.name)
    by_stage = c[:, : wanted[-1]].t().contiguous() if wanted else c.t()  # [depth, n]
    out = torch.zeros(len(c), codebooks.shape[-1], device=codebooks.device)
    done, yielded = 0, False
    for d in wanted:
        for stage in range(done, d):
            part = codebooks[stage].index_select(0, by_stage[stage])
            out = out + part if yielded else out.add_(part)  # never write into a tensor already handed out
            yielded = False
        done = d
        yield d, out
        yielded = True


def rvq_from_params(n_stages: int, codebook_size: int, params: dict) -> ResidualVQ:
    """A ResidualVQ with the training settings of a composite quantizer (Emo-Q's per-emotion books,
    grouped RVQ's per-group books), so every inner codebook trains the same way."""
    return ResidualVQ(
        n_stages=n_stages, codebook_size=codebook_size, max_points_per_centroid=params["max_points_per_centroid"],
        n_iter=params["n_iter"], tol=params["tol"],
    )
