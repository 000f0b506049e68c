"""Evaluate a quantizer on a test set: encode once at full depth, decode every prefix, score each depth.

Utterances are read from the feature cache in chunks of whole utterances (about ``FRAME_CHUNK`` frames),
so memory stays bounded; a quantizer working on pooled vectors (``input_level="utterance"``) gets those.
With a probe, each depth's pooled reconstruction is scored at once and only the probabilities are kept;
a probe that reads frames or several layers (a ``FedProbe``) gets each depth's reconstructed frames, decoded
again from the chunk's codes (a prefix decode is a sum of codewords, cheap next to the encode), with its
other layers continuous. ``extra`` probes (e.g. speaker and language controls) are scored on the same
reconstructions. Per-emotion quantizers (Emo-Q) are evaluated book by book (``sweep_books``) and routed
with the one routing rule (``emobench.quantizers.routing``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emobench.corpora.base import Utterance
from emobench.quantizers.routing import route_choice, route_scores
from emobench.quantizers.sweep import PrefixStats, merge, prefix_sweep

FRAME_CHUNK = 65_536  # frames per evaluation chunk


@dataclass
class Sweep:
    """One codebook on one test set: per depth, per utterance."""

    utts: list[Utterance]
    depths: list[int]
    cos_frame: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N]
    cos_utt: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N]
    probs: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N, C]
    codes: np.ndarray | None = None  # [T, n_codes] full-depth codes of every test frame (or vector)
    extra_probs: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)  # extra probe -> depth -> [N, C']


def chunks(lengths: np.ndarray, budget: int = FRAME_CHUNK):
    start, total = 0, 0
    for i, n in enumerate(lengths):
        if total and total + n > budget:
            yield list(range(start, i))
            start, total = i, 0
        total += int(n)
    if start < len(lengths):
        yield list(range(start, len(lengths)))


def _reads_frames(probe) -> bool:
    from emobench.tasks.probe_feed import FedProbe

    return isinstance(probe, FedProbe) and probe.input != "pooled"


def _decoded(quantizer, codes: np.ndarray, depths: Sequence[int]):
    """``(depth, reconstruction [T, D] float32)`` from full-depth codes, prefix by prefix."""
    import torch

    c = torch.as_tensor(codes, device=quantizer.device)
    for depth, rec in quantizer.decode_prefixes(c, depths):
        yield depth, (rec.detach().cpu().numpy() if isinstance(rec, torch.Tensor) else np.asarray(rec)).astype(
            np.float32)


def sweep(quantizer, fs, utts: list[Utterance], layer: int, *, depths: Sequence[int] | None = None, probe=None,
          level: str | None = None, progress=None, extra: Mapping[str, Any] | None = None) -> Sweep:
    """Fidelity (and probe probabilities) of ``quantizer``'s reconstructions of ``utts`` at ``depths``."""
    depths = list(depths or quantizer.depths)
    level = level or quantizer.input_level
    rows = [fs.index(u.id) for u in utts]
    lengths = fs.lengths[rows]
    pooled_all = fs.pooled(layer)[rows] if level == "utterance" else None
    named = {**({"": probe} if probe is not None else {}), **dict(extra or {})}
    fed = {k: p for k, p in named.items() if _reads_frames(p)}
    plain = {k: p for k, p in named.items() if k not in fed}
    parts: list[PrefixStats] = []
    probs: dict[str, dict[int, list[np.ndarray]]] = {k: {d: [] for d in depths} for k in named}
    task = progress.add_task(f"evaluating {len(depths)} depths", total=len(rows)) if progress else None
    for chunk in chunks(lengths if level == "frame" else np.ones(len(rows), np.int64)):
        if level == "utterance":
            x, lens = pooled_all[chunk], np.ones(len(chunk), np.int64)
        else:
            x, lens = fs.block(layer, [rows[i] for i in chunk])
        stats = prefix_sweep(quantizer, x, lens, depths, keep_pooled=bool(plain))
        for k, p in plain.items():
            for d in depths:
                probs[k][d].append(p.predict_proba(stats.pooled[d]))
        if fed:  # each utterance's reconstructed frames ([1, D] for a quantizer of pooled vectors)
            chunk_utts = [utts[i] for i in chunk]
            cuts = np.cumsum(lens)[:-1]
            for d, rec in _decoded(quantizer, stats.codes, depths):
                recs = np.split(rec, cuts)
                for k, p in fed.items():
                    probs[k][d].append(p.proba_reconstructed(fs, chunk_utts, recs))
        stats.pooled = {}
        parts.append(stats)
        if task is not None:
            progress.advance(task, len(chunk))
    merged = merge(parts)
    out = Sweep(list(utts), depths, merged.cos_frame, merged.cos_utt, codes=merged.codes)
    joined = {k: {d: np.concatenate(v) if v else np.zeros((0, 0)) for d, v in by_depth.items()}
              for k, by_depth in probs.items()}
    if probe is not None:
        out.probs = joined.pop("")
    out.extra_probs = joined
    return out


def sweep_books(router, fs, utts: list[Utterance], layer: int, *, depths: Sequence[int] | None = None,
                probe=None, progress=None, extra: Mapping[str, Any] | None = None) -> dict[str, Sweep]:
    """One Sweep per emotion book of a router (every test utterance through every book)."""
    return {e: sweep(book, fs, utts, layer, depths=depths, probe=probe, level=router.input_level,
                     progress=progress, extra=extra) for e, book in router.books.items()}


def routed(books: dict[str, Sweep], depth: int) -> np.ndarray:
    """The Emo-Q route at ``depth`` [N]: the book whose pooled reconstruction is closest (index in ``books``)."""
    return route_choice(route_scores([s.cos_utt[depth] for s in books.values()]))


def routed_probs(books: dict[str, Sweep], depth: int, choice: np.ndarray) -> np.ndarray:
    """Probe probabilities ``[N, C]`` of each utterance's reconstruction through its chosen book."""
    stacked = np.stack([s.probs[depth] for s in books.values()])  # [E, N, C]
    return stacked[choice, np.arange(len(choice))]


@dataclass
class Evaluation:
    """A quantizer (plain, or a router over emotion books) on one test set, per depth."""

    depths: list[int]
    probs: dict[int, np.ndarray]  # depth -> [N, C] probe probabilities of the (routed) reconstruction
    cos_frame: dict[int, np.ndarray]
    cos_utt: dict[int, np.ndarray]
    route: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N] book index (routers only)
    books: dict[str, Sweep] = field(default_factory=dict)  # routers: every utterance through every book
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # "all" (plain) or emotion -> [T, n_codes]
    extra_probs: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)  # extra probe -> depth -> [N, C']


def evaluate(quantizer, fs, utts: list[Utterance], layer: int, *, probe, depths: Sequence[int] | None = None,
             progress=None, extra: Mapping[str, Any] | None = None) -> Evaluation:
    """Score ``quantizer`` on ``utts`` at every depth; a router is evaluated book by book and routed."""
    from emobench.quantizers.routing import is_router

    depths = list(depths or quantizer.depths)
    if not is_router(quantizer):
        s = sweep(quantizer, fs, utts, layer, depths=depths, probe=probe, progress=progress, extra=extra)
        return Evaluation(depths, s.probs, s.cos_frame, s.cos_utt, codes={"all": s.codes}, extra_probs=s.extra_probs)
    books = sweep_books(quantizer, fs, utts, layer, depths=depths, probe=probe, progress=progress, extra=extra)
    ev = Evaluation(depths, {}, {}, {}, books=books, codes={e: b.codes for e, b in books.items()})
    ev.extra_probs = {k: {} for k in extra or {}}
    rows = np.arange(len(utts))
    for d in depths:
        choice = routed(books, d)
        ev.route[d] = choice
        if probe is not None:
            ev.probs[d] = routed_probs(books, d, choice)
        for k in ev.extra_probs:
            ev.extra_probs[k][d] = np.stack([b.extra_probs[k][d] for b in books.values()])[choice, rows]
        ev.cos_frame[d] = np.stack([b.cos_frame[d] for b in books.values()])[choice, rows]
        ev.cos_utt[d] = np.stack([b.cos_utt[d] for b in books.values()])[choice, rows]
    return ev
