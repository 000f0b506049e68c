"""Emo-Q: one residual codebook per emotion and a zero-parameter router (paper section 4.4).

Each emotion's codebook is trained on a composition centred on that emotion: ``specific`` (100+0) or
``biased`` (A+(100-A), ``target_share`` = A/100); the harness builds ``{emotion: frames}`` with
``emobench.quantizers.compositions``. Routing is ``emobench.quantizers.routing``: every book quantizes
the utterance's frames, and the utterance goes to the emotion whose mean-pooled reconstruction has the
highest cosine with the mean-pooled input. ``level="utterance"`` instead trains and applies the books on
pooled utterance vectors (one vector per utterance, so training and test see the same object).

As a Quantizer, ``encode(x)`` treats the frames ``x`` as one utterance: it routes them, then codes every
frame with the chosen book; codes are ``[n, 1 + n_stages]`` with the book's index in column 0.
``bits_per_frame`` counts the stage codes; the route adds ``route_bits`` = log2(E) per utterance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from annotated_types import Ge, Gt, Le

from emobench.frames import ArrayFrameSource, FrameSource, as_frame_source
from emobench.quantizers.base import Progress, Quantizer, QuantizerError, like_input
from emobench.quantizers.routing import route_bits, route_choice, route_scores
from emobench.quantizers.rvq import ResidualVQ
from emobench.quantizers.sweep import prefix_sweep


@dataclass
class Route:
    """Routing of N utterances at one depth."""

    choice: np.ndarray  # [N] index into ``emotions``
    scores: np.ndarray  # [N, E] cos(pooled input, pooled reconstruction through each book)
    pooled: np.ndarray  # [N, D] pooled reconstruction through the chosen book
    cos_frame: np.ndarray  # [N] mean frame cosine of the chosen book's reconstruction


class EmoQ(Quantizer):
    """Per-emotion ResidualVQ codebooks with cosine routing. Extra keyword params go to every book
    (``ResidualVQ``'s: ``max_points_per_centroid``, ``n_iter``, ...)."""

    per_emotion = True
    extra_params = ResidualVQ

    def __init__(
        self,
        *,
        n_stages: Annotated[int, Ge(1)] = 8,
        codebook_size: Annotated[int, Ge(2)] = 32,
        composition: Literal["specific", "biased"] = "specific",
        target_share: Annotated[float, Gt(0), Le(1)] = 1.0,
        emotions: Sequence[str] | None = None,
        level: Literal["frame", "utterance"] = "frame",
        **book: Any,
    ):
        if (composition == "specific") != (target_share >= 1.0):
            raise QuantizerError(f"EmoQ: composition {composition!r} does not fit target_share={target_share}")
        ResidualVQ(n_stages=n_stages, codebook_size=codebook_size, **book)  # checks the books' settings now
        super().__init__(n_stages=n_stages, codebook_size=codebook_size, composition=composition,
                         target_share=target_share, emotions=list(emotions) if emotions else None, level=level,
                         **book)
        self.n_stages, self.codebook_size = int(n_stages), int(codebook_size)
        self.books: dict[str, ResidualVQ] = {}

    @property
    def input_level(self) -> str:
        return self.params["level"]

    @property
    def emotions(self) -> list[str]:
        return list(self.books) or list(self.params["emotions"] or [])

    @property
    def route_bits(self) -> float:
        return route_bits(len(self.emotions))

    def _new_book(self) -> ResidualVQ:
        book = {k: v for k, v in self.params.items()
                if k not in ("composition", "target_share", "emotions", "level")}
        return ResidualVQ(**book)

    def book(self, emotion: str) -> ResidualVQ:
        if emotion not in self.books:
            raise QuantizerError(f"EmoQ has no codebook for {emotion!r} (has {', '.join(self.books) or 'none'})")
        return self.books[emotion]

    # -- fitting -------------------------------------------------------------------------------------
    def _per_emotion_sources(self, frames: Any, labels: Any, *, seed: int) -> dict[str, FrameSource]:
        if isinstance(frames, Mapping):
            sources = {str(e): as_frame_source(f) for e, f in frames.items()}
        elif labels is not None:  # per-row labels: compose over rows (the harness composes utterances)
            from emobench.quantizers.compositions import per_emotion

            x = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
            picks = per_emotion(labels, target_share=self.params["target_share"], seed=seed,
                                emotions=self.params["emotions"])
            sources = {e: ArrayFrameSource(x[idx]) for e, idx in picks.items()}
        else:
            raise QuantizerError("EmoQ.fit needs {emotion: frames} (built with a composition) or frames + labels")
        wanted = self.params["emotions"]
        if wanted:
            missing = [e for e in wanted if e not in sources or sources[e].n_frames == 0]
            if missing:
                raise QuantizerError(f"EmoQ.fit: no training frames for emotion(s) {', '.join(missing)}; "
                                     "add data for them or drop them from `emotions`")
            sources = {e: sources[e] for e in wanted}
        if len(sources) < 2:
            raise QuantizerError(f"EmoQ needs at least two emotions to route between, got {sorted(sources)}")
        return sources

    def _fit(self, source: dict[str, FrameSource], *, device: torch.device, seed: int,
             progress: Progress | None) -> None:
        self.books = {}
        for i, (emotion, frames) in enumerate(source.items()):
            self.books[emotion] = self._new_book().fit(frames, device=str(device), seed=seed + 1000 * i)
            if progress:
                progress("EmoQ: emotions", i + 1, len(source))
        self.params["emotions"] = list(self.books)
        self.fit_info = {e: b.fit_info for e, b in self.books.items()}

    def state_bytes(self, dim: int) -> int:
        return max(len(self.params["emotions"] or ()), 4) * self._new_book().state_bytes(dim)

    # -- routing -------------------------------------------------------------------------------------
    def route(self, frames: Any, lengths: Sequence[int], depths: Sequence[int]) -> dict[int, Route]:
        """Route each utterance (frames ``[T, D]`` concatenated, ``lengths [N]``) at every depth."""
        depths = [self.check_depth(d) for d in depths]
        x = self.check_input(frames, "route")
        lens = np.asarray(lengths, dtype=np.int64)
        if self.input_level == "utterance":  # the books were trained on pooled vectors: give them those
            from emobench.quantizers.sweep import owners, segment_mean

            x = segment_mean(x, owners(lens, x.device), torch.as_tensor(lens, device=x.device))
            lens = np.ones(len(x), dtype=np.int64)
        stats = [prefix_sweep(b, x, lens, depths) for b in self.books.values()]
        out = {}
        for d in depths:
            scores = route_scores([s.cos_utt[d] for s in stats])  # [N, E]
            choice = route_choice(scores)
            rows = np.arange(len(choice))
            pooled = np.stack([s.pooled[d] for s in stats])[choice, rows]  # [N, D]
            cos_frame = np.stack([s.cos_frame[d] for s in stats])[choice, rows]
            out[d] = Route(choice, scores, pooled, cos_frame)
        return out

    def predict(self, frames: Any, lengths: Sequence[int], *, depth: int | None = None) -> np.ndarray:
        """Emo-Q as a classifier: the routed emotion name per utterance ``[N]``."""
        depth = self.check_depth(depth)
        return np.asarray(self.emotions, dtype=object)[self.route(frames, lengths, [depth])[depth].choice]

    # -- codec ---------------------------------------------------------------------------------------
    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        j = int(self.route(x, [len(x)], [self.n_stages])[self.n_stages].choice[0]) if len(x) else 0
        codes = list(self.books.values())[j]._encode(x)
        return torch.cat([torch.full_like(codes[:, :1], j), codes], 1)

    def encode(self, x: Any, *, emotion: str | None = None) -> Any:
        """Codes ``[n, 1 + n_stages]`` of ``x`` as one utterance (routed, or through ``emotion``'s book)."""
        t = self.check_input(x, "encode")
        if emotion is None:
            return like_input(self._encode(t), x)
        codes = self.book(emotion)._encode(t)
        j = self.emotions.index(emotion)
        return like_input(torch.cat([torch.full_like(codes[:, :1], j), codes], 1), x)

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        if codes.shape[1] < 1 + depth:
            raise QuantizerError(f"EmoQ.decode: codes have {codes.shape[1]} columns; depth {depth} needs {1 + depth}")
        which = codes[:, 0]
        if len(codes) and (int(which.min()) < 0 or int(which.max()) >= len(self.books)):
            raise QuantizerError(f"EmoQ.decode: codebook index outside 0..{len(self.books) - 1}")
        out = torch.zeros(len(codes), self.dim, device=self.device)
        for j, book in enumerate(self.books.values()):
            rows = which == j
            if bool(rows.any()):
                out[rows] = book._decode(codes[rows, 1:], depth)
        return out

    def stage_codes(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(codes)[:, 1:]

    # -- persistence ---------------------------------------------------------------------------------
    def _state(self) -> dict[str, torch.Tensor]:
        return {f"codebooks.{e}": b.codebooks for e, b in self.books.items()}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.books = {}
        for e in self.params["emotions"]:
            if f"codebooks.{e}" not in tensors:
                raise QuantizerError(f"EmoQ: saved codebooks lack emotion {e!r}")
            book = self._new_book()
            book._load_state({"codebooks": tensors[f"codebooks.{e}"]})
            book.dim, book.device = int(tensors[f"codebooks.{e}"].shape[-1]), self.device
            self.books[e] = book

    def to(self, device: str | torch.device) -> EmoQ:
        self.device = torch.device(device)
        for b in self.books.values():
            b.to(device)
        return self
