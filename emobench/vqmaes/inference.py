"""Encoding whole utterances with a trained VQ-MAE-S (no masking): windows, padding, frame features.

Position embeddings exist for ``max_frames`` frames (200 for vqmaes-12, 3.84 s), so an utterance is
cut into consecutive windows of at most that many frames, each encoded with its own [CLS]; a ragged
end is completed with the codes of digital silence up to a whole token column. Windows of a batch
are padded to the longest and padding is masked out of attention, so batching does not change the
result. Frame features: a time column of ``n_d`` frequency tokens becomes one vector (their mean),
one per ``patch_t`` STFT frames: 52.12 / 10 = 5.21 Hz for vqmaes-12. The utterance's [CLS] vector is
the mean of its windows' [CLS] weighted by their columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from emobench.vqmaes.masking import patchify
from emobench.vqmaes.model import VQMAES

WINDOWS_PER_BATCH = 64


@dataclass
class Window:
    utterance: int  # index in the batch of utterances
    tokens: torch.Tensor  # [n_cols * n_d, t * d] int64
    n_cols: int


def n_columns(n_frames: int, patch_t: int) -> int:
    return math.ceil(n_frames / patch_t)


def windows_of(codes: torch.Tensor, mae: VQMAES, silence: torch.Tensor, utterance: int = 0) -> list[Window]:
    """Codes [T, D'] -> windows of at most ``max_t`` token columns."""
    t, d = mae.cfg.patch_t, mae.cfg.patch_d
    cols = n_columns(codes.shape[0], t)
    if cols * t > codes.shape[0]:
        codes = torch.cat(
            [codes.long(), silence.long().to(codes.device).expand(cols * t - codes.shape[0], -1)]
        )
    out = []
    for c0 in range(0, cols, mae.max_t):
        c1 = min(c0 + mae.max_t, cols)
        tokens = patchify(codes[c0 * t : c1 * t].long()[None], t, d)[0]
        out.append(Window(utterance, tokens, c1 - c0))
    return out


def pad_windows(
    windows: Sequence[Window], n_d: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """-> tokens [n, max_tokens, t*d] (zero-padded) and valid token counts [n]."""
    longest = max(w.tokens.shape[0] for w in windows)
    batch = torch.zeros(len(windows), longest, windows[0].tokens.shape[1], dtype=torch.long)
    for i, w in enumerate(windows):
        batch[i, : w.tokens.shape[0]] = w.tokens
    n_valid = torch.tensor([w.n_cols * n_d for w in windows])
    return batch.to(device), n_valid.to(device)


@torch.no_grad()
def encode_windows(
    mae: VQMAES,
    windows: Sequence[Window],
    layers: Sequence[int],
    device: torch.device,
) -> list[torch.Tensor]:
    """Hidden states per window: float32 [len(layers), 1 + n_tokens, width] (CPU)."""
    out: list[torch.Tensor] = []
    order = sorted(range(len(windows)), key=lambda i: windows[i].tokens.shape[0])  # similar lengths together
    result: dict[int, torch.Tensor] = {}
    for s in range(0, len(order), WINDOWS_PER_BATCH):
        idx = order[s : s + WINDOWS_PER_BATCH]
        tokens, n_valid = pad_windows([windows[i] for i in idx], mae.n_d, device)
        states = torch.stack(mae.encode(tokens, n_valid, layers), dim=1).float().cpu()  # [n, L, 1 + N, W]
        for row, i in enumerate(idx):
            result[i] = states[row, :, : 1 + int(n_valid[row])]
    out = [result[i] for i in range(len(windows))]
    return out


def column_features(states: torch.Tensor, n_d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Window states [L, 1 + n_cols * n_d, W] -> ([CLS] [L, W], per-column means [L, n_cols, W])."""
    layers, _, width = states.shape
    cols = states[:, 1:].reshape(layers, -1, n_d, width).mean(2)
    return states[:, 0], cols


def utterance_features(
    mae: VQMAES,
    codes: Sequence[torch.Tensor],
    silence: torch.Tensor,
    layers: Sequence[int],
    device: torch.device,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per utterance: ([CLS] [L, W], column features [L, n_cols, W]) over all its windows."""
    windows = [w for u, c in enumerate(codes) for w in windows_of(c, mae, silence, u)]
    states = encode_windows(mae, windows, layers, device)
    per_utt: list[list[tuple[Window, torch.Tensor]]] = [[] for _ in codes]
    for w, s in zip(windows, states, strict=True):
        per_utt[w.utterance].append((w, s))
    out = []
    for parts in per_utt:
        feats = [column_features(s, mae.n_d) for _, s in parts]
        weights = torch.tensor([float(w.n_cols) for w, _ in parts])
        cls = sum(f[0] * wt for f, wt in zip(feats, weights, strict=True)) / weights.sum()
        out.append((cls, torch.cat([f[1] for f in feats], dim=1)))
    return out


@torch.no_grad()
def ser_probabilities(
    ser,
    codes: Sequence[torch.Tensor],
    silence: torch.Tensor,
    device: torch.device,
) -> torch.Tensor:
    """Class probabilities [n_utterances, n_classes] of a fine-tuned ``SerModel`` (eval mode): each
    utterance's windows are scored and their logits averaged, weighted by their token columns."""
    ser.eval()
    windows = [w for u, c in enumerate(codes) for w in windows_of(c, ser.mae, silence, u)]
    logits = torch.zeros(len(codes), ser.n_classes)
    weight = torch.zeros(len(codes), 1)
    for s in range(0, len(windows), WINDOWS_PER_BATCH):
        part = windows[s : s + WINDOWS_PER_BATCH]
        tokens, n_valid = pad_windows(part, ser.mae.n_d, device)
        out = ser(tokens, n_valid).float().cpu()
        for w, row in zip(part, out, strict=True):
            logits[w.utterance] += w.n_cols * row
            weight[w.utterance] += w.n_cols
    return torch.softmax(logits / weight, dim=-1)
