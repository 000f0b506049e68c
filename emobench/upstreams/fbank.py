"""Log-mel filterbank: the weight-free upstream of the embedded default (no download, no torchaudio).

Kaldi-like framing (25 ms window, 10 ms hop, no centre padding, so 100 frames/s) computed with torch.stft
and an HTK-scale triangular mel matrix built here. Each frame depends only on its own window of samples,
so zero-padding a batch and trimming to the true frame count equals computing utterances one by one.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import torch
from annotated_types import Ge, Gt, Le

from emobench.upstreams.base import Upstream

FBANK_VERSION = 1  # bump when the computation changes, so cached features are recomputed


def hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: float | np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_matrix(*, n_mels: int, n_fft: int, sample_rate: int, f_min: float, f_max: float) -> np.ndarray:
    """Triangular HTK-mel filters ``[n_fft // 2 + 1, n_mels]`` (float32), peaks of height 1."""
    bin_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    up = (bin_hz[:, None] - lower[None, :]) / (centre - lower)[None, :]
    down = (upper[None, :] - bin_hz[:, None]) / (upper - centre)[None, :]
    return np.clip(np.minimum(up, down), 0.0, None).astype(np.float32)


class LogMelFbank(Upstream):
    """``n_mels`` log-mel energies per 10 ms frame; one layer (index 0)."""

    def __init__(
        self,
        *,
        n_mels: Annotated[int, Ge(1)] = 80,
        sample_rate: Annotated[int, Ge(1000)] = 16_000,
        win_ms: Annotated[float, Gt(0)] = 25.0,
        hop_ms: Annotated[float, Gt(0)] = 10.0,
        n_fft: Annotated[int, Ge(2)] | None = None,
        f_min: Annotated[float, Ge(0)] = 20.0,
        f_max: Annotated[float, Gt(0)] | None = None,
        preemphasis: Annotated[float, Ge(0), Le(1)] = 0.97,
        log_floor: Annotated[float, Gt(0)] = 1e-6,
        default_layer: int = 0,
        name: str = "fbank",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        self.name = name
        self.sample_rate = int(sample_rate)
        self.win_length = round(sample_rate * win_ms / 1000)
        self.hop_length = round(sample_rate * hop_ms / 1000)
        # torch.stft frames n_fft samples (the window is centred in them), so n_fft sets the receptive field.
        self.n_fft = int(n_fft or self.win_length)
        if self.n_fft < self.win_length:
            raise ValueError(f"n_fft={self.n_fft} is shorter than the window ({self.win_length} samples)")
        self.n_mels = int(n_mels)
        self.f_min = float(f_min)
        self.f_max = float(f_max if f_max is not None else sample_rate / 2)
        self.preemphasis = float(preemphasis)
        self.log_floor = float(log_floor)
        self.frame_rate_hz = self.sample_rate / self.hop_length
        self.n_layers = 1
        self.dim = self.n_mels
        self.default_layer = int(default_layer)
        self.check_layers([self.default_layer])
        self.min_samples = self.n_fft
        self._mel = torch.from_numpy(
            mel_matrix(n_mels=self.n_mels, n_fft=self.n_fft, sample_rate=self.sample_rate,
                       f_min=self.f_min, f_max=self.f_max)
        )  # [n_fft//2+1, n_mels]
        self._window = torch.hann_window(self.win_length, periodic=False)
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def identity(self) -> dict[str, Any]:
        return {
            "loader": "fbank", "version": FBANK_VERSION, "sample_rate": self.sample_rate,
            "n_mels": self.n_mels, "win_length": self.win_length, "hop_length": self.hop_length,
            "n_fft": self.n_fft, "f_min": self.f_min, "f_max": self.f_max,
            "preemphasis": self.preemphasis, "log_floor": self.log_floor,
        }

    def n_frames(self, n_samples: int) -> int:
        if n_samples < self.n_fft:
            return 0
        return 1 + (int(n_samples) - self.n_fft) // self.hop_length

    def _move(self) -> None:
        # Filterbanks stay fp32 whatever the dtype: half precision buys nothing here and loses range.
        self._mel = self._mel.to(self.device)
        self._window = self._window.to(self.device)

    @torch.inference_mode()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        lengths = [w.shape[0] for w in waves]
        batch = torch.zeros(len(waves), max(lengths), dtype=torch.float32)  # [batch, samples]
        for i, w in enumerate(waves):
            batch[i, : w.shape[0]] = torch.from_numpy(w)
        batch = batch.to(self.device)
        if self.preemphasis:
            batch = torch.cat([batch[:, :1], batch[:, 1:] - self.preemphasis * batch[:, :-1]], dim=1)
        spec = torch.stft(
            batch, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
            window=self._window, center=False, return_complex=True,
        )  # [batch, n_fft//2+1, frames]
        power = spec.real.square() + spec.imag.square()
        logmel = torch.log(torch.matmul(power.transpose(1, 2), self._mel) + self.log_floor)  # [batch, frames, n_mels]
        logmel = logmel.cpu().numpy()
        return [logmel[i, : self.n_frames(n)][None] for i, n in enumerate(lengths)]
