"""The upstream contract: waveforms in, per-layer frame features out, with each utterance's true length.

Every backend (transformers, funasr, s3prl, fbank, opensmile, precomputed) subclasses ``Upstream`` and
implements ``_extract``; the checks that every caller needs (layer range, dtype, receptive field) live
here so that the cache and the runner can treat all backends alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emobench.errors import AudioError, EmobenchError


class Upstream:
    """Base class. Subclasses set the attributes below in ``__init__`` and implement ``_extract``.

    Layers are indexed ``0..n_layers-1``; for transformer encoders layer 0 is the CNN/embedding output
    (as in ``hidden_states``) and layer ``i`` the output of transformer block ``i``.
    """

    name: str = "upstream"
    sample_rate: int = 16_000  # Hz, of the waveforms ``extract`` expects
    frame_rate_hz: float = 50.0
    n_layers: int = 1
    dim: int = 0  # feature dimension of every layer
    default_layer: int = 0
    min_samples: int = 400  # receptive field of one output frame, in samples
    reads_audio: bool = True  # False: features are read per utterance (``extract_utterance``), not from audio

    def __init__(self) -> None:
        import torch

        self.device = torch.device("cpu")
        self.dtype = torch.float32

    # -- what determines the features ---------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """Everything that determines the features (loader, model + revision or weight hash, params).

        The feature cache keys entries on it, so two upstreams with equal identities must give equal
        features. The device and batching are deliberately not part of it. Loaders set
        ``self._identity`` while loading; weight-free upstreams override this method.
        """
        identity = getattr(self, "_identity", None)
        if identity is None:
            raise NotImplementedError(f"{type(self).__name__} sets no _identity and does not override identity()")
        return dict(identity)

    # -- placement ------------------------------------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> Upstream:
        """Move to ``device`` (a torch.device or "auto"/"cpu"/"cuda[:N]") and optionally fp16/bf16."""
        from emobench.device import resolve_device, resolve_dtype

        self.device = resolve_device(device if device is not None else self.device)
        if dtype is None:  # keep half precision only while on a GPU
            dtype = self.dtype if self.device.type != "cpu" else "fp32"
        self.dtype = resolve_dtype(dtype, self.device)
        self._move()
        return self

    def _move(self) -> None:
        """Move model weights to ``self.device`` / ``self.dtype``; weight-free upstreams do nothing."""

    # -- extraction -----------------------------------------------------------------------------
    def n_frames(self, n_samples: int) -> int:
        """Number of output frames for a waveform of ``n_samples`` samples."""
        raise NotImplementedError

    def check_layers(self, layers: Sequence[int] | None) -> list[int]:
        if layers is None:
            return list(range(self.n_layers))
        layers = [int(x) for x in layers]
        if not layers:
            raise EmobenchError(f"upstream {self.name}: empty layer selection; pass layers 0..{self.n_layers - 1}")
        bad = [x for x in layers if not 0 <= x < self.n_layers]
        if bad:
            raise EmobenchError(
                f"upstream {self.name}: layer {bad[0]} out of range; it has layers 0..{self.n_layers - 1} "
                f"(default {self.default_layer})"
            )
        return layers

    def check_waves(self, waves: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = []
        for i, wave in enumerate(waves):
            wave = np.asarray(wave, dtype=np.float32)
            if wave.ndim != 1:
                raise AudioError(f"upstream {self.name}: waveform {i} must be mono [samples], got shape {wave.shape}")
            if wave.shape[0] < self.min_samples:
                raise AudioError(
                    f"upstream {self.name}: waveform {i} has {wave.shape[0]} samples "
                    f"({wave.shape[0] / self.sample_rate * 1000:.0f} ms), shorter than its receptive field of "
                    f"{self.min_samples} samples ({self.min_samples / self.sample_rate * 1000:.0f} ms); "
                    "drop or pad such utterances"
                )
            if not np.isfinite(wave).all():
                raise AudioError(f"upstream {self.name}: waveform {i} contains NaN or infinite samples")
            out.append(wave)
        return out

    def extract(self, waves: Sequence[np.ndarray], *, layers: Sequence[int] | None = None) -> list[np.ndarray]:
        """Features of each waveform: float32 ``[len(layers), n_frames_i, dim]`` with the true frame count.

        ``waves`` are mono float32 arrays at ``self.sample_rate``; they form one batch, so callers size
        batches (the cache does it by total duration). Batched output equals one-by-one output.
        """
        layers = self.check_layers(layers)
        waves = self.check_waves(waves)
        if not waves:
            return []
        feats = self._extract(waves, layers)
        out = []
        for wave, f in zip(waves, feats, strict=True):
            f = np.ascontiguousarray(f, dtype=np.float32)
            expected = self.n_frames(wave.shape[0])
            if f.shape != (len(layers), expected, self.dim):
                raise EmobenchError(
                    f"upstream {self.name}: produced shape {f.shape}, expected {(len(layers), expected, self.dim)} "
                    "(a bug in the backend; please report it)"
                )
            out.append(f)
        return out

    def content_file(self, utt: Any) -> str:
        """The file whose bytes identify an utterance's features (the cache hashes it): its audio."""
        return utt.path

    def extract_utterance(self, utt: Any, *, layers: Sequence[int]) -> np.ndarray:
        """Features of one utterance without audio (only upstreams with ``reads_audio = False``)."""
        raise NotImplementedError(f"upstream {self.name} extracts from audio; call extract(waves)")

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        """Backend work: one ``[len(layers), n_frames_i, dim]`` array per (validated) waveform."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, n_layers={self.n_layers}, dim={self.dim}, "
            f"frame_rate_hz={self.frame_rate_hz})"
        )


def conv_n_frames(n_samples: int, conv_layers: Sequence[tuple[int, int]]) -> int:
    """Output length of a stack of unpadded 1-d convolutions ``[(kernel, stride), ...]`` (wav2vec2-style)."""
    n = int(n_samples)
    for kernel, stride in conv_layers:
        n = (n - kernel) // stride + 1
    return max(n, 0)


def conv_receptive_field(conv_layers: Sequence[tuple[int, int]]) -> int:
    """Fewest input samples that give one output frame through ``conv_layers``."""
    n = 1
    for kernel, stride in reversed(list(conv_layers)):
        n = (n - 1) * stride + kernel
    return n


def hash_files(paths: Sequence[Any], *, chunk: int = 1 << 20) -> str:
    """sha256 over the bytes of files (sorted by name): a weight-file identity when there is no revision."""
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        h.update(p.name.encode() + b"\0")
        with open(p, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()
