"""Whisper's front end in torch: 30 s windows and the log-mel of WhisperFeatureExtractor.

Same computation as transformers' WhisperFeatureExtractor (slaney mel filters, centred STFT with a
periodic Hann window, log10 clamped at max - 8, then (x + 4) / 4), so hub checkpoints see the input
they were trained on; done here in torch so it runs batched on the model's device.
"""

from __future__ import annotations

import math

import numpy as np
import torch

WINDOW_SAMPLES = 480_000  # 30 s at 16 kHz: the encoder always takes exactly this much (padded)


class WhisperFrontend:
    def __init__(self, *, n_mels: int = 80, sample_rate: int = 16_000, n_fft: int = 400, hop_length: int = 160):
        from transformers.audio_utils import mel_filter_bank

        self.n_mels, self.sample_rate, self.n_fft, self.hop_length = n_mels, sample_rate, n_fft, hop_length
        self.filters = torch.from_numpy(
            mel_filter_bank(
                num_frequency_bins=1 + n_fft // 2, num_mel_filters=n_mels, min_frequency=0.0,
                max_frequency=8000.0, sampling_rate=sample_rate, norm="slaney", mel_scale="slaney",
            ).astype(np.float32)
        )  # [n_fft//2+1, n_mels]

    def chunks(self, wave: np.ndarray) -> list[np.ndarray]:
        """30 s pieces of a waveform (the last one shorter)."""
        return [wave[s : s + WINDOW_SAMPLES] for s in range(0, max(len(wave), 1), WINDOW_SAMPLES)]

    def n_frames(self, n_samples: int) -> int:
        """Encoder frames (50 Hz) covering real audio: ceil(samples / 320) per 30 s window."""
        full, rest = divmod(int(n_samples), WINDOW_SAMPLES)
        return full * (WINDOW_SAMPLES // (2 * self.hop_length)) + math.ceil(rest / (2 * self.hop_length))

    def log_mel(self, windows: list[np.ndarray], *, device: torch.device) -> torch.Tensor:
        """``[n_windows, n_mels, 3000]`` log-mel features of zero-padded 30 s windows."""
        batch = torch.zeros(len(windows), WINDOW_SAMPLES, dtype=torch.float32)  # [windows, samples]
        for i, w in enumerate(windows):
            batch[i, : len(w)] = torch.from_numpy(np.asarray(w, dtype=np.float32))
        batch = batch.to(device)
        window = torch.hann_window(self.n_fft, device=device)
        stft = torch.stft(batch, self.n_fft, self.hop_length, window=window, return_complex=True)
        power = stft[..., :-1].abs() ** 2  # [windows, freqs, 3000]
        mel = torch.matmul(self.filters.to(device).T, power)  # [windows, n_mels, 3000]
        log_spec = torch.clamp(mel, min=1e-10).log10()
        peak = log_spec.amax(dim=(1, 2), keepdim=True)
        log_spec = torch.maximum(log_spec, peak - 8.0)
        return (log_spec + 4.0) / 4.0
