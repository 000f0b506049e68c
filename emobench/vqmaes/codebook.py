"""The VQ-VAE's codebook: nearest-code assignment, EMA or straight-through updates, dead-code re-seeding.

Two update rules (van den Oord et al. 2017): ``"ema"`` moves each code to the decayed mean of the
latents assigned to it (the authors' VectorQuantizerEMA, decay 0.99, Laplace smoothing); the
``"straight-through"`` rule learns the codes by gradient with the codebook loss ||sg(z) - e||^2. Both
add the commitment loss beta * ||z - sg(e)||^2 and pass gradients to the encoder straight through.
Codes given fewer than ``dead_share / k`` of the assignments since the last check are re-seeded on
latents of the current batch, so that a small-dimension codebook keeps all k codes in use.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

EMA_EPS = 1e-5


class Codebook(nn.Module):
    """``k`` codes of dimension ``e``; works on flat latents ``[n, e]`` in fp32."""

    def __init__(
        self,
        *,
        codebook_size: int,
        code_dim: int,
        update: str = "ema",
        decay: float = 0.99,
        commitment: float = 0.25,
        dead_share: float = 0.01,
    ):
        super().__init__()
        self.codebook_size, self.code_dim, self.update = int(codebook_size), int(code_dim), update
        self.decay, self.commitment, self.dead_share = float(decay), float(commitment), float(dead_share)
        init = torch.randn(codebook_size, code_dim)
        if update == "ema":
            self.register_buffer("codes", init)  # [k, e], moved by EMA statistics, not by the optimiser
            self.register_buffer("ema_count", torch.ones(codebook_size))  # [k]: codes start as their own mean
            self.register_buffer("ema_sum", init.clone())  # [k, e]
        else:
            self.codes = nn.Parameter(init)
        self.register_buffer("hits", torch.zeros(codebook_size))  # assignments since the last re-seeding [k]

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code for each latent: [n, e] -> [n] int64 (fp32 even under autocast, so
        codes do not depend on the AMP dtype)."""
        with torch.autocast(device_type=z.device.type, enabled=False):
            codes, z = self.codes.float(), z.float()
            dist = z.square().sum(1, keepdim=True) - 2 * z @ codes.t() + codes.square().sum(1)
        return dist.argmin(1)

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        return F.embedding(idx, self.codes.float())

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """z [n, e] -> (straight-through quantized [n, e], indices [n], vq loss, perplexity)."""
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._forward(z.float())

    def _forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.nearest(z)
        onehot = F.one_hot(idx, self.codebook_size).float()  # [n, k]
        share = onehot.mean(0)  # [k]
        if self.training:
            with torch.no_grad():
                self.hits.add_(onehot.sum(0))
                if self.update == "ema":
                    self._ema_step(z, onehot)
        zq = self.lookup(idx)
        loss = self.commitment * F.mse_loss(z, zq.detach())
        if self.update != "ema":
            loss = loss + F.mse_loss(zq, z.detach())
        perplexity = torch.exp(-(share * torch.log(share + 1e-10)).sum())
        return z + (zq - z).detach(), idx, loss, perplexity

    @torch.no_grad()
    def _ema_step(self, z: torch.Tensor, onehot: torch.Tensor) -> None:
        self.ema_count.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(onehot.t() @ z, alpha=1 - self.decay)
        n = self.ema_count.sum()
        count = (self.ema_count + EMA_EPS) / (n + self.codebook_size * EMA_EPS) * n  # Laplace smoothing
        self.codes.copy_(self.ema_sum / count.unsqueeze(1))

    @torch.no_grad()
    def reseed_dead(self, z: torch.Tensor, generator: torch.Generator) -> int:
        """Move dead codes onto random latents of ``z`` [n, e]; returns how many were re-seeded.

        Dead: fewer than ``dead_share / k`` of the assignments since the previous call."""
        total = float(self.hits.sum())
        dead = torch.nonzero(self.hits < self.dead_share / self.codebook_size * total).flatten()
        self.hits.zero_()
        if dead.numel() == 0 or z.shape[0] == 0 or total == 0:
            return 0
        pick = torch.randint(0, z.shape[0], (dead.numel(),), generator=generator).to(z.device)
        fresh = z.float()[pick]
        self.codes.data[dead] = fresh.to(self.codes.dtype)
        if self.update == "ema":
            self.ema_sum[dead] = fresh
            self.ema_count[dead] = 1.0
        return int(dead.numel())
