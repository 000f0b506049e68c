"""Turning utterances that are not cached yet into features, batch by batch.

Audio is decoded per batch (never all at once), batches are sized by padded duration (longest first,
so an out-of-memory error shows on the first batch), and unusable audio is reported to ``on_bad``
utterance by utterance instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import AudioError

if TYPE_CHECKING:
    from emobench.upstreams.base import Upstream

Batch = tuple[list[str], list[np.ndarray]]  # cache keys, features [layers, frames, dim] per utterance
PRECOMPUTED_BATCH = 64
MAX_PADDING = 0.1  # at most 10% of a padded batch may be padding (sorted corpora rarely hit this)  # utterances per read when the upstream reads files instead of audio


def computed_batches(
    upstream: Upstream, todo: dict[str, Utterance], layers: list[int], *, batch_seconds: float,
    progress: Any, on_bad: Callable[[Utterance, AudioError], None],
) -> Iterator[Batch]:
    if not getattr(upstream, "reads_audio", True):
        yield from _precomputed(upstream, todo, layers, progress, on_bad)
        return
    from emobench.audio import load_audio, utterance_duration_s

    durations = {}
    for key, utt in todo.items():
        try:
            durations[key] = utterance_duration_s(utt)
        except AudioError as exc:
            on_bad(utt, exc)
    order = sorted(durations, key=lambda k: -durations[k])
    task = None
    if progress is not None and order:
        task = progress.add_task(f"extracting {upstream.name}", total=round(sum(durations.values()), 1))
    for batch in _batches(order, durations, batch_seconds):
        waves, keys = [], []
        for key in batch:
            utt = todo[key]
            try:
                wave = load_audio(utt, upstream.sample_rate)
                upstream.check_waves([wave])  # too short / non-finite: this utterance only
            except AudioError as exc:
                if str(utt.path) not in str(exc):
                    exc = AudioError(f"{exc} [{utt.path} (utterance {utt.id})]")
                on_bad(utt, exc)
                continue
            waves.append(wave)
            keys.append(key)
        if waves:
            yield keys, upstream.extract(waves, layers=layers)
        if task is not None:
            progress.advance(task, sum(durations[k] for k in batch))


def _precomputed(upstream, todo, layers, progress, on_bad) -> Iterator[Batch]:
    items = list(todo.items())
    task = progress.add_task(f"reading {upstream.name}", total=len(items)) if progress is not None and items else None
    for start in range(0, len(items), PRECOMPUTED_BATCH):
        keys, feats = [], []
        for key, utt in items[start : start + PRECOMPUTED_BATCH]:
            try:
                feats.append(upstream.extract_utterance(utt, layers=layers))
                keys.append(key)
            except AudioError as exc:
                on_bad(utt, exc)
        if keys:
            yield keys, feats
        if task is not None:
            progress.advance(task, min(PRECOMPUTED_BATCH, len(items) - start))


def _batches(
    order: list[str], durations: dict[str, float], batch_seconds: float, max_padding: float = MAX_PADDING
) -> Iterator[list[str]]:
    """Consecutive groups (of a longest-first order) whose padded duration (count x longest) stays within
    ``batch_seconds`` and wastes at most ``max_padding`` of it on padding: padded frames cost compute."""
    batch: list[str] = []
    longest = real = 0.0
    for key in order:
        d = durations[key]
        padded = max(longest, d) * (len(batch) + 1)
        if batch and (padded > batch_seconds or padded > (real + d) * (1 + max_padding)):
            yield batch
            batch, longest, real = [], 0.0, 0.0
        batch.append(key)
        longest, real = max(longest, d), real + d
    if batch:
        yield batch
