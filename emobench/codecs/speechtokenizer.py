"""SpeechTokenizer (Zhang et al., ICLR 2024) through its own pip package, an optional extra.

The package imports torchaudio (and its trainer's accelerate, beartype, lion-pytorch) at import time,
so the import is lazy and a missing or broken torchaudio becomes one MissingExtraError. Its checkpoints
(``fnlp/SpeechTokenizer``: ``config.json`` + ``SpeechTokenizer.pt``) are read from a local folder with
``torch.load(weights_only=True)``; the package's own ``load_from_checkpoint`` would unpickle freely.

Layout from its config.json: 16 kHz, strides 8x5x4x2 (hop 320, 50 Hz), ``dimension`` 1024, ``n_q`` 8
codebooks of ``codebook_size`` 1024 (4 kbps at 8). Its encoder LSTM is bidirectional: not causal.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from emobench.codecs.layout import CodecError, CodecLayout
from emobench.errors import require_extra

EXTRA = "speechtokenizer"
WHAT = ("the SpeechTokenizer codec (its package imports torchaudio, which must match your torch, e.g. "
        "torch 2.11 with torchaudio 2.11)")


def import_speechtokenizer():
    """The ``speechtokenizer`` module, or a MissingExtraError naming the extra (and the torchaudio trap)."""
    return require_extra("speechtokenizer", EXTRA, WHAT)


def layout_from_st_config(config: dict[str, Any]) -> CodecLayout:
    hop = int(math.prod(config["strides"]))
    n_q = int(config["n_q"])
    # FLAG: the paper decodes RVQ-1 and RVQ-1:8; every prefix is allowed here, as for DAC and Mimi.
    return CodecLayout("speechtokenizer", int(config["sample_rate"]), hop, config["sample_rate"] / hop,
                       int(config["dimension"]), n_q, int(config["codebook_size"]), tuple(range(1, n_q + 1)),
                       causal=False)


class SpeechTokenizerQuantizer:
    """SpeechTokenizer's RVQ (encodec-style greedy residual codebooks), same interface as CodecQuantizer."""

    def __init__(self, config: dict[str, Any], module: torch.nn.Module | None = None):
        self.config = dict(config)
        self.layout = layout_from_st_config(self.config)
        self.family = "speechtokenizer"
        if module is None:
            st = import_speechtokenizer()
            module = st.model.ResidualVectorQuantizer(dimension=self.config["dimension"], n_q=self.config["n_q"],
                                                      bins=self.config["codebook_size"])
        self.module = module.eval().float()
        self.device = torch.device("cpu")

    @classmethod
    def from_config_dict(cls, config: dict[str, Any]) -> SpeechTokenizerQuantizer:
        return cls(config)

    def config_dict(self) -> dict[str, Any]:
        return dict(self.config)

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach() for k, v in self.module.state_dict().items()}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(tensors, strict=True)
        self.to(next(iter(tensors.values())).device if tensors else self.device)

    def to(self, device) -> SpeechTokenizerQuantizer:
        self.device = torch.device(device)
        self.module.to(self.device)
        return self

    @torch.no_grad()
    def quantize(self, latent: torch.Tensor) -> torch.Tensor:  # [B, D, T] -> [B, n_q, T]
        return self.module.encode(latent.to(self.device, torch.float32), n_q=self.layout.n_codebooks).transpose(0, 1)

    @torch.no_grad()
    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:  # [B, d, T] -> [B, D, T]
        self.layout.check_depth(codes.shape[1], trained_only=False)
        return self.module.decode(codes.to(self.device, torch.long).transpose(0, 1))


def load_speechtokenizer(model: str):
    """A Codec from a local SpeechTokenizer folder (config.json + one .pt state dict)."""
    from emobench.codecs.models import Codec
    from emobench.upstreams.base import hash_files

    path = Path(str(model)).expanduser()
    if not path.is_dir():
        raise CodecError(f"SpeechTokenizer loads from a local folder (config.json + SpeechTokenizer.pt); {path} is not "
                         "one: download fnlp/SpeechTokenizer's speechtokenizer_hubert_avg folder and pass model=DIR")
    config_file, weights = path / "config.json", sorted(path.glob("*.pt"))
    if not config_file.is_file() or len(weights) != 1:
        raise CodecError(f"SpeechTokenizer folder {path} needs config.json and exactly one .pt checkpoint, "
                         f"found {[p.name for p in path.iterdir()]}")
    st = import_speechtokenizer()
    config = json.loads(config_file.read_text())
    net = st.SpeechTokenizer(config)
    try:
        net.load_state_dict(torch.load(weights[0], map_location="cpu", weights_only=True))
    except Exception as exc:
        raise CodecError(f"cannot load {weights[0]} into SpeechTokenizer({config_file}): {exc}") from exc
    quantizer = SpeechTokenizerQuantizer(config, net.quantizer)
    identity = {"loader": "codec", "family": "speechtokenizer", "weights_sha256": hash_files([*weights, config_file])}
    return Codec(net.eval(), quantizer, quantizer.layout, f"SpeechTokenizer folder {path}", identity)
