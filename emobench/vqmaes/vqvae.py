"""The spectrogram VQ-VAE (section 2.1, 3.1.1): each power-spectrogram frame becomes D' discrete codes.

Fully convolutional on the frequency axis and frame-independent (no time context), as the paper
describes and the authors' code builds it: three 1-d convolutions (kernel 4/4/3, stride 2) and a
residual stack compress D = 513 bins to D' = 64 positions of e = 8 channels, each quantized to one of
k = 256 codes; the decoder mirrors it with transposed convolutions and outputs a log power. The
reconstruction loss is the Itakura-Saito divergence between power spectra (authors' code), plus the
codebook's commitment loss. Any D works (the decoder's output is cropped or edge-padded to D); for
D = n_fft / 2 + 1 with n_fft a power of two it is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from emobench.vqmaes.codebook import Codebook
from emobench.vqmaes.config import VQVAEConfig

POWER_EPS = 1e-10  # floor of power values (digital silence) in the IS divergence and log input
LOG_CLAMP = 40.0  # decoder log-power range, keeps exp() finite in fp32


def latent_length(n_bins: int) -> int:
    """D' for D input bins through the encoder's three strided convolutions."""
    n = n_bins
    for kernel, stride, pad in ((4, 2, 1), (4, 2, 1), (3, 2, 1)):
        n = (n + 2 * pad - kernel) // stride + 1
    if n < 1:
        raise ValueError(f"{n_bins} frequency bins are too few for the VQ-VAE (need at least 5)")
    return n


class Residual(nn.Module):
    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Tanh(),
            nn.Conv1d(channels, hidden, 3, padding=1, bias=False),
            nn.Tanh(),
            nn.Conv1d(hidden, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def residual_stack(channels: int, hidden: int, n_layers: int) -> nn.Sequential:
    return nn.Sequential(*[Residual(channels, hidden) for _ in range(n_layers)], nn.Tanh())


@dataclass
class VQVAEOutput:
    loss: torch.Tensor  # reconstruction + vq
    recon_loss: torch.Tensor  # Itakura-Saito divergence, mean over bins
    vq_loss: torch.Tensor
    perplexity: torch.Tensor  # exp(entropy) of the batch's code usage
    codes: torch.Tensor  # [n_frames, D'] int64
    latents: torch.Tensor  # [n_frames * D', e] encoder outputs (for dead-code re-seeding)


class SpectrogramVQVAE(nn.Module):
    """Power frames ``[n, D]`` <-> codes ``[n, D']`` in ``0..k-1``."""

    def __init__(self, *, cfg: VQVAEConfig, n_bins: int):
        super().__init__()
        self.cfg, self.n_bins = cfg, int(n_bins)
        self.latent_dim = latent_length(self.n_bins)  # D'
        h, e = cfg.hidden, cfg.code_dim
        self.encoder = nn.Sequential(
            nn.Conv1d(1, h // 2, 4, stride=2, padding=1),
            nn.BatchNorm1d(h // 2),
            nn.Tanh(),
            nn.Conv1d(h // 2, h, 4, stride=2, padding=1),
            nn.BatchNorm1d(h),
            nn.Tanh(),
            nn.Conv1d(h, h, 3, stride=2, padding=1),
            nn.BatchNorm1d(h),
            residual_stack(h, cfg.residual_hidden, cfg.n_residual_layers),
            nn.Conv1d(h, e, 1),
        )
        self.codebook = Codebook(
            codebook_size=cfg.codebook_size,
            code_dim=e,
            update=cfg.update,
            decay=cfg.decay,
            commitment=cfg.commitment,
            dead_share=cfg.dead_share,
        )
        self.decoder = nn.Sequential(
            nn.Conv1d(e, h, 3, padding=1),
            residual_stack(h, cfg.residual_hidden, cfg.n_residual_layers),
            nn.ConvTranspose1d(h, h, 4, stride=2, padding=1),
            nn.BatchNorm1d(h),
            nn.Tanh(),
            nn.ConvTranspose1d(h, h // 2, 4, stride=2, padding=1),
            nn.BatchNorm1d(h // 2),
            nn.Tanh(),
            nn.ConvTranspose1d(h // 2, 1, 3, stride=2),
        )

    # -- pieces ---------------------------------------------------------------------------------
    def _latents(self, power: torch.Tensor) -> torch.Tensor:
        """[n, D] -> encoder output as flat latents [n * D', e]."""
        x = power.float()
        if self.cfg.encoder_input == "log":
            x = torch.log(x + POWER_EPS)
        z = self.encoder(x.unsqueeze(1))  # [n, e, D']
        return z.transpose(1, 2).reshape(-1, self.cfg.code_dim)

    def _log_power(self, zq: torch.Tensor, n: int) -> torch.Tensor:
        """Quantized latents [n * D', e] -> decoder log power [n, D]."""
        y = self.decoder(zq.reshape(n, self.latent_dim, -1).transpose(1, 2))[:, 0]  # [n, 8 D' + 1]
        if y.shape[1] >= self.n_bins:
            y = y[:, : self.n_bins]
        else:
            y = F.pad(y, (0, self.n_bins - y.shape[1]), mode="replicate")
        return y.clamp(-LOG_CLAMP, LOG_CLAMP)

    def forward(self, power: torch.Tensor) -> VQVAEOutput:
        n = power.shape[0]
        z = self._latents(power)
        zq, idx, vq_loss, perplexity = self.codebook(z)
        log_recon = self._log_power(zq, n)
        recon = itakura_saito(power.float(), log_recon)
        return VQVAEOutput(
            recon + vq_loss, recon, vq_loss, perplexity, idx.reshape(n, self.latent_dim), z.detach()
        )

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, power: torch.Tensor) -> torch.Tensor:
        """[n, D] power -> codes [n, D'] int64 (call ``eval()`` first: BatchNorm uses running statistics)."""
        if power.shape[0] == 0:
            return torch.zeros(0, self.latent_dim, dtype=torch.long, device=power.device)
        return self.codebook.nearest(self._latents(power)).reshape(power.shape[0], self.latent_dim)

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes [n, D'] -> reconstructed power [n, D]."""
        if codes.shape[0] == 0:
            return torch.zeros(0, self.n_bins, device=codes.device)
        zq = self.codebook.lookup(codes.reshape(-1).long())
        return torch.exp(self._log_power(zq, codes.shape[0]))


def itakura_saito(power: torch.Tensor, log_recon: torch.Tensor) -> torch.Tensor:
    """Mean IS divergence d(x | y) = x / y - log(x / y) - 1 with y = exp(log_recon), in fp32."""
    x = power.float() + POWER_EPS
    log_ratio = torch.log(x) - log_recon.float()
    return (torch.exp(log_ratio) - log_ratio - 1).mean()
