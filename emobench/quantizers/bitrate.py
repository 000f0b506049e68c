"""Bitrate and storage accounting: nominal and entropy-coded bitrates, codebook usage, storage.

Paper checks (section 4.4): continuous 768-dim fp32 features at 50 Hz = 768 x 32 x 50 = 1.2288 Mbps;
8 stages x 32 entries at 50 Hz = 8 x log2(32) x 50 = 2 kbps. Entropy-coded rates use the empirical
per-stage code distribution (what an ideal entropy coder would spend), beside the fixed-length rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from emobench.metrics.distribution import normalized_entropy  # paper eq. 1, one place for it


def bits_per_frame(n_stages: int, codebook_size: int, *, codes_per_stage: int = 1) -> float:
    return float(n_stages * codes_per_stage * np.log2(codebook_size))


def bitrate_bps(bits: float, frame_rate_hz: float) -> float:
    return float(bits * frame_rate_hz)


def continuous_bps(dim: int, frame_rate_hz: float, *, bits_per_value: int = 32) -> float:
    """The uncompressed baseline: every feature value sent as a ``bits_per_value`` float."""
    return float(dim * bits_per_value * frame_rate_hz)


def codebook_storage_bytes(n_codewords: int, dim: int, *, bytes_per_value: int = 4) -> int:
    """Bytes to store ``n_codewords`` codewords of ``dim`` values (e.g. L * K * E for Emo-Q)."""
    return int(n_codewords * dim * bytes_per_value)


def quantizer_storage_bytes(quantizer: Any, *, bytes_per_value: int = 4) -> int:
    """Storage of a fitted quantizer's codebooks, from the tensors it would save."""
    return int(sum(t.numel() for t in quantizer._state().values()) * bytes_per_value)


def code_usage(codes: np.ndarray, codebook_size: int) -> np.ndarray:
    """``[n_columns, K]`` counts of each code per code column (stage, or stage x group)."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be [n_frames, n_columns], got shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() >= codebook_size):
        raise ValueError(f"codes fall outside 0..{codebook_size - 1}")
    return (
        np.stack([np.bincount(col, minlength=codebook_size) for col in codes.T])
        if codes.shape[1]
        else np.zeros((0, codebook_size), dtype=np.int64)
    )


def stage_entropy_bits(codes: np.ndarray, codebook_size: int) -> np.ndarray:
    """Empirical entropy (bits) of each code column's usage ``[n_columns]``."""
    counts = code_usage(codes, codebook_size).astype(np.float64)
    p = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(p), 0.0).sum(1)


def dead_codewords(codes: np.ndarray, codebook_size: int) -> np.ndarray:
    """Codewords never used, per code column ``[n_columns]``."""
    return (code_usage(codes, codebook_size) == 0).sum(1)


@dataclass(frozen=True)
class BitrateReport:
    depth: int
    frame_rate_hz: float
    bits_per_frame: float
    bitrate_bps: float
    entropy_coded_bps: float
    continuous_bps: float
    compression_ratio: float  # continuous / nominal
    storage_bytes: int
    dead_codewords: list[int]  # per code column up to depth
    normalized_entropy: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_columns(quantizer: Any, codes: np.ndarray, depth: int | None = None) -> np.ndarray:
    """The code columns of the first ``depth`` stages of ``quantizer.encode`` output (``stage_codes``
    drops Emo-Q's route column); grouped quantizers keep ``codes_per_stage`` columns per stage."""
    depth = quantizer.check_depth(depth)
    codes = np.asarray(codes.cpu() if hasattr(codes, "cpu") else codes)
    return quantizer.stage_codes(codes)[:, : depth * quantizer.codes_per_stage]


def bitrate_report(
    quantizer: Any, codes: np.ndarray, *, frame_rate_hz: float, depth: int | None = None
) -> BitrateReport:
    """Nominal vs entropy-coded bitrate of ``codes`` (from ``quantizer.encode``) at ``depth``."""
    depth = quantizer.check_depth(depth)
    cols = stage_columns(quantizer, codes, depth)
    bits = quantizer.bits_per_frame(depth)
    entropy = float(stage_entropy_bits(cols, quantizer.codebook_size).sum())
    base = continuous_bps(quantizer.dim, frame_rate_hz)
    return BitrateReport(
        depth=depth,
        frame_rate_hz=float(frame_rate_hz),
        bits_per_frame=bits,
        bitrate_bps=bitrate_bps(bits, frame_rate_hz),
        entropy_coded_bps=bitrate_bps(entropy, frame_rate_hz),
        continuous_bps=base,
        compression_ratio=base / max(bitrate_bps(bits, frame_rate_hz), 1e-12),
        storage_bytes=quantizer_storage_bytes(quantizer),
        dead_codewords=dead_codewords(cols, quantizer.codebook_size).tolist(),
        normalized_entropy=np.atleast_1d(normalized_entropy(cols, quantizer.codebook_size)).round(6).tolist(),
    )
