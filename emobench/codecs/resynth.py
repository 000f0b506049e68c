"""Resynthesis through a codec's tokens (as EMO-Codec and Codec-SUPERB measure emotion kept in decoded
speech): waveform -> codes -> the first ``d`` codebooks -> the codec's decoder -> waveform.

Encoding runs once per waveform at full depth; every requested depth is a prefix of those codes (greedy
RVQ), so ``resynthesize_depths`` equals calling the codec's own encode at ``d`` codebooks and its own
decode, for each ``d``. A bandwidth in kbps must be one the codec offers exactly (``CodecLayout.depth_for_kbps``).

``ResynthCache`` keeps decoded audio on disk, one float32 ``.npy`` per (codec weights, depth, waveform
content), written atomically: a second run over the same audio decodes nothing. Layout:
``<root>/resynth/<codec key>/d<depth>/<content sha256>.npy`` plus ``<codec key>/codec.json``.
``files`` keeps the same audio as float32 WAV files instead (``.wav`` beside where the ``.npy`` would
be), for upstreams that read decoded speech like any corpus file, so the feature cache keys it by content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from emobench.codecs.layout import CodecError
from emobench.errors import CacheError
from emobench.fsutil import atomic_path, atomic_write_json

SCHEMA_VERSION = 1


def resolve_depth(codec, *, n_codebooks: int | None = None, kbps: float | None = None,
                  trained_only: bool = True) -> int:
    """Exactly one of ``n_codebooks`` / ``kbps``, checked against what the codec decodes."""
    if (n_codebooks is None) == (kbps is None):
        raise CodecError("pass exactly one of n_codebooks or kbps")
    if kbps is not None:
        return codec.layout.depth_for_kbps(kbps)
    return codec.layout.check_depth(n_codebooks, trained_only=trained_only)


def resynthesize_depths(codec, wave: np.ndarray, depths: Sequence[int], *,
                        trained_only: bool = True) -> dict[int, np.ndarray]:
    """Mono float32 ``[samples]`` at ``codec.layout.sample_rate`` -> ``{depth: [samples]}`` (same length)."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1 or not len(wave) or not np.isfinite(wave).all():
        raise CodecError(f"resynthesis needs a finite mono waveform [samples], got shape {wave.shape}")
    depths = [codec.layout.check_depth(d, trained_only=trained_only) for d in depths]
    padded = codec.pad_to_frames(wave)
    latent = codec.encode_latent(torch.from_numpy(padded)[None]).float()  # [1, D, T]
    codes = codec.quantizer.quantize(latent)  # [1, n_codebooks, T]
    out = {}
    for d in depths:
        audio = codec.decode_latent(codec.quantizer.dequantize(codes[:, :d]))[0].float().cpu().numpy()
        out[d] = _same_length(audio, len(wave))
    return out


def resynthesize(codec, wave: np.ndarray, *, n_codebooks: int | None = None, kbps: float | None = None,
                 trained_only: bool = True) -> np.ndarray:
    """``wave`` decoded from the codec's first ``n_codebooks`` codebooks (or its ``kbps`` bandwidth)."""
    d = resolve_depth(codec, n_codebooks=n_codebooks, kbps=kbps, trained_only=trained_only)
    return resynthesize_depths(codec, wave, [d], trained_only=trained_only)[d]


def _same_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Trim the decoder's output (whole frames) to ``n`` samples; zero-pad when a decoder returns fewer
    (DAC's odd-stride transposed convolutions drop a sample per stride-5 layer)."""
    audio = audio[:n]
    return np.pad(audio, (0, n - len(audio))) if len(audio) < n else np.ascontiguousarray(audio)


def content_key(wave: np.ndarray, sample_rate: int) -> str:
    wave = np.ascontiguousarray(wave, dtype=np.float32)
    h = hashlib.sha256(f"{sample_rate}:{wave.shape[0]}:".encode())
    h.update(wave.tobytes())
    return h.hexdigest()


class ResynthCache:
    """Decoded audio per (codec, depth, waveform content) under ``root / "resynth"``."""

    def __init__(self, root: str | Path):
        self.root = Path(root) / "resynth"

    def codec_dir(self, codec) -> Path:
        key = hashlib.sha256(json.dumps(codec.identity, sort_keys=True, default=str).encode()).hexdigest()[:20]
        return self.root / f"{codec.family}-{key}"

    def path(self, codec, depth: int, wave: np.ndarray) -> Path:
        return self.codec_dir(codec) / f"d{int(depth)}" / f"{content_key(wave, codec.layout.sample_rate)}.npy"

    def get(self, codec, wave: np.ndarray, depths: Sequence[int], *, trained_only: bool = True) -> dict[int, np.ndarray]:
        """``{depth: waveform}`` from the cache, decoding (once, all missing depths together) what is not there."""
        wave = np.asarray(wave, dtype=np.float32)
        depths = [codec.layout.check_depth(d, trained_only=trained_only) for d in depths]
        out, missing = {}, []
        for d in depths:
            path = self.path(codec, d, wave)
            if path.is_file():
                out[d] = self._read(path, len(wave))
            else:
                missing.append(d)
        if missing:
            self._write_manifest(codec)
            for d, audio in resynthesize_depths(codec, wave, missing, trained_only=trained_only).items():
                with atomic_path(self.path(codec, d, wave)) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, audio.astype(np.float32), allow_pickle=False)
                out[d] = audio
        return {d: out[d] for d in depths}

    def wav_path(self, codec, depth: int, wave: np.ndarray) -> Path:
        return self.path(codec, depth, wave).with_suffix(".wav")

    def files(self, codec, wave: np.ndarray, depths: Sequence[int], *, trained_only: bool = True) -> dict[int, Path]:
        """``{depth: float32 WAV at the codec's rate}`` of ``wave`` decoded from that many codebooks, decoding
        (once, all missing depths together) what is not on disk; the samples equal ``get``'s exactly."""
        import soundfile as sf

        wave = np.asarray(wave, dtype=np.float32)
        depths = [codec.layout.check_depth(d, trained_only=trained_only) for d in depths]
        paths = {d: self.wav_path(codec, d, wave) for d in depths}
        missing = [d for d, p in paths.items() if not p.is_file()]
        if missing:
            self._write_manifest(codec)
            for d, audio in resynthesize_depths(codec, wave, missing, trained_only=trained_only).items():
                with atomic_path(paths[d]) as tmp:
                    sf.write(str(tmp), audio, codec.layout.sample_rate, subtype="FLOAT", format="WAV")
        return paths

    def _read(self, path: Path, n: int) -> np.ndarray:
        try:
            audio = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CacheError(f"{path}: unreadable cached resynthesis ({exc}); delete it to decode again") from exc
        if audio.shape != (n,) or audio.dtype != np.float32:
            raise CacheError(f"{path}: holds {audio.dtype} {audio.shape}, expected float32 ({n},); delete it")
        return audio

    def _write_manifest(self, codec) -> None:
        path = self.codec_dir(codec) / "codec.json"
        if not path.is_file():
            layout = codec.layout
            atomic_write_json(path, {"schema_version": SCHEMA_VERSION, "identity": codec.identity,
                                     "family": codec.family, "sample_rate": layout.sample_rate,
                                     "frame_rate_hz": layout.frame_rate_hz, "codebook_size": layout.codebook_size,
                                     "n_codebooks": layout.n_codebooks})
