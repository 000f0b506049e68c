"""Non-linear probe: one hidden ReLU layer with dropout on mean-pooled features (the
"Non-Linear" classifier of the cross-lingual probing paper, reduced to pooled inputs)."""

from __future__ import annotations

from typing import Any, ClassVar

from torch import nn

from emobench.probes.base import TorchProbe


class MLPProbe(TorchProbe):
    """``Linear(D, hidden) -> ReLU -> Dropout -> Linear(hidden, C)`` on ``[N, D]`` features."""

    registry_name: ClassVar[str] = "mlp"

    def __init__(self, *, hidden: int = 256, dropout: float = 0.2, **train: Any):
        super().__init__(**train)
        self.hidden, self.dropout = int(hidden), float(dropout)

    def arch_params(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "dropout": self.dropout}

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(input_shape[0], self.hidden), nn.ReLU(), nn.Dropout(self.dropout),
            nn.Linear(self.hidden, n_classes),
        )
