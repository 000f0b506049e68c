"""A trained VQ-MAE-S encoder as an upstream: ``-u vqmaes -U checkpoint=DIR`` (a `emobench train` output).

Waveforms -> power spectrogram -> the checkpoint's VQ-VAE codes -> (t x d) index tokens -> the
encoder, unmasked. Layers are the encoder's: 0 = token embeddings + positions, i = block i (the last
through the final LayerNorm, what the SER heads read), so vqmaes-12 has 13 layers of width 320.
Frames: each time column of tokens (its ``n_d`` frequency tokens averaged) is one frame, i.e. one per
``patch_t`` STFT frames: 16000 / 307 / 10 = 5.21 Hz for vqmaes-12 (``frame_rate=stft`` repeats each
column over its ``patch_t`` STFT frames instead: 52.12 Hz, same information). The [CLS] state is an
utterance vector: ``utterance_vectors``. Long inputs are encoded in windows of ``max_frames`` (see
emobench/vqmaes/inference.py); the VQ-VAE always runs in fp32 so codes do not depend on the dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError
from emobench.upstreams.base import Upstream


class VqmaesUpstream(Upstream):
    def __init__(
        self,
        *,
        checkpoint: str | None = None,
        name: str = "vqmaes",
        frame_rate: str = "token",
        default_layer: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        if not checkpoint:
            raise EmobenchError(
                "upstream vqmaes needs a trained model: -U checkpoint=DIR (from `emobench train vqmaes`)"
            )
        if frame_rate not in ("token", "stft"):
            raise EmobenchError(f"upstream vqmaes: frame_rate={frame_rate!r}; use 'token' or 'stft'")
        from emobench.vqmaes.load import load

        loaded = load(checkpoint, kinds=("vqmaes", "vqmaes-ser"))
        self.loaded, self.vqvae, self.mae = loaded, loaded.vqvae, loaded.mae
        self.spec_cfg, self.upsample = loaded.preset.spectrogram, frame_rate == "stft"
        self.patch_t = self.mae.cfg.patch_t
        self.name = name
        self.sample_rate = self.spec_cfg.sample_rate
        self.frame_rate_hz = self.spec_cfg.frame_rate_hz / (1 if self.upsample else self.patch_t)
        self.n_layers, self.dim = self.mae.n_layers, self.mae.width
        self.default_layer = self.n_layers - 1 if default_layer is None else int(default_layer)
        self.check_layers([self.default_layer])
        self.min_samples = self.spec_cfg.n_fft
        self._identity = {
            "loader": "vqmaes",
            "version": 1,  # bump when the feature computation changes
            "weights_sha256": loaded.weights_sha256,
            "kind": loaded.kind,
            "preset": loaded.preset.name,
            "frame_rate": frame_rate,
        }
        self._silence = self.vqvae.encode(torch.zeros(1, self.vqvae.n_bins))[0]  # [D']
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def n_frames(self, n_samples: int) -> int:
        from emobench.vqmaes.inference import n_columns
        from emobench.vqmaes.spectrogram import n_frames

        frames = n_frames(n_samples, self.spec_cfg)
        return frames if self.upsample else n_columns(frames, self.patch_t)

    def _move(self) -> None:
        self.vqvae.to(self.device, torch.float32)
        self.mae.to(self.device, self.dtype)
        self._silence = self._silence.to(self.device)

    def _encode(
        self, waves: list[np.ndarray], layers: Sequence[int]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        from emobench.vqmaes.inference import utterance_features
        from emobench.vqmaes.spectrogram import power_spectrograms

        with torch.inference_mode():
            specs = power_spectrograms(waves, self.spec_cfg, device=self.device)
            codes = [self.vqvae.encode(s) for s in specs]
            return utterance_features(self.mae, codes, self._silence, layers, self.device)

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        out = []
        for wave, (_, cols) in zip(waves, self._encode(waves, layers), strict=True):
            if self.upsample:  # [L, n_cols, W] -> [L, n_cols * t, W], trimmed to the true STFT frame count
                cols = cols.repeat_interleave(self.patch_t, dim=1)[:, : self.n_frames(wave.shape[0])]
            out.append(cols.numpy())
        return out

    def utterance_vectors(
        self,
        waves: Sequence[np.ndarray],
        *,
        layers: Sequence[int] | None = None,
    ) -> list[np.ndarray]:
        """The [CLS] state of each waveform: float32 ``[len(layers), dim]`` (windows weighted by length)."""
        layers = self.check_layers(layers)
        waves = self.check_waves(waves)
        return [cls.numpy().astype(np.float32) for cls, _ in self._encode(waves, layers)] if waves else []
