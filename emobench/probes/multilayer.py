"""Multi-layer probe: a learned softmax-weighted sum over the upstream's layers, then a linear
classifier (the "Multi-Layer" classifier of the cross-lingual probing paper, eq. 4: w_l in [0, 1],
sum_l w_l = 1). The learned weights say which layers carry the emotion."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from emobench.probes.base import ProbeError, TorchProbe


class _LayerMix(nn.Module):
    def __init__(self, n_layers: int, dim: int, n_classes: int, hidden: int, dropout: float):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))  # uniform weights at the start
        if hidden:
            self.head = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))
        else:
            self.head = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, L, D] -> [B, C]
        w = torch.softmax(self.layer_logits, dim=0)  # [L]
        return self.head(torch.einsum("bld,l->bd", x, w))


class MultiLayerProbe(TorchProbe):
    """Input ``[N, layers, D]`` (mean-pooled per layer; each layer standardised with its own train
    statistics). ``hidden=0`` (default): linear head; ``hidden>0``: one ReLU layer as in the paper."""

    registry_name: ClassVar[str] = "multilayer"
    input_ndim: ClassVar[int] = 3

    def __init__(self, *, hidden: int = 0, dropout: float = 0.2, layer_lr_scale: float = 10.0, **train: Any):
        super().__init__(**train)
        self.hidden, self.dropout, self.layer_lr_scale = int(hidden), float(dropout), float(layer_lr_scale)

    def arch_params(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "dropout": self.dropout, "layer_lr_scale": self.layer_lr_scale}

    def _lr_scales(self) -> dict[str, float]:
        return {"layer_logits": self.layer_lr_scale}

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        n_layers, dim = input_shape
        return _LayerMix(n_layers, dim, n_classes, self.hidden, self.dropout)

    @property
    def layer_weights(self) -> np.ndarray:
        """The learned layer weights ``[L]`` (non-negative, sum to 1)."""
        if self.model is None:
            raise ProbeError("MultiLayerProbe.layer_weights: the probe is not fitted")
        with torch.no_grad():
            return torch.softmax(self.model.net.layer_logits, dim=0).cpu().numpy().astype(np.float64)
