"""SER fine-tuning heads (section 3.1.2) and the single-label asymmetric loss.

* ``ClsHead``: the encoder's [CLS] state through one linear layer.
* ``Query2EmoHead`` (after Query2Label, Liu et al. 2021): one transformer encoder block over the
  encoder's tokens, then one decoder block whose queries are learned emotion embeddings attending to
  those tokens (keys/values); each class' output gives its logit through its own linear map
  (Query2Label's group-wise linear).
* ``asymmetric_loss``: Ridnik et al.'s ASL adapted to single labels as the authors' code does
  (gamma- = 4, gamma+ = 0, label smoothing 0.1).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from emobench.vqmaes.config import SerConfig
from emobench.vqmaes.model import VQMAES


class ClsHead(nn.Module):
    def __init__(self, *, width: int, n_classes: int):
        super().__init__()
        self.linear = nn.Linear(width, n_classes)

    def forward(self, states: torch.Tensor, key_valid: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(states[:, 0])  # [batch, width] -> [batch, n_classes]


class Query2EmoHead(nn.Module):
    def __init__(self, *, width: int, n_classes: int, heads: int = 8, dropout: float = 0.1):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout, batch_first=True)
        self.decoder = nn.TransformerDecoderLayer(width, heads, 4 * width, dropout, batch_first=True)
        self.queries = nn.Parameter(torch.randn(n_classes, width) * 0.02)  # one learned query per emotion
        self.weight = nn.Parameter(torch.randn(n_classes, width) * width**-0.5)
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, states: torch.Tensor, key_valid: torch.Tensor | None = None) -> torch.Tensor:
        pad = None if key_valid is None else ~key_valid  # [batch, seq], True = padding
        memory = self.encoder(states, src_key_padding_mask=pad)
        q = self.queries.expand(states.shape[0], -1, -1)  # [batch, n_classes, width]
        h = self.decoder(q, memory, memory_key_padding_mask=pad)
        return (h * self.weight).sum(-1) + self.bias  # [batch, n_classes]


class SerModel(nn.Module):
    """VQ-MAE-S encoder + head. ``freeze_encoder`` trains the head only (Table 1's "freeze")."""

    def __init__(self, *, mae: VQMAES, cfg: SerConfig, n_classes: int):
        super().__init__()
        self.mae, self.cfg, self.n_classes = mae, cfg, int(n_classes)
        if cfg.head == "cls":
            self.head: nn.Module = ClsHead(width=mae.width, n_classes=n_classes)
        else:
            self.head = Query2EmoHead(
                width=mae.width, n_classes=n_classes, heads=cfg.query_heads, dropout=cfg.query_dropout
            )
        self.set_frozen(cfg.freeze_encoder)

    def set_frozen(self, frozen: bool) -> None:
        """Encoder weights train unless frozen; the pre-training decoder never does here."""
        for name, p in self.mae.named_parameters():
            fixed_embedding = name == "embedding.weight" and self.mae.cfg.freeze_embedding
            p.requires_grad_(_is_encoder(name) and not frozen and not fixed_embedding)
        self.frozen = frozen

    def forward(self, tokens: torch.Tensor, n_valid: torch.Tensor | None = None) -> torch.Tensor:
        """Index tokens [batch, N, t*d] (rows padded past ``n_valid`` tokens) -> logits [batch, n_classes]."""
        if self.frozen:
            with torch.no_grad():
                states = self.mae.encode(tokens, n_valid, layers=[self.mae.n_layers - 1])[0]
        else:
            states = self.mae.encode(tokens, n_valid, layers=[self.mae.n_layers - 1])[0]
        key_valid = None
        if n_valid is not None:
            pos = torch.arange(states.shape[1], device=states.device)
            key_valid = pos[None, :] <= n_valid.to(states.device)[:, None]
        return self.head(states, key_valid)


def _is_encoder(name: str) -> bool:
    return not name.startswith(("dec_", "mask_token", "head."))


def asymmetric_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    eps: float = 0.1,
) -> torch.Tensor:
    """Single-label ASL: logits [batch, n_classes], target [batch] int64 -> mean loss."""
    logits = logits.float()
    n_classes = logits.shape[-1]
    log_p = F.log_softmax(logits, dim=-1)
    onehot = F.one_hot(target, n_classes).float()
    p = log_p.exp()
    # focusing weight: (1 - p)^gamma+ on the true class, p^gamma- on the others
    base = onehot * (1 - p) + (1 - onehot) * p
    weight = base.pow(gamma_pos * onehot + gamma_neg * (1 - onehot))
    smoothed = onehot * (1 - eps) + eps / n_classes
    return -(smoothed * log_p * weight).sum(-1).mean()


def ser_loss(cfg: SerConfig, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return asymmetric_loss(logits, target) if cfg.loss == "asl" else F.cross_entropy(logits.float(), target)
