"""What a neural codec's residual codebooks cost: frame rate, codebooks, bits, and the trained depths.

Read from the codec's own config, never typed by hand, so that the bitrate emobench reports for ``d``
codebooks is the codec's real bandwidth: ``d x log2(codebook_size) x frame_rate_hz`` bit/s. EnCodec
24 kHz (``EncodecConfig()``'s defaults): 75 Hz x 10 bits, 2/4/8/16/32 codebooks = 1.5/3/6/12/24 kbps.

``trained_depths`` are the numbers of codebooks the codec was trained to decode: EnCodec only its
``target_bandwidths`` (quantizer dropout drew from those); DAC and Mimi any prefix (DAC's quantizer
dropout and Mimi's draw every count). Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emobench.errors import EmobenchError


class CodecError(EmobenchError, ValueError):
    """A codec that cannot be used as asked: unsupported model, bandwidth or number of codebooks."""


@dataclass(frozen=True)
class CodecLayout:
    family: str  # "encodec" | "dac" | "mimi" | "speechtokenizer"
    sample_rate: int  # Hz of the audio the codec takes
    hop_length: int  # samples per latent frame
    frame_rate_hz: float
    latent_dim: int  # channels of the encoder output, the quantizer's input
    n_codebooks: int
    codebook_size: int
    trained_depths: tuple[int, ...]
    causal: bool  # frames depend on past samples only, so zero-padded batches are exact

    @property
    def bits_per_codebook(self) -> float:
        return math.log2(self.codebook_size)

    def bits_per_frame(self, n_codebooks: int) -> float:
        return self.check_depth(n_codebooks, trained_only=False) * self.bits_per_codebook

    def bitrate_bps(self, n_codebooks: int) -> float:
        return self.bits_per_frame(n_codebooks) * self.frame_rate_hz

    def check_depth(self, n_codebooks: int, *, trained_only: bool = True) -> int:
        n = int(n_codebooks)
        if not 1 <= n <= self.n_codebooks:
            raise CodecError(f"{self.family} has {self.n_codebooks} codebooks; {n} were asked for")
        if trained_only and n not in self.trained_depths:
            raise CodecError(
                f"{self.family} was trained to decode {self.depths_text()} codebooks, not {n}; pick one of those "
                "(or prefixes=all to decode every prefix, including ones the codec never saw in training)"
            )
        return n

    def depth_for_kbps(self, kbps: float) -> int:
        """The number of codebooks whose bandwidth is exactly ``kbps``; CodecError otherwise (never rounded:
        transformers' EnCodec floors 2.0 kbps to 2 codebooks, i.e. 1.5 kbps, without a word)."""
        for n in self.trained_depths:
            if math.isclose(self.bitrate_bps(n), float(kbps) * 1000.0, rel_tol=1e-9, abs_tol=1e-6):
                return n
        offered = ", ".join(f"{self.bitrate_bps(n) / 1000:g}" for n in self.trained_depths)
        raise CodecError(f"{self.family} offers {offered} kbps, not {kbps:g} kbps")

    def depths_text(self) -> str:
        d = self.trained_depths
        contiguous = list(d) == list(range(1, self.n_codebooks + 1))
        return f"1..{self.n_codebooks}" if contiguous else ", ".join(map(str, d))

    def n_frames(self, n_samples: int) -> int:
        """Latent frames for ``n_samples`` of audio zero-padded to whole frames (what emobench feeds)."""
        return -(-int(n_samples) // self.hop_length)


def layout_from_config(config: Any) -> CodecLayout:
    """The layout of a transformers ``EncodecConfig``, ``DacConfig`` or ``MimiConfig``."""
    family = getattr(config, "model_type", None)
    if family == "encodec":
        return _encodec(config)
    if family == "dac":
        hop = int(math.prod(config.downsampling_ratios))
        return CodecLayout("dac", int(config.sampling_rate), hop, config.sampling_rate / hop,
                           int(config.hidden_size), int(config.n_codebooks), int(config.codebook_size),
                           tuple(range(1, int(config.n_codebooks) + 1)), causal=False)
    if family == "mimi":
        hop = int(round(config.sampling_rate / config.frame_rate))
        if not math.isclose(config.sampling_rate / hop, config.frame_rate):
            raise CodecError(f"mimi config: sampling_rate {config.sampling_rate} / frame_rate {config.frame_rate} "
                             "is not a whole number of samples per frame")
        n = int(config.num_quantizers)
        first = int(config.num_semantic_quantizers)  # the split RVQ needs every semantic codebook
        return CodecLayout("mimi", int(config.sampling_rate), hop, float(config.frame_rate), int(config.hidden_size),
                           n, int(config.codebook_size), tuple(range(first, n + 1)), causal=bool(config.use_causal_conv))
    raise CodecError(f"model type {family!r} is not a supported codec; supported: encodec, dac, mimi "
                     "(and speechtokenizer through its own package)")


def _encodec(config: Any) -> CodecLayout:
    if config.chunk_length_s is not None or int(config.audio_channels) != 1:
        raise CodecError("EnCodec models that encode in overlapping chunks or in stereo (encodec_48khz) are not "
                         "supported; use facebook/encodec_24khz")
    hop = int(math.prod(config.upsampling_ratios))
    frame_rate = float(math.ceil(config.sampling_rate / hop))  # transformers' EncodecConfig.frame_rate
    bits = math.log2(config.codebook_size)
    depths = []
    for bw in config.target_bandwidths:
        n = bw * 1000.0 / (frame_rate * bits)
        if not math.isclose(n, round(n)):
            raise CodecError(f"EnCodec bandwidth {bw} kbps is not a whole number of codebooks at {frame_rate:g} Hz "
                             f"x {bits:g} bits ({n:.3f})")
        depths.append(int(round(n)))
    return CodecLayout("encodec", int(config.sampling_rate), hop, frame_rate, int(config.hidden_size),
                       int(config.num_quantizers), int(config.codebook_size), tuple(sorted(depths)),
                       causal=bool(config.use_causal_conv))
