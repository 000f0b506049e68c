"""STFT power spectrogram, VQ-MAE-S' input (section 3.1.1): 64 ms Hann window, 70% overlap, D = 513 bins.

Framing is ``center=False`` (frame i covers samples [i * hop, i * hop + n_fft)), so each frame depends
only on its own window: zero-padding a batch and trimming to each utterance's frame count equals
computing utterances one by one. At 16 kHz with hop 307 that is 16000 / 307 = 52.12 frames per second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from emobench.vqmaes.config import SpectrogramConfig

PEAK_FLOOR = 1e-8  # peak normalisation leaves (near-)silent waveforms as they are


def n_frames(n_samples: int, cfg: SpectrogramConfig) -> int:
    """Frames of a waveform of ``n_samples`` samples (0 when shorter than one window)."""
    if n_samples < cfg.n_fft:
        return 0
    return 1 + (int(n_samples) - cfg.n_fft) // cfg.hop_length


def power_spectrograms(
    waves: Sequence[np.ndarray | torch.Tensor], cfg: SpectrogramConfig, *, device: torch.device | str = "cpu"
) -> list[torch.Tensor]:
    """|STFT|^2 of each mono waveform: float32 ``[n_frames_i, n_bins]`` on ``device``, in one batched STFT."""
    device = torch.device(device)
    if not waves:
        return []
    lengths = [int(w.shape[0]) for w in waves]
    batch = torch.zeros(len(waves), max(max(lengths), cfg.n_fft), dtype=torch.float32, device=device)
    for i, w in enumerate(waves):  # [batch, samples]
        t = torch.as_tensor(w, dtype=torch.float32).to(device)
        if cfg.peak_normalize:
            t = t / t.abs().max().clamp_min(PEAK_FLOOR)
        batch[i, : t.shape[0]] = t
    window = torch.hann_window(cfg.win_length, periodic=True, device=device)  # librosa's default window
    spec = torch.stft(
        batch,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        win_length=cfg.win_length,
        window=window,
        center=False,
        return_complex=True,
    )  # [batch, n_bins, frames]
    power = (spec.real.square() + spec.imag.square()).transpose(1, 2)  # [batch, frames, n_bins]
    return [power[i, : n_frames(n, cfg)].contiguous() for i, n in enumerate(lengths)]
