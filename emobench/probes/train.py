"""The probes' shared training loop: seeded minibatch AdamW (or Adam) on cross-entropy, keeping the weights of
the epoch with the best validation score (early stopping after ``patience`` epochs without one)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from emobench.metrics.classification import uar


class Standardized(nn.Module):
    """``net((x - mean) / std)`` with the train statistics stored as buffers (saved with the weights)."""

    def __init__(self, net: nn.Module, input_shape: tuple[int, ...]):
        super().__init__()
        self.net = net
        self.register_buffer("feat_mean", torch.zeros(input_shape))
        self.register_buffer("feat_std", torch.ones(input_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, *input_shape] -> [B, C]
        return self.net((x - self.feat_mean) / self.feat_std)


def _score(model: nn.Module, X: torch.Tensor, y: np.ndarray, select_on: str, n_classes: int) -> float:
    model.eval()
    with torch.no_grad():
        logits = model(X)
    model.train()
    return score_logits(logits, y, select_on, n_classes)


def score_logits(logits: torch.Tensor, y: np.ndarray, select_on: str, n_classes: int) -> float:
    """The model-selection score of validation logits ``[N, C]``: UAR, accuracy or minus the loss."""
    if select_on == "loss":
        return -float(nn.functional.cross_entropy(logits, torch.as_tensor(y, device=logits.device)))
    pred = logits.argmax(dim=1).cpu().numpy()
    if select_on == "accuracy":
        return float(np.mean(pred == y))
    return uar(y, pred, list(range(n_classes)))


def make_optimizer(groups: list[dict[str, Any]], cfg) -> torch.optim.Optimizer:
    """Adam (L2 weight decay in the gradient) or AdamW (decoupled) over ``groups``, as ``cfg`` says."""
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return cls(groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps)


def param_groups(model: nn.Module, cfg, lr_scales: dict[str, float] | None) -> list[dict[str, Any]]:
    """One group at ``cfg.lr`` with weight decay, plus one per parameter matched by ``lr_scales`` (a
    name fragment -> learning-rate multiplier; those get no weight decay)."""
    groups: list[dict[str, Any]] = [{"params": [], "lr": cfg.lr, "weight_decay": cfg.weight_decay}]
    for name, param in model.named_parameters():
        scale = next((v for k, v in (lr_scales or {}).items() if k in name), None)
        if scale is None:
            groups[0]["params"].append(param)
        else:
            groups.append({"params": [param], "lr": cfg.lr * scale, "weight_decay": 0.0})
    return groups


def class_weights(y_train: np.ndarray, n_classes: int, cfg, device) -> torch.Tensor | None:
    """``class_weight="balanced"``: n / (C * count) per class (absent classes 0), else None."""
    if cfg.class_weight != "balanced":
        return None
    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, len(y_train) / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(w, dtype=torch.float32, device=device)


def train_loop(model: nn.Module, X_train: np.ndarray, y_train: np.ndarray, X_val, y_val, cfg, *,
               n_classes: int, device: torch.device, seed: int,
               lr_scales: dict[str, float] | None = None) -> dict[str, Any]:
    """Train ``model`` in place on array inputs; returns a small history (best epoch and score, epochs
    run). ``lr_scales`` maps a parameter-name fragment to a learning-rate multiplier (no weight decay)."""
    Xt = torch.as_tensor(X_train, device=device)  # [N, *item]
    yt = torch.as_tensor(y_train, device=device)
    Xv = torch.as_tensor(X_val, device=device) if X_val is not None else None
    weight = class_weights(y_train, n_classes, cfg, device)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        idx = idx.to(device)
        return nn.functional.cross_entropy(model(Xt[idx]), yt[idx], weight=weight)

    val_score = None if Xv is None else (lambda: _score(model, Xv, y_val, cfg.select_on, n_classes))
    return run_epochs(model, len(Xt), batch_loss, val_score, cfg, seed=seed, lr_scales=lr_scales)


def run_epochs(model: nn.Module, n: int, batch_loss: Callable[[torch.Tensor], torch.Tensor],
               val_score: Callable[[], float] | None, cfg, *, seed: int,
               lr_scales: dict[str, float] | None = None) -> dict[str, Any]:
    """The one training loop of every probe: seeded minibatches of ``n`` items (``batch_loss(indices)``),
    at least ``cfg.min_steps`` steps, the epoch with the best ``val_score()`` kept, early stopping after
    ``cfg.patience`` epochs without improvement."""
    opt = make_optimizer(param_groups(model, cfg, lr_scales), cfg)
    gen = torch.Generator(device="cpu").manual_seed(seed)  # minibatch order, identical on CPU and CUDA
    bs = n if cfg.batch_size <= 0 else min(cfg.batch_size, n)
    best, best_epoch, best_state, since = -np.inf, -1, None, 0
    steps_per_epoch = -(-n // bs)
    epochs = max(cfg.epochs, -(-cfg.min_steps // steps_per_epoch))
    model.train()
    epoch = 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            loss = batch_loss(order[start : start + bs])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if val_score is None:
            continue
        score = val_score()
        if score > best:
            best, best_epoch, since = score, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            since += 1
            if since >= cfg.patience and (epoch + 1) * steps_per_epoch >= cfg.min_steps:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"epochs_run": epoch + 1, "best_epoch": best_epoch + 1 if best_state is not None else epoch + 1,
            "best_val": None if best_state is None else float(best), "select_on": cfg.select_on}
