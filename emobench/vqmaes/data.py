"""Training data from any emobench corpus: utterances -> power frames -> VQ-VAE codes, sampled per step.

Every batch is a pure function of (seed, step): the utterances, crops and masks of step s are drawn
from generators seeded with ``[seed, stream, s]``, so a resumed run sees exactly the batches an
uninterrupted one would, with no data-loader state to save. Audio is decoded on demand
(``emobench.audio.load_audio``) and kept in a least-recently-used cache bounded in bytes, so a corpus
larger than memory streams. Unusable audio is skipped, counted and named in the checkpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from emobench.corpora.base import Utterance
from emobench.errors import AudioError, EmobenchError
from emobench.vqmaes.config import SpectrogramConfig
from emobench.vqmaes.spectrogram import power_spectrograms

DEFAULT_CACHE_BYTES = 1 << 30
MAX_BAD_SHARE = 0.5  # more unusable utterances than this stops training (a wrong root, not a few bad files)


def step_rng(seed: int, step: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream), int(step)])


def step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(int(step_rng(seed, step, stream).integers(0, 2**62)))
    return g


class _Lru:
    def __init__(self, budget: int):
        self.budget, self.used, self.items = int(budget), 0, OrderedDict()

    def get(self, key, make: Callable[[], torch.Tensor | None]) -> torch.Tensor | None:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        if value is None:
            return None
        size = value.element_size() * value.numel()
        while self.items and self.used + size > self.budget:
            _, old = self.items.popitem(last=False)
            self.used -= old.element_size() * old.numel()
        if size <= self.budget:
            self.items[key], self.used = value, self.used + size
        return value


class UtteranceFrames:
    """Power spectrograms ``[frames, D]`` (CPU, fp32) of a list of utterances, decoded on demand."""

    def __init__(
        self,
        utterances: Sequence[Utterance],
        cfg: SpectrogramConfig,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        if not utterances:
            raise EmobenchError("no utterances to train on; check the corpus roots (--corpus NAME=PATH)")
        self.utterances, self.cfg = list(utterances), cfg
        self._cache = _Lru(cache_bytes)
        self.bad: dict[str, str] = {}  # utterance id -> why it was skipped

    def __len__(self) -> int:
        return len(self.utterances)

    def spectrogram(self, i: int) -> torch.Tensor | None:
        """Frames of utterance ``i``, or None when its audio is unusable or shorter than one window."""
        utt = self.utterances[i]
        if utt.id in self.bad:
            return None
        from emobench.audio import load_audio

        try:
            spec = self._cache.get(
                ("spec", i), lambda: power_spectrograms([load_audio(utt, self.cfg.sample_rate)], self.cfg)[0]
            )
        except AudioError as exc:
            self._mark_bad(utt, str(exc))
            return None
        if spec.shape[0] == 0:
            self._mark_bad(utt, f"shorter than one {self.cfg.n_fft}-sample window")
            return None
        return spec

    def _mark_bad(self, utt: Utterance, why: str) -> None:
        self.bad[utt.id] = why
        if len(self.bad) > MAX_BAD_SHARE * len(self.utterances):
            raise EmobenchError(
                f"{len(self.bad)} of {len(self.utterances)} utterances are unusable, e.g. {why}; "
                "check the corpus roots and audio files"
            )

    def pick(
        self,
        rng: np.random.Generator,
        get: Callable[[int], torch.Tensor | None] | None = None,
    ) -> tuple[int, torch.Tensor]:
        """A random usable utterance and ``get(i)`` (default: its frames), retrying past unusable ones."""
        get = get or self.spectrogram
        for _ in range(4 * len(self.utterances) + 16):
            i = int(rng.integers(len(self.utterances)))
            value = get(i) if self.utterances[i].id not in self.bad else None
            if value is not None:
                return i, value
        raise EmobenchError(
            f"no usable utterance among {len(self.utterances)}; e.g. {next(iter(self.bad.values()))}"
        )

    def frame_batch(self, n: int, rng: np.random.Generator, *, utts_per_batch: int = 16) -> torch.Tensor:
        """``n`` random frames [n, D] drawn from ``utts_per_batch`` random utterances."""
        picked = [self.pick(rng)[1] for _ in range(min(utts_per_batch, n))]
        which = rng.integers(len(picked), size=n)
        rows = [picked[j][int(rng.integers(picked[j].shape[0]))] for j in which]
        return torch.stack(rows)


class UtteranceCodes:
    """VQ-VAE codes ``[frames, D']`` of each utterance (a frozen VQ-VAE in eval mode), cached compactly."""

    def __init__(
        self,
        frames: UtteranceFrames,
        vqvae: torch.nn.Module,
        *,
        device: torch.device,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        self.frames, self.vqvae, self.device = frames, vqvae.eval(), device
        self._dtype = torch.uint8 if vqvae.cfg.codebook_size <= 256 else torch.int16
        self._cache = _Lru(cache_bytes)
        self.silence = self.encode(torch.zeros(1, vqvae.n_bins))[0]  # [D']: the codes of digital silence

    def encode(self, power: torch.Tensor) -> torch.Tensor:
        out = [self.vqvae.encode(chunk.to(self.device)).cpu() for chunk in power.split(8192)]
        return torch.cat(out).to(self._dtype)

    def codes(self, i: int) -> torch.Tensor | None:
        """Codes of utterance ``i`` (None when its audio is unusable)."""

        def make() -> torch.Tensor | None:
            spec = self.frames.spectrogram(i)
            return None if spec is None else self.encode(spec)

        return self._cache.get(("codes", i), make)

    def pick(self, rng: np.random.Generator) -> tuple[int, torch.Tensor]:
        """A random usable utterance and its codes."""
        return self.frames.pick(rng, get=self.codes)

    def crop(self, codes: torch.Tensor, length: int, rng: np.random.Generator | None) -> torch.Tensor:
        """``length`` frames from a random offset (rng) or the start (None), silence-padded: [length, D']."""
        if codes.shape[0] >= length:
            start = int(rng.integers(codes.shape[0] - length + 1)) if rng is not None else 0
            return codes[start : start + length].long()
        pad = self.silence.long().expand(length - codes.shape[0], -1)
        return torch.cat([codes.long(), pad])

    def clip_batch(self, n: int, length: int, rng: np.random.Generator) -> torch.Tensor:
        """``n`` random clips [n, length, D'] (pre-training: short utterances padded with silence)."""
        return torch.stack([self.crop(self.pick(rng)[1], length, rng) for _ in range(n)])
