"""A loaded neural audio codec (EnCodec, DAC, Mimi, SpeechTokenizer): audio <-> continuous latent <-> codes.

``emobench.codecs.load.load_codec`` builds one. A ``Codec`` exposes the pieces emobench composes:
``encode_latent`` (the encoder's output before quantization, what HYFuse calls a CBR and what the codec
upstream serves as frames), the codec's own ``quantizer`` (``emobench.codecs.quantizer``) and
``decode_latent`` (the decoder, for resynthesis).

Audio is zero-padded at the end to a whole number of frames before encoding (as DAC's and Mimi's feature
extractors do), so ``n_frames = ceil(n_samples / hop_length)`` for every codec.

Shapes: audio ``[batch, samples]``, latents ``[batch, latent_dim, frames]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from emobench.codecs.layout import CodecLayout

FAMILIES = ("encodec", "dac", "mimi")


@dataclass
class Codec:
    """A loaded codec. ``model`` is the transformers module in eval mode."""

    model: Any
    quantizer: Any  # CodecQuantizer (or the SpeechTokenizer one): quantize / dequantize latents
    layout: CodecLayout
    source: str  # shown in errors
    identity: dict[str, Any] = field(default_factory=dict)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    dtype: torch.dtype = torch.float32

    @property
    def family(self) -> str:
        return self.layout.family

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> Codec:
        self.device = torch.device(device) if device is not None else self.device
        self.dtype = dtype or self.dtype
        self.model.to(device=self.device)
        for child in self.model.children():  # the codebooks stay fp32: the quantizer API is fp32
            if child is not self.quantizer.module:
                child.to(dtype=self.dtype)
        self.quantizer.to(self.device)
        return self

    def pad_to_frames(self, wave: np.ndarray, min_samples: int = 0) -> np.ndarray:
        """``[samples]`` zero-padded at the end to whole frames (and to at least ``min_samples``)."""
        n = max(int(wave.shape[0]), int(min_samples))
        target = self.layout.n_frames(n) * self.layout.hop_length
        return np.pad(wave, (0, target - wave.shape[0])) if target > wave.shape[0] else wave

    @torch.no_grad()
    def encode_latent(self, audio: torch.Tensor) -> torch.Tensor:
        """``[B, S]`` (S a multiple of hop_length) -> ``[B, latent_dim, S / hop_length]``."""
        x = audio.to(self.device, self.dtype)[:, None, :]  # [B, 1, S]
        if self.family in ("encodec", "dac", "speechtokenizer"):
            return self.model.encoder(x)
        encoder = self.model.encoder
        if hasattr(encoder, "encoder_seanet"):  # transformers >= 5: MimiEncoderModel returns the latents
            return encoder(x).latents
        emb = encoder(x)  # transformers 4: SEANet, then the encoder transformer, then the 2x downsampling
        emb = self.model.encoder_transformer(emb.transpose(1, 2))[0].transpose(1, 2)
        return self.model.downsample(emb)

    @torch.no_grad()
    def decode_latent(self, latent: torch.Tensor) -> torch.Tensor:
        """``[B, latent_dim, T]`` -> audio ``[B, T * hop_length]`` (the decoder's full output)."""
        z = latent.to(self.device, self.dtype)
        if self.family in ("encodec", "dac", "speechtokenizer"):
            return self.model.decoder(z)[:, 0]
        decoder = self.model.decoder
        if hasattr(decoder, "decoder_seanet"):  # transformers >= 5
            return decoder(z).audio_values[:, 0]
        emb = self.model.upsample(z)
        emb = self.model.decoder_transformer(emb.transpose(1, 2))[0].transpose(1, 2)
        return decoder(emb)[:, 0]
