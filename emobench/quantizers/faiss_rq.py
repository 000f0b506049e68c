"""faiss' ResidualQuantizer as a peer baseline (extra ``faiss``: ``pip install 'emobench[faiss]'``).

faiss trains on an in-memory sample (``max_points_per_centroid * codebook_size`` frames drawn from
the FrameSource) and encodes with beam search (``max_beam_size``; 1 = greedy, like ResidualVQ).
faiss-cpu runs on the CPU whatever ``device`` says; the codebooks are then moved to ``device`` for
decoding. ``codebook_size`` must be a power of two (faiss stores ``nbits`` per stage).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from emobench.errors import require_extra
from emobench.frames import FrameSource
from emobench.quantizers.base import Progress, Quantizer, QuantizerError, check_finite, to_tensor
from emobench.quantizers.rvq import check_codes, sum_codewords

TRAIN_TYPES = ("default", "progressive_dim")


def _faiss():
    # faiss-cpu bundles its own libgomp; with the default active wait its idle threads spin and starve
    # torch's OpenMP threads (30x slower k-means seen on 2 cores). Passive wait must be set before load.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return require_extra("faiss", "faiss", "the faiss-rq quantizer")


class FaissResidualQuantizer(Quantizer):
    """faiss.ResidualQuantizer with ``n_stages`` x ``codebook_size`` codebooks."""

    def __init__(
        self,
        *,
        n_stages: int = 8,
        codebook_size: int = 256,
        max_beam_size: int = 1,
        train_type: str = "default",
        n_iter: int = 20,
        max_points_per_centroid: int = 256,
    ):
        nbits = int(np.log2(codebook_size)) if codebook_size > 1 else 0
        if codebook_size < 2 or 2**nbits != codebook_size:
            raise QuantizerError(f"faiss-rq needs a power-of-two codebook_size, got {codebook_size}")
        if train_type not in TRAIN_TYPES:
            raise QuantizerError(f"faiss-rq train_type must be one of {TRAIN_TYPES}, got {train_type!r}")
        super().__init__(
            n_stages=n_stages,
            codebook_size=codebook_size,
            max_beam_size=max_beam_size,
            train_type=train_type,
            n_iter=n_iter,
            max_points_per_centroid=max_points_per_centroid,
        )
        self.n_stages, self.codebook_size, self.nbits = int(n_stages), int(codebook_size), nbits
        self.codebooks: torch.Tensor | None = None  # [L, K, D]
        self._rq = None

    def _new_rq(self, dim: int):
        faiss = _faiss()
        rq = faiss.ResidualQuantizer(dim, self.n_stages, self.nbits)
        rq.max_beam_size = int(self.params["max_beam_size"])
        rq.train_type = (
            faiss.ResidualQuantizer.Train_default
            if self.params["train_type"] == "default"
            else faiss.ResidualQuantizer.Train_progressive_dim
        )
        rq.cp.niter = int(self.params["n_iter"])
        rq.cp.max_points_per_centroid = int(self.params["max_points_per_centroid"])
        return rq

    def _fit(
        self, source: FrameSource, *, device: torch.device, seed: int, progress: Progress | None
    ) -> None:
        n = self.codebook_size * int(self.params["max_points_per_centroid"])
        x = np.ascontiguousarray(source.sample(n, np.random.default_rng(seed)), dtype=np.float32)
        check_finite(torch.from_numpy(x), f"{self.name} training frames")
        if len(x) < self.codebook_size:
            raise QuantizerError(
                f"{self.name}: {len(x)} training frame(s) for {self.codebook_size} codewords; "
                "use more data or a smaller codebook_size"
            )
        rq = self._new_rq(x.shape[1])
        rq.cp.seed = int(seed)
        rq.train(x)
        faiss = _faiss()
        books = faiss.vector_to_array(rq.codebooks).reshape(self.n_stages, self.codebook_size, x.shape[1])
        self._rq = rq
        self.codebooks = torch.from_numpy(books.copy()).to(device)
        self.fit_info = {"n_train": len(x)}
        if progress:
            progress(f"{self.name}: trained", 1, 1)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        faiss = _faiss()
        packed = self._rq.compute_codes(np.ascontiguousarray(x.cpu().numpy(), dtype=np.float32))
        codes = faiss.unpack_bitstrings(packed, self.n_stages, self.nbits)  # [n, L]
        return torch.from_numpy(np.asarray(codes, dtype=np.int64)).to(x.device)

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        check_codes(codes, depth, self.codebook_size, self.name)
        return sum_codewords(self.codebooks, codes, depth)

    def _state(self) -> dict[str, torch.Tensor]:
        return {"codebooks": self.codebooks}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        faiss = _faiss()
        books = to_tensor(tensors["codebooks"], self.device)
        if tuple(books.shape[:2]) != (self.n_stages, self.codebook_size):
            raise QuantizerError(
                f"{self.name}: codebooks of shape {tuple(books.shape)} do not match the config"
            )
        rq = self._new_rq(int(books.shape[-1]))
        faiss.copy_array_to_vector(books.cpu().numpy().ravel(), rq.codebooks)
        rq.is_trained = True
        rq.compute_codebook_tables()  # cross products used by beam search with LUTs
        self._rq, self.codebooks = rq, books
