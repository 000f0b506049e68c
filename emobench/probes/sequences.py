"""Variable-length inputs of the frame-level probes: utterances as sequences of frames, read on demand.

A ``Sequences`` holds N items, item i an array ``[T_i, D]`` (one layer) or ``[L, T_i, D]`` (several
layers), and hands out any rows as a list (``gather``), so a training set larger than memory streams from
the feature cache batch by batch. ``pad`` turns a list into one zero-padded batch with a mask; the
frame-level probes ignore padded frames (masked mean), so a batch gives the logits of its items one at a
time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emobench.probes.base import ProbeError


class Sequences:
    """N items of frames: ``lengths [N]``, ``item_shape`` ``(D,)`` or ``(L, D)``, ``gather(rows)``."""

    lengths: np.ndarray
    item_shape: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.lengths)

    def gather(self, rows: Sequence[int]) -> list[np.ndarray]:  # each [T_i, D] or [L, T_i, D]
        raise NotImplementedError


class ArraySequences(Sequences):
    """Items held in memory (a list of arrays sharing their trailing shape)."""

    def __init__(self, items: Sequence[np.ndarray]):
        self.items = [np.asarray(x, dtype=np.float32) for x in items]
        shapes = {(x.ndim, x.shape[:-2] + x.shape[-1:]) for x in self.items if x.ndim >= 2}
        if len(shapes) > 1 or any(x.ndim < 2 for x in self.items):
            raise ProbeError(f"sequences must all be [frames, dim] or all [layers, frames, dim] with one dim; "
                             f"got shapes {sorted({x.shape for x in self.items})[:4]}")
        self.lengths = np.array([x.shape[-2] for x in self.items], dtype=np.int64)
        self.item_shape = next(iter(shapes))[1] if shapes else ()

    def gather(self, rows: Sequence[int]) -> list[np.ndarray]:
        return [self.items[int(i)] for i in rows]


class FeatureSequences(Sequences):
    """Utterances ``rows`` of a FeatureSet (anything with ``frames(layer, i)`` and ``lengths``), read at one
    layer (items ``[T, D]``) or a list of layers (items ``[L, T, D]``, in that order)."""

    def __init__(self, fs, rows: Sequence[int], layers: int | Sequence[int]):
        self.fs, self.rows = fs, [int(r) for r in rows]
        self.layers = layers if isinstance(layers, int) else [int(x) for x in layers]
        self.lengths = np.asarray(fs.lengths, dtype=np.int64)[self.rows] if self.rows else np.zeros(0, np.int64)
        dim = int(fs.dim)
        self.item_shape = (dim,) if isinstance(self.layers, int) else (len(self.layers), dim)

    def gather(self, rows: Sequence[int]) -> list[np.ndarray]:
        out = []
        for i in rows:
            row = self.rows[int(i)]
            if isinstance(self.layers, int):
                out.append(self.fs.frames(self.layers, row))
            else:
                out.append(np.stack([self.fs.frames(layer, row) for layer in self.layers]))
        return out


class ReplacedLayer(Sequences):
    """Several layers from ``base`` with the one at ``position`` replaced by ``replacement[i]`` (a quantizer's
    reconstruction ``[T_i, D]``, or ``[1, D]`` for a pooled one, repeated over the utterance's frames)."""

    def __init__(self, base: FeatureSequences, position: int, replacement: Sequence[np.ndarray]):
        if isinstance(base.layers, int) or not 0 <= position < len(base.layers):
            raise ProbeError(f"cannot replace layer position {position} of sequences read at layers {base.layers}")
        if len(replacement) != len(base):
            raise ProbeError(f"{len(replacement)} reconstructions for {len(base)} utterances")
        for i, (rec, n) in enumerate(zip(replacement, base.lengths, strict=True)):
            if rec.ndim != 2 or rec.shape[0] not in (1, n) or rec.shape[1] != base.item_shape[-1]:
                raise ProbeError(f"reconstruction {i} has shape {rec.shape}; expected [{n} or 1, {base.item_shape[-1]}]")
        self.base, self.position, self.replacement = base, int(position), list(replacement)
        self.lengths, self.item_shape = base.lengths, base.item_shape

    def gather(self, rows: Sequence[int]) -> list[np.ndarray]:
        out = []
        for i, item in zip(rows, self.base.gather(rows), strict=True):
            item = item.copy()
            item[self.position] = np.broadcast_to(self.replacement[int(i)], item.shape[1:])
            out.append(item)
        return out


def pad(items: Sequence[np.ndarray], device=None):
    """A batch ``x [B, T_max, D]`` (or ``[B, L, T_max, D]``) zero-padded, and ``mask [B, T_max]`` (True on
    real frames), as float32 / bool tensors on ``device``."""
    import torch

    lengths = [x.shape[-2] for x in items]
    t_max = max(lengths)
    lead = items[0].shape[:-2]
    x = np.zeros((len(items), *lead, t_max, items[0].shape[-1]), dtype=np.float32)
    mask = np.zeros((len(items), t_max), dtype=bool)
    for b, (item, n) in enumerate(zip(items, lengths, strict=True)):
        x[b, ..., :n, :] = item
        mask[b, :n] = True
    return torch.as_tensor(x, device=device), torch.as_tensor(mask, device=device)


def batch_rows(lengths: np.ndarray, *, budget: int, per_frame: int = 1) -> list[list[int]]:
    """Rows in batches of similar length (longest first) whose padded size ``B x T_max x per_frame`` stays
    within ``budget`` values (one item at least), for inference; callers restore the input order."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    out: list[list[int]] = []
    current: list[int] = []
    for i in order:
        t_max = int(lengths[current[0]]) if current else int(lengths[i])
        if current and (len(current) + 1) * t_max * per_frame > budget:
            out.append(current)
            current = []
        current.append(int(i))
    if current:
        out.append(current)
    return out


def frame_stats(seqs: Sequences, *, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over every frame, per feature (per layer and feature for stacked
    layers): ``[*item_shape]`` each, accumulated in float64 chunk by chunk."""
    total = np.zeros(seqs.item_shape, np.float64)
    squares = np.zeros(seqs.item_shape, np.float64)
    n = 0
    for start in range(0, len(seqs), chunk):
        for item in seqs.gather(range(start, min(start + chunk, len(seqs)))):
            x = item.astype(np.float64)
            total += x.sum(axis=-2)
            squares += (x * x).sum(axis=-2)
            n += x.shape[-2]
    mean = total / max(n, 1)
    var = np.maximum(squares / max(n, 1) - mean * mean, 0.0)
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32)
