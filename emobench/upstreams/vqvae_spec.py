"""The STFT power spectrogram VQ-MAE-S' VQ-VAE reads, as an upstream: ``-u vqvae-spec`` (with ``-q vqvae``).

One layer of D = 513 bins at 16000 / 307 = 52.12 frames per second (64 ms Hann window, 70% overlap;
emobench/vqmaes/spectrogram.py). ``scale=log`` (the default) gives log(power + floor), the space the
``vqvae`` quantizer's ``input_scale=log`` expects and where cosine similarity and linear probes mean
something; ``scale=power`` gives the VQ-VAE's raw input. With ``checkpoint=DIR`` the STFT settings are
read from a VQ-VAE / VQ-MAE-S checkpoint, so frames match what its codebook was trained on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError
from emobench.upstreams.base import Upstream


class VqvaeSpectrogramUpstream(Upstream):
    def __init__(
        self,
        *,
        checkpoint: str | None = None,
        scale: str = "log",
        log_floor: float = 1e-10,
        n_fft: int = 1024,
        win_length: int = 1024,
        hop_length: int = 307,
        peak_normalize: bool = True,
        sample_rate: int = 16_000,
        name: str = "vqvae-spec",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        from emobench.vqmaes.config import SpectrogramConfig

        if scale not in ("log", "power"):
            raise EmobenchError(f"upstream {name}: scale={scale!r}; use 'log' or 'power'")
        if checkpoint:
            from emobench.vqmaes import checkpoint as ckpt
            from emobench.vqmaes.config import preset_from_dict

            saved = ckpt.load_checkpoint(checkpoint, device="cpu")
            self.cfg = preset_from_dict(saved.config["identity"]["preset"]).spectrogram
        else:
            self.cfg = SpectrogramConfig(
                sample_rate=sample_rate,
                n_fft=n_fft,
                win_length=win_length,
                hop_length=hop_length,
                peak_normalize=peak_normalize,
            )
        self.name, self.scale, self.log_floor = name, scale, float(log_floor)
        self.sample_rate, self.frame_rate_hz = self.cfg.sample_rate, self.cfg.frame_rate_hz
        self.n_layers, self.dim, self.default_layer = 1, self.cfg.n_bins, 0
        self.min_samples = self.cfg.n_fft
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def identity(self) -> dict[str, Any]:
        return {
            "loader": "vqvae-spec",
            "version": 1,
            "spectrogram": dataclasses.asdict(self.cfg),
            "scale": self.scale,
            "log_floor": self.log_floor,
        }

    def n_frames(self, n_samples: int) -> int:
        from emobench.vqmaes.spectrogram import n_frames

        return n_frames(n_samples, self.cfg)

    @torch.inference_mode()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        from emobench.vqmaes.spectrogram import power_spectrograms

        out = []
        for power in power_spectrograms(waves, self.cfg, device=self.device):  # [frames, D]
            feats = torch.log(power + self.log_floor) if self.scale == "log" else power
            out.append(feats.cpu().numpy()[None])
        return out
