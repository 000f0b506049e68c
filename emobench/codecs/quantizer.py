"""A codec's own residual quantizer, alone: continuous latent frames <-> codes, for EnCodec, DAC and Mimi.

The transformers module is rebuilt from the codec's config (no weights needed to build it) and loaded
with the codec's codebooks, so a saved ``CodecRVQ`` needs neither the checkpoint nor the network. Every
codec here quantizes each latent frame on its own (EnCodec's and Mimi's Euclidean codebooks, DAC's
per-codebook 1x1 projections), so frames can be quantized in any grouping.

Shapes: latents ``[batch, latent_dim, frames]``, codes ``[batch, n_codebooks, frames]`` (int64).
"""

from __future__ import annotations

from typing import Any

import torch

from emobench.codecs.layout import CodecError, CodecLayout, layout_from_config


def _config_class(family: str):
    import transformers

    classes = {"encodec": "EncodecConfig", "dac": "DacConfig", "mimi": "MimiConfig"}
    if family not in classes:
        raise CodecError(f"no transformers quantizer for codec family {family!r}")
    return getattr(transformers, classes[family])


class CodecQuantizer:
    """The RVQ of a transformers codec (eval mode, fp32). ``config`` is the codec's transformers config."""

    def __init__(self, config: Any, module: torch.nn.Module | None = None):
        self.config = config
        self.layout: CodecLayout = layout_from_config(config)
        self.family = self.layout.family
        self.module = (module if module is not None else _build(config)).eval().float()
        self.device = next(iter(self.module.state_dict().values())).device

    @classmethod
    def from_config_dict(cls, family: str, config: dict[str, Any]) -> CodecQuantizer:
        return cls(_config_class(family).from_dict(dict(config)))

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    # -- weights --------------------------------------------------------------------------------
    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach() for k, v in self.module.state_dict().items()}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        device = next(iter(tensors.values())).device if tensors else self.device
        self.module.to(device)
        try:
            self.module.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise CodecError(f"{self.family} codebooks do not fit its config: {str(exc).splitlines()[0]}") from exc
        self.device = device
        self._drop_cached_embeddings()

    def to(self, device: torch.device | str) -> CodecQuantizer:
        self.module.to(device)
        self.device = torch.device(device)
        self._drop_cached_embeddings()
        return self

    def _drop_cached_embeddings(self) -> None:
        # Mimi's codebooks cache embed_sum / cluster_usage in a plain attribute on first use; a new state or
        # device would otherwise keep serving the old (or wrongly placed) codewords.
        for sub in self.module.modules():
            if hasattr(sub, "_embed"):
                sub._embed = None

    # -- coding ---------------------------------------------------------------------------------
    @torch.no_grad()
    def quantize(self, latent: torch.Tensor) -> torch.Tensor:
        """``[B, D, T]`` -> codes ``[B, n_codebooks, T]`` with every codebook (greedy RVQ, so the first
        ``d`` rows equal the codec's own ``d``-codebook encoding)."""
        latent = latent.to(self.device, torch.float32)
        if self.family == "encodec":
            return self.module.encode(latent, bandwidth=None).transpose(0, 1)
        if self.family == "dac":
            return self.module(latent)[1]
        return self.module.encode(latent).transpose(0, 1)  # mimi: semantic then acoustic codebooks

    @torch.no_grad()
    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, d, T]`` (the first ``d`` codebooks) -> the quantized latent ``[B, D, T]``."""
        codes = codes.to(self.device, torch.long)
        self.layout.check_depth(codes.shape[1], trained_only=False)
        if self.family == "encodec":
            return self.module.decode(codes.transpose(0, 1))
        if self.family == "dac":
            return self.module.from_codes(codes)[0]
        return self.module.decode(codes)


def _build(config: Any) -> torch.nn.Module:
    family = config.model_type
    if family == "encodec":
        from transformers.models.encodec.modeling_encodec import EncodecResidualVectorQuantizer

        return EncodecResidualVectorQuantizer(config)
    if family == "dac":
        from transformers.models.dac.modeling_dac import DacResidualVectorQuantizer

        return DacResidualVectorQuantizer(config)
    if family == "mimi":
        from transformers.models.mimi.modeling_mimi import MimiSplitResidualVectorQuantizer

        return MimiSplitResidualVectorQuantizer(config)
    raise CodecError(f"no transformers quantizer for codec family {family!r}")
