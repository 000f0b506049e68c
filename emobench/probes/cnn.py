"""The single-representation baselines of HYFuse's Table 1 (Phukan et al., section 3), on pooled ``[N, D]``.

CNN: the pooled vector is read as a one-channel sequence of length D: ``Conv1d(1, 64, 3) -> ReLU ->
Conv1d(64, 128, 3) -> ReLU -> flatten`` (unpadded convolutions, so ``128 x (D - 4)`` values), then the FCN
block: ``Linear(., 128) -> ReLU -> Dropout -> Linear(128, C)`` (softmax in the loss). FCN: the FCN block
alone. The same branch and block make up HYFuse and its Concat baseline (``emobench.probes.hyfuse``).

Training follows the paper's section 4.1 (``PAPER_TRAIN``): cross-entropy, Adam (the shared loop's AdamW
with weight decay 0 is Adam), lr 1e-5, batch 32, 50 epochs, dropout, early stopping on the validation
fold. The paper gives no dropout rate or patience: ``dropout=0.3`` and ``patience=10`` are ours, as is
the per-feature standardisation with training statistics that every emobench probe applies.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import nn

from emobench.probes.base import ProbeError, TorchProbe

PAPER_TRAIN: dict[str, Any] = {
    "lr": 1e-5, "weight_decay": 0.0, "betas": (0.9, 0.999), "epochs": 50, "batch_size": 32,
    "min_steps": 0, "patience": 10, "select_on": "accuracy",
}


class ConvBranch(nn.Module):
    """``[B, D] -> [B, filters[-1] * (D - len(filters) * (kernel_size - 1))]``: the paper's 1D-CNN, flattened."""

    def __init__(self, dim: int, *, filters: tuple[int, ...] = (64, 128), kernel_size: int = 3):
        super().__init__()
        self.out_len = int(dim) - len(filters) * (kernel_size - 1)
        if self.out_len < 1:
            raise ProbeError(
                f"the CNN branch needs inputs of at least {int(dim) - self.out_len + 1} values "
                f"({len(filters)} unpadded convolutions of kernel {kernel_size}), got {dim}"
            )
        layers: list[nn.Module] = []
        channels = 1
        for n in filters:
            layers += [nn.Conv1d(channels, n, kernel_size), nn.ReLU()]
            channels = n
        self.convs = nn.Sequential(*layers)
        self.out_dim = channels * self.out_len

    def forward(self, x):  # [B, D] -> [B, out_dim]
        return self.convs(x.unsqueeze(1)).flatten(1)


def fcn_block(in_dim: int, hidden: int, n_classes: int, dropout: float) -> nn.Sequential:
    """The paper's FCN block: one dense layer of ``hidden`` units, dropout, then the output layer."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))


class PaperProbe(TorchProbe):
    """Shared constructor: the paper's architecture sizes and training settings as defaults."""

    def __init__(self, *, hidden: int = 128, dropout: float = 0.3, filters: tuple[int, ...] = (64, 128),
                 kernel_size: int = 3, **train: Any):
        super().__init__(**{**PAPER_TRAIN, **train})
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.hidden, self.dropout = int(hidden), float(dropout)
        self.filters, self.kernel_size = tuple(int(f) for f in filters), int(kernel_size)

    def arch_params(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "dropout": self.dropout, "filters": list(self.filters),
                "kernel_size": self.kernel_size}


class CNNProbe(PaperProbe):
    """HYFuse Table 1's CNN on one pooled representation ``[N, D]``."""

    registry_name: ClassVar[str] = "cnn"

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        branch = ConvBranch(input_shape[0], filters=self.filters, kernel_size=self.kernel_size)
        return nn.Sequential(branch, fcn_block(branch.out_dim, self.hidden, n_classes, self.dropout))


class FCNProbe(PaperProbe):
    """HYFuse Table 1's FCN on one pooled representation ``[N, D]``."""

    registry_name: ClassVar[str] = "fcn"

    def _build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        return fcn_block(input_shape[0], self.hidden, n_classes, self.dropout)
