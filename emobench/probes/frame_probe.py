"""Frame-level probes: classifiers that read each utterance's frames (``[T, D]``, or ``[L, T, D]`` for
several layers) rather than its mean-pooled vector.

``FrameProbe`` keeps the probe API of ``TorchProbe`` (``fit`` / ``predict_proba`` / ``save`` / ``load``)
with ``Sequences`` (or lists of arrays) in place of ``[N, D]`` matrices. Every frame is standardised with
the training frames' statistics (per layer for stacked layers), padded frames are zeroed and masked out,
and batches are streamed, so a training set larger than memory can be read from the feature cache. The
loop mirrors ``emobench.probes.train.train_loop``: seeded minibatches, the optimizer of ``TrainConfig``,
the weights of the epoch with the best validation score.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from emobench.probes.base import ProbeError, TorchProbe, check_labels
from emobench.probes.sequences import ArraySequences, Sequences, batch_rows, frame_stats, pad
from emobench.probes.train import class_weights, run_epochs, score_logits

INFER_BUDGET = 2**24  # padded values per inference batch (64 MB of float32)


class FrameModel(nn.Module):
    """``net((x - mean) / std, mask)`` with padded frames zeroed; the statistics are buffers."""

    def __init__(self, net: nn.Module, item_shape: tuple[int, ...]):
        super().__init__()
        self.net = net
        self.register_buffer("feat_mean", torch.zeros(item_shape))
        self.register_buffer("feat_std", torch.ones(item_shape))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # [B, (L,) T, D], [B, T] -> [B, C]
        mean, std = self.feat_mean, self.feat_std
        if mean.ndim == 2:  # [L, D]: one statistic per layer, broadcast over frames
            mean, std, keep = mean[:, None, :], std[:, None, :], mask[:, None, :, None]
        else:
            keep = mask[:, :, None]
        return self.net((x - mean) / std * keep, mask)


class FrameProbe(TorchProbe):
    """Base of the frame-level probes. Subclasses set ``input_ndim`` (2: items ``[T, D]``; 3: ``[L, T, D]``)
    and build a network taking ``(x, mask)``."""

    frame_level: ClassVar[bool] = True

    def _check_X(self, X, where: str) -> Sequences:
        if isinstance(X, np.ndarray) or not isinstance(X, (Sequences, list, tuple)):
            raise ProbeError(
                f"{type(self).__name__}.{where}: reads frames, one [frames, dim] array per utterance "
                f"({'[layers, frames, dim] ' if self.input_ndim == 3 else ''}in a list or Sequences), not a "
                f"{type(X).__name__}; tasks feed it through TaskInputs.probes"
            )
        seqs = X if isinstance(X, Sequences) else ArraySequences(list(X))
        if len(seqs) and len(seqs.item_shape) != self.input_ndim - 1:
            shape = "[frames, dim]" if self.input_ndim == 2 else "[layers, frames, dim]"
            raise ProbeError(f"{type(self).__name__}.{where}: expected items {shape}, got items of shape "
                             f"{seqs.item_shape} per frame")
        if self.input_shape is not None and len(seqs) and tuple(seqs.item_shape) != self.input_shape:
            raise ProbeError(f"{type(self).__name__}.{where}: fitted on frames of shape {self.input_shape}, got "
                             f"{seqs.item_shape}; use the upstream/layers the probe was trained on")
        if len(seqs) and (np.asarray(seqs.lengths) < 1).any():
            raise ProbeError(f"{type(self).__name__}.{where}: an utterance has no frames")
        return seqs

    def _make_model(self):
        return FrameModel(self._build(self.input_shape, self.n_classes), self.input_shape)

    def fit(self, X_train, y_train, X_val=None, y_val=None, *, n_classes: int, seed: int = 0,
            device: Any = "cpu") -> FrameProbe:
        from emobench.device import one_cpu_thread

        train = self._check_X(X_train, "fit")
        y_train = check_labels(y_train, len(train), n_classes, f"{type(self).__name__}.fit")
        if len(train) == 0:
            raise ProbeError(f"{type(self).__name__}.fit: no training items")
        val = None
        if X_val is not None and len(X_val):
            val = self._check_X(X_val, "fit (validation)")
            y_val = check_labels(y_val, len(val), n_classes, f"{type(self).__name__}.fit (validation)")
        self.n_classes, self.input_shape = int(n_classes), tuple(train.item_shape)
        self.device = str(torch.device(device))
        dev = torch.device(self.device)
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), one_cpu_thread(dev):  # caller's RNG state untouched
            torch.manual_seed(seed)
            self.model = self._make_model()
            if self.train_config.standardize:
                mean, std = frame_stats(train)
                self.model.feat_mean.copy_(torch.as_tensor(mean))
                self.model.feat_std.copy_(torch.as_tensor(np.where(std > 1e-8, std, 1.0)))
            self.model.to(dev)
            self.history = train_sequences(self.model, train, y_train, val, y_val if val is not None else None,
                                           self.train_config, n_classes=self.n_classes, device=dev, seed=seed,
                                           lr_scales=self._lr_scales())
        self.model.eval()
        return self

    def logits(self, X) -> np.ndarray:
        """Logits ``[N, C]`` in input order (batches of similar length, within ``INFER_BUDGET`` values)."""
        if self.model is None:
            raise ProbeError(f"{type(self).__name__}: the probe is not fitted; call fit() or load()")
        seqs = self._check_X(X, "predict")
        return _logits(self.model, seqs, torch.device(self.device), self.n_classes)


def _logits(model: nn.Module, seqs: Sequences, device: torch.device, n_classes: int) -> np.ndarray:
    out = np.zeros((len(seqs), n_classes), np.float32)
    per_frame = int(np.prod(seqs.item_shape)) if len(seqs) else 1
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for rows in batch_rows(seqs.lengths, budget=INFER_BUDGET, per_frame=per_frame):
            x, mask = pad(_finite(seqs.gather(rows)), device)
            out[rows] = model(x, mask).float().cpu().numpy()
    model.train(was_training)
    return out


def _finite(items: list[np.ndarray]) -> list[np.ndarray]:
    if not all(np.isfinite(x).all() for x in items):
        raise ProbeError("frame features contain NaN or inf")
    return items


def train_sequences(model: nn.Module, train: Sequences, y_train: np.ndarray, val: Sequences | None, y_val, cfg, *,
                    n_classes: int, device: torch.device, seed: int,
                    lr_scales: dict[str, float] | None = None) -> dict[str, Any]:
    """Train ``model(x, mask)`` in place on padded minibatches; the history of ``run_epochs``."""
    yt = torch.as_tensor(y_train, device=device)
    weight = class_weights(y_train, n_classes, cfg, device)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        x, mask = pad(_finite(train.gather(idx.tolist())), device)
        return nn.functional.cross_entropy(model(x, mask), yt[idx.to(device)], weight=weight)

    def val_score() -> float:
        logits = torch.as_tensor(_logits(model, val, device, n_classes), device=device)
        return score_logits(logits, y_val, cfg.select_on, n_classes)

    return run_epochs(model, len(train), batch_loss, None if val is None else val_score, cfg, seed=seed,
                      lr_scales=lr_scales)
