"""HYFuse (Phukan et al., section 3.1) and its Concat baseline: two pooled representations, one classifier.

Inputs are an RLR (e.g. WavLM, x-vector) and a CBR (a codec's encoder output), each utterance-pooled.
Each goes through the paper's 1D-CNN branch (``emobench.probes.cnn.ConvBranch``) and is flattened; then

  * HYFuse: ``x1 = exp_0(rlr)``, ``y1 = exp_0(cbr)``, ``y = x1 (+) y1`` (Möbius addition), ``log_0(y)``;
  * Concat: ``[rlr, cbr]``;

and the paper's FCN block (dense 128, dropout, softmax output) classifies the result. Möbius addition
needs equal widths, which two branches of different input sizes do not have and the paper does not
reconcile: the narrower flattened branch is zero-padded to the wider one (the lower-dimensional ball
sits isometrically inside the higher one). That reproduces the paper's "8 to 13 million" trainable
parameters for its RLR + CBR pairs (e.g. 768-d wav2vec 2.0 + 375-d EnCodec: 12.6 M).

``kappa`` (eq. 1's curvature): the paper gives no value. Flattened branches hold ~10^5 ReLU outputs,
whose norm drives ``tanh(kappa ||x||)`` to 1 at ``kappa = 1``; on the boundary ``1 - ||x1||^2 = 0`` and
Möbius addition returns ``x1`` whatever ``y1`` is, so the CBR is erased (see the known-outcome test).
``kappa="auto"`` (the default) is ``1 / sqrt(width)``, which maps a vector of unit-size entries to radius
``tanh(1) = 0.76``; any positive float is accepted.

Both probes take ``X = [N, D_rlr + D_cbr]`` (the two pooled vectors side by side; ``rlr_dim`` says where
to split), or a pair ``(X_rlr, X_cbr)`` anywhere a feature matrix is expected (fit, validation, predict).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from emobench.probes.base import ProbeError
from emobench.probes.cnn import ConvBranch, PaperProbe, fcn_block
from emobench.probes.hyperbolic import poincare_fuse


class FusionNet(nn.Module):
    """``[B, D_rlr + D_cbr] -> [B, C]`` logits; ``mode`` is ``"hyperbolic"`` (HYFuse) or ``"concat"``."""

    def __init__(self, *, rlr_dim: int, cbr_dim: int, n_classes: int, mode: str = "hyperbolic",
                 kappa: float | Literal["auto"] = "auto", hidden: int = 128, dropout: float = 0.3,
                 filters: tuple[int, ...] = (64, 128), kernel_size: int = 3):
        super().__init__()
        if mode not in ("hyperbolic", "concat"):
            raise ProbeError(f"fusion mode must be 'hyperbolic' or 'concat', got {mode!r}")
        self.rlr_dim, self.mode = int(rlr_dim), mode
        self.rlr = ConvBranch(rlr_dim, filters=filters, kernel_size=kernel_size)
        self.cbr = ConvBranch(cbr_dim, filters=filters, kernel_size=kernel_size)
        self.width = (max(self.rlr.out_dim, self.cbr.out_dim) if mode == "hyperbolic"
                      else self.rlr.out_dim + self.cbr.out_dim)
        self.kappa = resolve_kappa(kappa, self.width)
        self.head = fcn_block(self.width, hidden, n_classes, dropout)

    def fuse(self, x: torch.Tensor) -> torch.Tensor:  # [B, D_rlr + D_cbr] -> [B, width]
        a, b = self.rlr(x[:, : self.rlr_dim]), self.cbr(x[:, self.rlr_dim :])
        if self.mode == "concat":
            return torch.cat([a, b], dim=1)
        a = nn.functional.pad(a, (0, self.width - a.shape[1]))
        b = nn.functional.pad(b, (0, self.width - b.shape[1]))
        return poincare_fuse(a, b, self.kappa)  # log_0(exp_0(a) (+) exp_0(b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.fuse(x))


def resolve_kappa(kappa: float | str, width: int) -> float:
    if kappa == "auto":
        return 1.0 / math.sqrt(width)
    try:
        value = float(kappa)
    except (TypeError, ValueError):
        raise ProbeError(f"kappa must be a positive number or 'auto', got {kappa!r}") from None
    if not value > 0:
        raise ProbeError(f"kappa must be > 0 (the Poincaré ball's curvature), got {kappa!r}")
    return value


class FusionProbe(PaperProbe):
    """Shared by HYFuse and Concat: pairs of inputs, the split point, the fusion network."""

    mode: ClassVar[str] = "hyperbolic"

    def __init__(self, *, rlr_dim: int | None = None, kappa: float | Literal["auto"] = "auto", hidden: int = 128,
                 dropout: float = 0.3, filters: tuple[int, ...] = (64, 128), kernel_size: int = 3, **train: Any):
        super().__init__(hidden=hidden, dropout=dropout, filters=filters, kernel_size=kernel_size, **train)
        self.rlr_dim = None if rlr_dim is None else int(rlr_dim)
        self.kappa = kappa
        resolve_kappa(kappa, 1)  # fail on a bad value now, not after feature extraction

    def arch_params(self) -> dict[str, Any]:
        return {**super().arch_params(), "rlr_dim": self.rlr_dim, "kappa": self.kappa}

    def _check_X(self, X, where: str) -> np.ndarray:
        if isinstance(X, (tuple, list)) and len(X) == 2:
            rlr, cbr = (np.asarray(part, dtype=np.float32) for part in X)
            if rlr.ndim != 2 or cbr.ndim != 2 or len(rlr) != len(cbr):
                raise ProbeError(f"{type(self).__name__}.{where}: the pair must be [N, D_rlr] and [N, D_cbr] with "
                                 f"equal N, got shapes {rlr.shape} and {cbr.shape}")
            if self.rlr_dim is None:
                self.rlr_dim = rlr.shape[1]
            elif rlr.shape[1] != self.rlr_dim:
                raise ProbeError(f"{type(self).__name__}.{where}: the RLR input is {rlr.shape[1]}-d but the probe "
                                 f"splits at rlr_dim={self.rlr_dim}; pass the RLR first, then the CBR")
            X = np.concatenate([rlr, cbr], axis=1)
        return super()._check_X(X, where)

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        total = input_shape[0]
        if self.rlr_dim is None or not 0 < self.rlr_dim < total:
            raise ProbeError(
                f"{type(self).__name__}: needs two inputs; pass (X_rlr, X_cbr) or set rlr_dim to the RLR's width "
                f"(features are {total}-d, rlr_dim={self.rlr_dim})"
            )
        return FusionNet(rlr_dim=self.rlr_dim, cbr_dim=total - self.rlr_dim, n_classes=n_classes, mode=self.mode,
                         kappa=self.kappa, hidden=self.hidden, dropout=self.dropout, filters=self.filters,
                         kernel_size=self.kernel_size)


class HYFuseProbe(FusionProbe):
    """HYFuse: RLR and CBR branches fused by Möbius addition in the Poincaré ball."""

    registry_name: ClassVar[str] = "hyfuse"
    mode: ClassVar[str] = "hyperbolic"


class ConcatFusionProbe(FusionProbe):
    """The paper's Concat baseline: the same branches and head, fused by concatenation."""

    registry_name: ClassVar[str] = "concat-fusion"
    mode: ClassVar[str] = "concat"


def n_parameters(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))
