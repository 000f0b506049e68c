"""Encode once at full depth, decode every prefix: per-utterance fidelity at each RVQ depth.

A chunk of whole utterances (frames ``[T, D]`` concatenated, ``lengths [N]``) is encoded once; each
requested depth is a prefix decode (``Quantizer.decode_prefixes``, incremental for residual codebooks).
Per depth this gives the mean-pooled reconstruction ``[N, D]``, the mean frame cosine ``[N]`` and the
cosine between the pooled input and the pooled reconstruction ``[N]`` (the Emo-Q route score). All in
torch on the quantizer's device, so it runs batched on a GPU as on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class PrefixStats:
    """Per depth results for one chunk of utterances (numpy, float32)."""

    cos_frame: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N]
    cos_utt: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N]
    pooled: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N, D]
    codes: np.ndarray | None = None  # [T, n_codes] full-depth codes


def owners(lengths: Sequence[int], device: torch.device) -> torch.Tensor:
    """Utterance index of every frame ``[T]``."""
    lens = torch.as_tensor(np.asarray(lengths, dtype=np.int64), device=device)
    return torch.repeat_interleave(torch.arange(len(lens), device=device), lens)


def segment_mean(x: torch.Tensor, owner: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean of ``x [T, ...]`` per utterance -> ``[N, ...]`` (``owner [T]``, ``counts [N]``)."""
    out = torch.zeros((len(counts), *x.shape[1:]), dtype=x.dtype, device=x.device)
    out.index_add_(0, owner, x)
    return out / counts.reshape(-1, *([1] * (x.ndim - 1))).to(x.dtype)


def prefix_sweep(quantizer, frames: np.ndarray | torch.Tensor, lengths: Sequence[int], depths: Sequence[int], *,
                 keep_pooled: bool = True) -> PrefixStats:
    """Fidelity of ``quantizer``'s reconstruction of these utterances at every depth in ``depths``."""
    from emobench.device import threads_for

    x = quantizer.check_input(frames, "sweep")  # [T, D] fp32 on the quantizer's device
    with threads_for(len(x) * quantizer.codebook_size * x.shape[1], x.device):
        return _prefix_sweep(quantizer, x, lengths, depths, keep_pooled)


def _prefix_sweep(quantizer, x: torch.Tensor, lengths, depths, keep_pooled: bool) -> PrefixStats:
    dev = x.device
    lens = np.asarray(lengths, dtype=np.int64)
    if lens.sum() != len(x) or (lens <= 0).any():
        raise ValueError(f"lengths must be positive and sum to the {len(x)} frames, got {lens.sum()}")
    owner, counts = owners(lens, dev), torch.as_tensor(lens, device=dev)
    pooled_in = segment_mean(x, owner, counts)  # [N, D]
    codes = quantizer.encode(x)  # [T, n_codes], a tensor on the device
    out = PrefixStats(codes=codes.cpu().numpy())
    for depth, rec in quantizer.decode_prefixes(codes, depths):
        cos_f = segment_mean(F.cosine_similarity(x, rec, dim=1, eps=1e-12)[:, None], owner, counts)[:, 0]
        pooled = segment_mean(rec, owner, counts)
        out.cos_frame[depth] = cos_f.cpu().numpy()
        out.cos_utt[depth] = F.cosine_similarity(pooled_in, pooled, dim=1, eps=1e-12).cpu().numpy()
        if keep_pooled:
            out.pooled[depth] = pooled.cpu().numpy()
    return out


def merge(parts: list[PrefixStats]) -> PrefixStats:
    """Concatenate the results of consecutive chunks."""
    if not parts:
        return PrefixStats()
    out = PrefixStats(codes=np.concatenate([p.codes for p in parts]) if parts[0].codes is not None else None)
    for name in ("cos_frame", "cos_utt", "pooled"):
        first = getattr(parts[0], name)
        setattr(out, name, {d: np.concatenate([getattr(p, name)[d] for p in parts]) for d in first})
    return out
