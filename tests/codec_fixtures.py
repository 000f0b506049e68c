"""Tiny randomly initialised EnCodec, DAC and Mimi codecs built from transformers configs (no downloads).

All three run at 4 kHz with a 40-sample hop (100 Hz frames) and 16-entry codebooks. transformers
initialises EnCodec's and Mimi's codebooks to zeros (they are buffers filled by training), which would
make every code 0; the builders fill them with random codewords at the latents' scale, so the codes
carry information. ``REAL_CONFIGS`` are the published checkpoints' configurations, built in code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

SR = 4000
HOP = 40


def tiny_config(family: str):
    from transformers import DacConfig, EncodecConfig, MimiConfig

    if family == "encodec":  # 100 Hz x 4 bits: 0.8 / 1.6 / 3.2 kbps = 2 / 4 / 8 codebooks
        return EncodecConfig(sampling_rate=SR, hidden_size=16, num_filters=4, upsampling_ratios=[5, 4, 2],
                             codebook_size=16, target_bandwidths=[0.8, 1.6, 3.2], num_lstm_layers=1)
    if family == "dac":
        return DacConfig(encoder_hidden_size=4, downsampling_ratios=[2, 5, 4], decoder_hidden_size=16,
                         n_codebooks=6, codebook_size=16, codebook_dim=4, sampling_rate=SR)
    if family == "mimi":
        return MimiConfig(sampling_rate=SR, hidden_size=16, num_filters=4, upsampling_ratios=[5, 4],
                          codebook_size=16, codebook_dim=8, num_quantizers=6, vector_quantization_hidden_dimension=8,
                          upsample_groups=16, num_hidden_layers=1, intermediate_size=32, num_attention_heads=2,
                          num_key_value_heads=2, sliding_window=16, max_position_embeddings=512)
    raise ValueError(family)


def tiny_codec(family: str, *, seed: int = 0):
    """A transformers codec model in eval mode with random weights and random codebooks.

    Codewords of stage ``i`` are drawn at the scale of what that stage quantizes (the encoder's latents,
    projected where the codec projects them, shrinking 0.6x per stage as residuals do), so that codes vary
    from frame to frame as a trained codec's do. DAC's codebooks are cosine lookups: its init is kept."""
    import re

    from transformers import AutoModel

    torch.manual_seed(seed)
    model = AutoModel.from_config(tiny_config(family)).eval()
    if family == "dac":
        return model
    x = torch.from_numpy(np.stack(waves([25 * HOP] * 4, seed=seed)))[:, None]
    with torch.no_grad():
        if family == "encodec":
            scale = float(model.encoder(x).std())
        else:
            proj = model.quantizer.semantic_residual_vector_quantizer.input_proj
            scale = float(proj(model.encoder(x).latents).std())
        for name, buf in model.named_buffers():
            stage = re.search(r"layers\.(\d+)\.", name)
            if name.endswith((".embed", ".embed_avg", ".embed_sum")) and stage:
                buf.copy_(torch.randn_like(buf) * scale * 0.6 ** int(stage.group(1)))
            elif name.endswith(".cluster_usage"):
                buf.fill_(1.0)
    return model


def save_tiny_codec(folder: Path, family: str, *, seed: int = 0) -> Path:
    model = tiny_codec(family, seed=seed)
    model.save_pretrained(folder)
    return folder


def waves(lengths: list[int], *, seed: int = 0) -> list[np.ndarray]:
    """Noisy tones, float32 mono at SR, one per length (in samples)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, n in enumerate(lengths):
        t = np.arange(n) / SR
        w = 0.4 * np.sin(2 * np.pi * (110 + 37 * i) * t) + 0.1 * rng.standard_normal(n)
        out.append(w.astype(np.float32))
    return out
