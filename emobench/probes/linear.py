"""SUPERB-style linear probe: one linear layer on standardised mean-pooled features (Emo-Q paper
section 3.2, following SUPERB's emotion-recognition downstream)."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from emobench.probes.base import TorchProbe


class LinearProbe(TorchProbe):
    """``softmax(W x + b)`` on ``[N, D]`` features. Keyword params: see ``TrainConfig``."""

    registry_name: ClassVar[str] = "linear"

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        return nn.Linear(input_shape[0], n_classes)
