"""A neural codec's own residual codebooks as an emobench quantizer (EnCodec, DAC, Mimi, SpeechTokenizer).

Frames are the codec's continuous encoder latent (``emobench.upstreams.codecs``, the same ``model``).
``encode`` runs the codec's quantizer with every codebook; ``decode(codes, depth)`` dequantizes the first
``depth`` codebooks with the codec's own dequantizer, so depth ``d`` is exactly the codec at ``d``
codebooks and ``bits_per_frame(d) = d x log2(codebook_size)``: times the codec's frame rate, the
codec's real bandwidth (EnCodec 24 kHz: 2/4/8/16/32 codebooks = 1.5/3/6/12/24 kbps at 75 Hz).

``prefixes="trained"`` (default) allows only the depths the codec was trained to decode (EnCodec: its
target bandwidths; DAC, Mimi: every prefix) and raises for others; ``prefixes="all"`` allows every
prefix. ``depths`` lists the allowed ones: sweep those, not ``1..n_stages``.

``fit`` trains nothing: it loads the codec (hub id or local folder, as the upstream does), takes its
quantizer and checks that the frames have the codec's latent width. What ``save`` writes is the codec's
quantizer weights and config, so a saved CodecRVQ loads without the checkpoint.
"""

from __future__ import annotations

from typing import Any, Literal

import torch

from emobench.quantizers.base import Progress, Quantizer, QuantizerError

STATE_PREFIX = "rvq."


class CodecRVQ(Quantizer):
    """The RVQ of the codec at ``model`` (``family`` picks SpeechTokenizer's loader; others are detected)."""

    # Set on the upstream (-U model=DIR) and not here: taken from it (resolve), so both read one checkpoint.
    follows_upstream = ("model", "revision", "local_files_only")

    def __init__(self, *, model: str, revision: str | None = None,
                 family: Literal["encodec", "dac", "mimi", "speechtokenizer"] | None = None,
                 prefixes: Literal["trained", "all"] = "trained", local_files_only: bool = False):
        if prefixes not in ("trained", "all"):
            raise QuantizerError(f"CodecRVQ: prefixes must be 'trained' or 'all', got {prefixes!r}")
        super().__init__(model=str(model), revision=revision, family=family, prefixes=prefixes,
                         local_files_only=bool(local_files_only))
        self.codec_quantizer: Any = None  # emobench.codecs.quantizer.CodecQuantizer, set by fit or load

    @classmethod
    def from_quantizer(cls, codec_quantizer: Any, *, model: str, identity: dict[str, Any] | None = None,
                       prefixes: Literal["trained", "all"] = "trained") -> CodecRVQ:
        """A ready CodecRVQ from a codec quantizer already in memory (``Codec.quantizer``), without loading
        the codec again; ``model`` is recorded as where it came from."""
        q = cls(model=model, family=codec_quantizer.family, prefixes=prefixes)
        q.codec_quantizer = codec_quantizer
        q.device = codec_quantizer.device
        q.dim = int(codec_quantizer.layout.latent_dim)
        q.fit_info = _fit_info(codec_quantizer, identity or {"model": model})
        return q

    # -- layout ---------------------------------------------------------------------------------
    @property
    def layout(self):
        if self.codec_quantizer is None:
            raise QuantizerError("CodecRVQ: not fitted; call fit() (which loads the codec) or load()")
        return self.codec_quantizer.layout

    @property
    def n_stages(self) -> int:  # type: ignore[override]
        """The codec's number of codebooks (0 until fit or load has read the codec)."""
        return 0 if self.codec_quantizer is None else self.layout.n_codebooks

    @property
    def codebook_size(self) -> int:  # type: ignore[override]
        return 0 if self.codec_quantizer is None else self.layout.codebook_size

    @property
    def frame_rate_hz(self) -> float:
        return float(self.layout.frame_rate_hz)

    @property
    def depths(self) -> list[int]:
        """The depths ``decode`` accepts (the codec's trained ones unless ``prefixes="all"``)."""
        if self.params["prefixes"] == "all":
            return list(range(1, self.n_stages + 1))
        return list(self.layout.trained_depths)

    def check_depth(self, depth: int | None) -> int:
        depth = self.n_stages if depth is None else int(depth)
        if depth not in self.depths:
            raise QuantizerError(
                f"{self.name}: {self.layout.family} decodes {self.layout.depths_text()} codebooks "
                f"({', '.join(f'{self.layout.bitrate_bps(d) / 1000:g}' for d in self.depths)} kbps), not {depth}; "
                "sweep quantizer.depths, or set prefixes=all to decode prefixes the codec was not trained on"
            )
        return depth

    def bitrate_bps(self, depth: int | None = None) -> float:
        return self.bits_per_frame(depth) * self.frame_rate_hz

    # -- the five hooks ---------------------------------------------------------------------------
    def _fit(self, source: Any, *, device: torch.device, seed: int, progress: Progress | None) -> None:
        from emobench.codecs.load import load_codec

        p = self.params
        codec = load_codec(p["model"], revision=p["revision"], local_files_only=p["local_files_only"],
                           family=p["family"])
        if source.dim != codec.layout.latent_dim:
            raise QuantizerError(
                f"{self.name}: {codec.source} quantizes {codec.layout.latent_dim}-d encoder latents, but the frames "
                f"are {source.dim}-d; use the codec's own upstream (the same model) for these codebooks"
            )
        self.codec_quantizer = codec.quantizer.to(device)
        self.fit_info = _fit_info(codec.quantizer, codec.identity)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:  # [n, D] -> [n, n_codebooks]
        return self.codec_quantizer.quantize(x.T[None])[0].T.contiguous()

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:  # [n, >=depth] -> [n, D]
        if codes.shape[1] < depth:
            raise QuantizerError(f"{self.name}.decode: codes have {codes.shape[1]} column(s), depth {depth} needs {depth}")
        if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise QuantizerError(f"{self.name}.decode: codes outside 0..{self.codebook_size - 1}; made by another codec?")
        return self.codec_quantizer.dequantize(codes[:, :depth].T[None])[0].T.float()

    def _state(self) -> dict[str, torch.Tensor]:
        if self.codec_quantizer is None:
            raise QuantizerError(f"{self.name}: not fitted; call fit() or load()")
        return {STATE_PREFIX + k: v for k, v in self.codec_quantizer.state().items()}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        state = {k[len(STATE_PREFIX):]: v for k, v in tensors.items() if k.startswith(STATE_PREFIX)}
        if self.codec_quantizer is None:
            self.codec_quantizer = _rebuild(self.fit_info)
        self.codec_quantizer.load_state(state)


def _fit_info(codec_quantizer: Any, identity: dict[str, Any]) -> dict[str, Any]:
    layout = codec_quantizer.layout
    return {"codec": identity, "family": layout.family, "codec_config": codec_quantizer.config_dict(),
            "frame_rate_hz": layout.frame_rate_hz, "trained_depths": list(layout.trained_depths)}


def _rebuild(fit_info: dict[str, Any]):
    """The codec's quantizer module from the config saved at fit time (no checkpoint needed)."""
    family, config = fit_info.get("family"), fit_info.get("codec_config")
    if not family or not config:
        raise QuantizerError("CodecRVQ: the saved config lacks the codec's family and config; refit it")
    if family == "speechtokenizer":
        from emobench.codecs.speechtokenizer import SpeechTokenizerQuantizer

        return SpeechTokenizerQuantizer.from_config_dict(config)
    from emobench.codecs.quantizer import CodecQuantizer

    return CodecQuantizer.from_config_dict(family, config)
