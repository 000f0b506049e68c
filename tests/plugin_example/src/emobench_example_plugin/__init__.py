"""Example emobench quantizer plugin (see README.md): a random-projection scalar quantizer."""

from __future__ import annotations

import numpy as np
import torch

from emobench.quantizers.base import Quantizer, QuantizerError

__all__ = ["RandomProjectionSQ"]


class RandomProjectionSQ(Quantizer):
    """Project onto ``n_stages`` random orthonormal directions; quantize each to ``codebook_size`` levels."""

    def __init__(self, *, n_stages: int = 8, codebook_size: int = 16, sample_frames: int = 20000):
        if codebook_size < 2:
            raise QuantizerError(f"RandomProjectionSQ needs codebook_size >= 2, got {codebook_size}")
        super().__init__(n_stages=n_stages, codebook_size=codebook_size, sample_frames=sample_frames)
        self.n_stages, self.codebook_size = int(n_stages), int(codebook_size)

    def _fit(self, source, *, device, seed, progress):
        if self.n_stages > source.dim:
            raise QuantizerError(
                f"RandomProjectionSQ: n_stages={self.n_stages} exceeds the feature dim {source.dim}"
            )
        x = torch.as_tensor(
            source.sample(self.params["sample_frames"], np.random.default_rng(seed)), device=device
        )
        gen = torch.Generator().manual_seed(seed)
        basis, _ = torch.linalg.qr(
            torch.randn(source.dim, self.n_stages, generator=gen)
        )  # [D, L] orthonormal
        mean = x.mean(0)
        proj = (x - mean) @ basis.to(device)  # [n, L]
        self._load_state({"mean": mean, "basis": basis, "lo": proj.min(0).values, "hi": proj.max(0).values})
        if progress:
            progress("RandomProjectionSQ: fit", 1, 1)

    def _encode(self, x):
        proj = (x - self.mean) @ self.basis  # [n, L]
        step = (self.hi - self.lo).clamp_min(1e-12) / (self.codebook_size - 1)
        return ((proj - self.lo) / step).round().clamp(0, self.codebook_size - 1).long()

    def _decode(self, codes, depth):
        step = (self.hi - self.lo).clamp_min(1e-12) / (self.codebook_size - 1)
        values = self.lo[:depth] + codes[:, :depth].float() * step[:depth]  # [n, depth]
        return self.mean + values @ self.basis[:, :depth].t()

    def _state(self):
        return {"mean": self.mean, "basis": self.basis, "lo": self.lo, "hi": self.hi}

    def _load_state(self, tensors):
        dev = self.device
        self.mean, self.basis, self.lo, self.hi = (
            tensors[k].float().to(dev) for k in ("mean", "basis", "lo", "hi")
        )
