"""Neural audio codecs as upstreams: the encoder's continuous latent (before quantization) as frames.

EnCodec (``facebook/encodec_24khz``: 128-d at 75 Hz, 24 kHz audio), DAC (``descript/dac_16khz``: 1024-d at
50 Hz), Mimi (``kyutai/mimi``: 512-d at 12.5 Hz, 24 kHz) through transformers, SpeechTokenizer (1024-d at
50 Hz) through its own package. The cache resamples audio to the codec's rate (``sample_rate``), and
``emobench.quantizers.codec_rvq`` quantizes these frames with the codec's own codebooks. One layer (0).

Batching (batched must equal one-by-one): audio is zero-padded to whole frames first, so every frame of
a causal codec (EnCodec 24 kHz, Mimi) sees only its own utterance's past: zero-padded, masked batches
are then exact (``batch_mode="masked"``, used on GPUs). Non-causal codecs (DAC, SpeechTokenizer's
bidirectional LSTM, EnCodec 32 kHz) see the padding, so they run pad-free: only utterances of equal
padded length share a forward pass. CPUs run pad-free too (padding only costs compute there).

``pad_to_s`` pads every utterance to at least that many seconds before encoding, as HYFuse does ("we pad
the audios to the length of the maximum duration audio in the respective dataset"): all utterances
then have the same number of frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from emobench.errors import EmobenchError
from emobench.upstreams.base import Upstream


class CodecUpstream(Upstream):
    """A codec's encoder output ``[1, frames, latent_dim]`` per utterance, from a hub id or a local folder."""

    def __init__(
        self,
        *,
        model: str,
        revision: str | None = None,
        family: Literal["encodec", "dac", "mimi", "speechtokenizer"] | None = None,
        batch_mode: Literal["auto", "masked", "pad-free"] = "auto",
        pad_to_s: float | None = None,
        default_layer: int = 0,
        name: str | None = None,
        local_files_only: bool = False,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        from emobench.codecs.load import load_codec

        self.codec = load_codec(model, revision=revision, local_files_only=local_files_only, family=family)
        layout = self.codec.layout
        self.name = name or Path(str(model)).name
        self.sample_rate, self.frame_rate_hz = layout.sample_rate, float(layout.frame_rate_hz)
        self.n_layers, self.dim, self.min_samples = 1, layout.latent_dim, layout.hop_length
        self.default_layer = int(default_layer)
        self.check_layers([self.default_layer])
        if batch_mode == "masked" and not layout.causal:
            raise EmobenchError(f"upstream {self.name}: {layout.family} is not causal, so padded batches change its "
                                "frames; use batch_mode=pad-free (or auto)")
        if batch_mode not in ("auto", "masked", "pad-free"):
            raise EmobenchError(f"upstream {self.name}: batch_mode must be auto, masked or pad-free")
        self.batch_mode = batch_mode
        if pad_to_s is not None and not pad_to_s > 0:
            raise EmobenchError(f"upstream {self.name}: pad_to_s must be a positive number of seconds, got {pad_to_s}")
        self.pad_to_samples = 0 if pad_to_s is None else int(round(float(pad_to_s) * self.sample_rate))
        self._identity = {**self.codec.identity, "pad_to_samples": self.pad_to_samples}
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def _move(self) -> None:
        self.codec.to(self.device, self.dtype)

    def n_frames(self, n_samples: int) -> int:
        return self.codec.layout.n_frames(max(int(n_samples), self.pad_to_samples))

    def _masked(self) -> bool:
        if self.batch_mode == "auto":
            return self.codec.layout.causal and self.device.type != "cpu"
        return self.batch_mode == "masked"

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        padded = [self.codec.pad_to_frames(w, self.pad_to_samples) for w in waves]
        groups: dict[int, list[int]] = {}
        for i, w in enumerate(padded):
            groups.setdefault(0 if self._masked() else w.shape[0], []).append(i)
        out: list[np.ndarray | None] = [None] * len(waves)
        for idx in groups.values():
            for i, feats in zip(idx, self._forward([padded[i] for i in idx]), strict=True):
                out[i] = feats[None]  # [1, frames, dim]: the one layer
        return out  # type: ignore[return-value]

    def _forward(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        lengths = [w.shape[0] for w in waves]
        batch = torch.zeros(len(waves), max(lengths))  # [batch, samples], zero-padded to the longest
        for i, w in enumerate(waves):
            batch[i, : len(w)] = torch.from_numpy(w)
        latent = self.codec.encode_latent(batch).float().transpose(1, 2).cpu().numpy()  # [batch, frames, dim]
        return [latent[i, : self.codec.layout.n_frames(n)] for i, n in enumerate(lengths)]
