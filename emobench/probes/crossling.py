"""The three downstream classifiers of the cross-lingual probing paper (D'Asaro et al., CLiC-it 2024,
section 3, Figure 1), on frames.

* Linear (eq. 2): ``phi(rho(l1(h_1..h_T)))``: a frame-shared projection ``l1: R^d -> R^m``, average
  pooling ``rho`` over the utterance's frames, a linear classification layer ``phi: R^m -> R^k``.
* Non-Linear (eq. 3): ``phi(ReLU(l2(rho(l1(l(x))))))``: two frame-shared blocks ``l`` of linear + ReLU +
  dropout, then ``l1``, average pooling, ``l2`` + ReLU, ``phi``.
* Multi-Layer (eqs. 4-5): ``h*_t = sum_l w_l h^l_t`` with ``w = softmax(learned logits)`` (so ``w_l`` in
  [0, 1], summing to 1) over the Transformer layers, then the Non-Linear pipeline.

The paper's training (section 4.2): 30 epochs, Adam, lr 5e-4, weight decay 1e-4, betas (0.9, 0.98), eps
1e-8, projection m = 256 (``PAPER_TRAIN``, the class defaults). It follows PEFT-SER (Feng & Narayanan
2023, the paper's [15]) for the rest, so from PEFT-SER's code: dropout 0.1, batch 32, class-weighted
cross-entropy, the epoch with the best validation UAR, and layer weights over the Transformer blocks
only (its ``hidden_states[1:]``; here ``include_embedding=False`` skips layer 0, the CNN/embedding
output). Ours: each frame standardised with the training frames' statistics (per layer). Not taken from
PEFT-SER: its 6 s cropping of training audio and its ReduceLROnPlateau schedule (the paper names neither).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from emobench.probes.base import ProbeError
from emobench.probes.frame_probe import FrameProbe

PAPER_TRAIN: dict[str, Any] = {
    "epochs": 30, "lr": 5e-4, "weight_decay": 1e-4, "betas": (0.9, 0.98), "eps": 1e-8, "optimizer": "adam",
    "batch_size": 32, "min_steps": 0, "patience": 30, "select_on": "uar", "class_weight": "balanced",
}


class CrosslingNet(nn.Module):
    """``(x [B, T, D] or [B, L, T, D], mask [B, T]) -> logits [B, C]``; padded frames must be zero."""

    def __init__(self, dim: int, n_classes: int, *, projection: int, blocks: int, post: bool, dropout: float,
                 n_layers: int = 0):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers)) if n_layers else None  # uniform at the start
        frame: list[nn.Module] = []
        width = dim
        for _ in range(blocks):  # the paper's l: linear + ReLU + dropout, shared across frames
            frame += [nn.Linear(width, projection), nn.ReLU(), nn.Dropout(dropout)]
            width = projection
        frame.append(nn.Linear(width, projection))  # l1
        self.frame = nn.Sequential(*frame)
        self.post = nn.Sequential(nn.Linear(projection, projection), nn.ReLU()) if post else nn.Identity()  # l2
        self.head = nn.Linear(projection, n_classes)  # phi

    def mix(self, x: torch.Tensor) -> torch.Tensor:  # [B, L, T, D] -> [B, T, D] (eq. 4)
        return torch.einsum("bltd,l->btd", x, torch.softmax(self.layer_logits, dim=0))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.layer_logits is not None:
            x = self.mix(x)
        h = self.frame(x)  # [B, T, m]
        keep = mask[:, :, None].to(h.dtype)
        pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1.0)  # rho: mean over real frames [B, m]
        return self.head(self.post(pooled))


class _Crossling(FrameProbe):
    blocks: ClassVar[int] = 0
    post: ClassVar[bool] = False

    def __init__(self, *, projection: int = 256, dropout: float = 0.1, **train: Any):
        super().__init__(**{**PAPER_TRAIN, **train})
        if int(projection) < 1 or not 0 <= float(dropout) < 1:
            raise ProbeError(f"{type(self).__name__}: projection must be >= 1 and dropout in [0, 1), got "
                             f"{projection}, {dropout}")
        self.projection, self.dropout = int(projection), float(dropout)

    def arch_params(self) -> dict[str, Any]:
        return {"projection": self.projection, "dropout": self.dropout}

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        return CrosslingNet(input_shape[-1], n_classes, projection=self.projection, blocks=self.blocks,
                            post=self.post, dropout=self.dropout)


class CrosslingLinearProbe(_Crossling):
    """Linear (eq. 2) on one layer's frames ``[T, D]``: no activation, so it reads what is linearly there."""

    registry_name: ClassVar[str] = "crossling-linear"

    def __init__(self, *, projection: int = 256, **train: Any):
        super().__init__(projection=projection, dropout=0.0, **train)

    def arch_params(self) -> dict[str, Any]:
        return {"projection": self.projection}


class CrosslingNonLinearProbe(_Crossling):
    """Non-Linear (eq. 3) on one layer's frames ``[T, D]``."""

    registry_name: ClassVar[str] = "crossling-nonlinear"
    blocks: ClassVar[int] = 2
    post: ClassVar[bool] = True


class CrosslingMultiLayerProbe(_Crossling):
    """Multi-Layer (eqs. 4-5) on the frames of several layers ``[L, T, D]``; ``layer_weights`` after fitting."""

    registry_name: ClassVar[str] = "crossling-multilayer"
    input_ndim: ClassVar[int] = 3
    blocks: ClassVar[int] = 2
    post: ClassVar[bool] = True

    def __init__(self, *, projection: int = 256, dropout: float = 0.1, include_embedding: bool = False,
                 layer_lr_scale: float = 1.0, **train: Any):
        super().__init__(projection=projection, dropout=dropout, **train)
        self.include_embedding, self.layer_lr_scale = bool(include_embedding), float(layer_lr_scale)

    def arch_params(self) -> dict[str, Any]:
        return {**super().arch_params(), "include_embedding": self.include_embedding,
                "layer_lr_scale": self.layer_lr_scale}

    def layers_read(self, n_layers: int) -> list[int]:
        """The Transformer blocks 1..n-1 (layer 0 too with ``include_embedding``, or when it is the only one)."""
        first = 0 if self.include_embedding or n_layers == 1 else 1
        return list(range(first, int(n_layers)))

    def _lr_scales(self) -> dict[str, float]:
        return {} if self.layer_lr_scale == 1.0 else {"layer_logits": self.layer_lr_scale}

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        n_layers, dim = input_shape
        return CrosslingNet(dim, n_classes, projection=self.projection, blocks=self.blocks, post=self.post,
                            dropout=self.dropout, n_layers=n_layers)

    @property
    def layer_weights(self) -> np.ndarray:
        """The learned weights ``w_l`` ``[L]`` of the layers read (non-negative, summing to 1)."""
        if self.model is None:
            raise ProbeError(f"{type(self).__name__}.layer_weights: the probe is not fitted")
        with torch.no_grad():
            return torch.softmax(self.model.net.layer_logits, dim=0).cpu().numpy().astype(np.float64)
