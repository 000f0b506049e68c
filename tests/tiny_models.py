"""Builders of tiny randomly initialised models and audio shared by the upstream and cache tests.

Nothing is downloaded: transformers configs are built in code and saved with ``save_pretrained``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emobench.corpora.base import Utterance
from emobench.upstreams.base import Upstream

SR = 16_000


def write_wavs(folder: Path, durations_s: list[float], *, seed: int = 0, sr: int = SR) -> list[Utterance]:
    """Noisy tones as 16-bit wav files, one Utterance per duration."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    utts = []
    for i, dur in enumerate(durations_s):
        n = int(dur * sr)
        t = np.arange(n) / sr
        wave = 0.3 * np.sin(2 * np.pi * (120 + 40 * i) * t) + 0.05 * rng.standard_normal(n)
        path = folder / f"u{i:03d}.wav"
        sf.write(path, wave.astype(np.float32), sr, subtype="PCM_16")
        utts.append(Utterance(id=f"toy/u{i:03d}", corpus="toy", path=str(path), speaker=f"s{i % 2}", label="neutral"))
    return utts


class ToyUpstream(Upstream):
    """Deterministic, per-utterance features (no batching effects): frame statistics at 50 Hz.

    ``delay_s`` sleeps per batch (to kill a run mid-way); ``calls`` counts extracted utterances.
    """

    def __init__(self, *, n_layers: int = 3, dim: int = 4, delay_s: float = 0.0, name: str = "toy"):
        super().__init__()
        self.name, self.n_layers, self.dim, self.default_layer = name, n_layers, dim, n_layers - 1
        self.frame_rate_hz, self.min_samples = 50.0, 400
        self.delay_s = delay_s
        self.calls = 0

    def identity(self) -> dict:
        return {"loader": "toy", "n_layers": self.n_layers, "dim": self.dim}

    def n_frames(self, n_samples: int) -> int:
        return 0 if n_samples < 400 else 1 + (n_samples - 400) // 320

    def _extract(self, waves, layers):
        time.sleep(self.delay_s)
        self.calls += len(waves)
        out = []
        for w in waves:
            t = self.n_frames(len(w))
            frames = np.lib.stride_tricks.sliding_window_view(w, 400)[::320][:t]  # [t, 400]
            base = np.stack([frames.mean(1), frames.std(1), np.abs(frames).max(1), frames[:, 0]], 1)[:, : self.dim]
            out.append(np.stack([base * (layer + 1) for layer in layers]).astype(np.float32))
        return out


# -- tiny transformers models ---------------------------------------------------------------------
_CONV = dict(conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2))  # receptive field 20 samples? no: 15


def tiny_hf_config(family: str, **overrides):
    """A 2-layer config of ``family`` (wavlm, hubert, wav2vec2, whisper) with small dimensions."""
    import transformers as tf

    common = dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2),
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
        layerdrop=0.0, mask_time_prob=0.0,
    )
    if family == "whisper":
        cfg = dict(
            d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, max_source_positions=1500,
            vocab_size=100, max_target_positions=32, dropout=0.0,
        )
        cfg.update(overrides)
        return tf.WhisperConfig(**cfg)
    cls = {"wavlm": tf.WavLMConfig, "hubert": tf.HubertConfig, "wav2vec2": tf.Wav2Vec2Config}[family]
    cfg = {**common, **overrides}
    if family == "wavlm":
        cfg.setdefault("num_buckets", 32)
        cfg.setdefault("max_bucket_distance", 100)
    return cls(**cfg)


def save_tiny_hf(folder: Path, family: str, *, seed: int = 0, **overrides) -> Path:
    """Build and save a randomly initialised tiny model; returns its directory."""
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    config = tiny_hf_config(family, **overrides)
    if family == "whisper":
        model = tf.WhisperModel(config)
    else:
        model = {"wavlm": tf.WavLMModel, "hubert": tf.HubertModel, "wav2vec2": tf.Wav2Vec2Model}[family](config)
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    return folder
