"""Emo-Q: one residual codebook per emotion, and a zero-parameter router (paper section 4.4).

Each emotion's codebook is trained on a composition centred on that emotion: ``specific`` (100+0)
or ``biased`` (A+(100-A), ``target_share`` = A/100); the harness builds ``{emotion: frames}`` with
``emobench.quantizers.compositions.per_emotion``. Routing predicts y = argmax_i cos(z, e_i), e_i the
reconstruction of z through emotion i's codebook at a chosen depth.

Default ``level="utterance"``: z is the mean-pooled utterance vector, as in the paper. Pooling
averages out frame-level phonetic variation and silence, which otherwise dominate per-frame
reconstruction error, and it costs E reconstructions per utterance instead of per frame.
``level="frame"`` scores an utterance by the mean cosine of its frames' reconstructions instead.

As a codec, ``encode`` picks per frame the codebook that reconstructs it best (or the one named by
``emotion=``) and stores its index in column 0: codes are ``[n, 1 + n_stages]``. ``bits_per_frame``
counts the stage codes only; the codebook choice adds ``route_bits`` = log2(E) per frame (per
utterance when routed at utterance level).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from emobench.frames import ArrayFrameSource, FrameSource, as_frame_source
from emobench.quantizers.base import Progress, Quantizer, QuantizerError, like_input
from emobench.quantizers.rvq import ResidualVQ, rvq_from_params

LEVELS = ("utterance", "frame")


class EmoQ(Quantizer):
    """Per-emotion ResidualVQ codebooks with cosine routing."""

    per_emotion = True

    def __init__(
        self,
        *,
        n_stages: int = 8,
        codebook_size: int = 32,
        composition: str = "specific",
        target_share: float = 1.0,
        emotions: Sequence[str] | None = None,
        level: str = "utterance",
        max_points_per_centroid: int | None = 256,
        n_iter: int = 20,
        tol: float = 1e-4,
    ):
        if composition not in ("specific", "biased"):
            raise QuantizerError(f"EmoQ composition must be 'specific' or 'biased', got {composition!r}")
        if (composition == "specific") != (target_share >= 1.0) or not 0 < target_share <= 1:
            raise QuantizerError(
                f"EmoQ: composition {composition!r} does not fit target_share={target_share}"
            )
        if level not in LEVELS:
            raise QuantizerError(f"EmoQ level must be one of {LEVELS}, got {level!r}")
        super().__init__(
            n_stages=n_stages,
            codebook_size=codebook_size,
            composition=composition,
            target_share=target_share,
            emotions=list(emotions) if emotions else None,
            level=level,
            max_points_per_centroid=max_points_per_centroid,
            n_iter=n_iter,
            tol=tol,
        )
        self.n_stages, self.codebook_size = int(n_stages), int(codebook_size)
        self.books: dict[str, ResidualVQ] = {}

    @property
    def emotions(self) -> list[str]:
        return list(self.books) or list(self.params["emotions"] or [])

    @property
    def route_bits(self) -> float:
        return float(np.log2(max(len(self.emotions), 1)))

    def _new_book(self) -> ResidualVQ:
        return rvq_from_params(self.n_stages, self.codebook_size, self.params)

    # -- fitting -------------------------------------------------------------------------------------
    def _per_emotion_sources(self, frames: Any, labels: Any, *, seed: int) -> dict[str, FrameSource]:
        if isinstance(frames, Mapping):
            sources = {str(e): as_frame_source(f) for e, f in frames.items()}
        elif labels is not None:  # per-frame labels: compose over frames (the harness composes utterances)
            from emobench.quantizers.compositions import per_emotion

            x = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
            picks = per_emotion(
                labels, target_share=self.params["target_share"], seed=seed, emotions=self.params["emotions"]
            )
            sources = {e: ArrayFrameSource(x[idx]) for e, idx in picks.items()}
        else:
            raise QuantizerError(
                "EmoQ.fit needs {emotion: frames} (built with a composition) or frames + labels"
            )
        wanted = self.params["emotions"]
        if wanted:
            missing = [e for e in wanted if e not in sources or sources[e].n_frames == 0]
            if missing:
                raise QuantizerError(
                    f"EmoQ.fit: no training frames for emotion(s) {', '.join(missing)}; "
                    "add data for them or drop them from `emotions`"
                )
            sources = {e: sources[e] for e in wanted}
        if len(sources) < 2:
            raise QuantizerError(f"EmoQ needs at least two emotions to route between, got {sorted(sources)}")
        return sources

    def _fit(
        self, source: dict[str, FrameSource], *, device: torch.device, seed: int, progress: Progress | None
    ) -> None:
        self.books = {}
        for i, (emotion, frames) in enumerate(source.items()):
            book = self._new_book()
            book.fit(frames, device=str(device), seed=seed + 1000 * i, progress=progress)
            self.books[emotion] = book
            if progress:
                progress("EmoQ: emotions", i + 1, len(source))
        self.params["emotions"] = list(self.books)
        self.fit_info = {e: b.fit_info for e, b in self.books.items()}

    def training_sets(self, labels, *, n_total: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
        """``{emotion: utterance indices}`` for this Emo-Q's composition (specific or biased), over
        utterance-level ``labels``: what the harness streams to ``fit`` as ``{emotion: frames}``."""
        from emobench.quantizers.compositions import per_emotion

        return per_emotion(
            labels,
            target_share=self.params["target_share"],
            n_total=n_total,
            seed=seed,
            emotions=self.params["emotions"],
        )

    # -- routing -------------------------------------------------------------------------------------
    def reconstruct_with(self, emotion: str, x: Any, depth: int | None = None) -> Any:
        return self._book(emotion).reconstruct(x, depth)

    def _book(self, emotion: str) -> ResidualVQ:
        if emotion not in self.books:
            raise QuantizerError(
                f"EmoQ has no codebook for {emotion!r} (has {', '.join(self.books) or 'none'})"
            )
        return self.books[emotion]

    def _cosines(self, x: torch.Tensor, depth: int) -> torch.Tensor:
        """[n, E] cosine between each row and its reconstruction through each emotion's codebook."""
        out = torch.empty(len(x), len(self.books), device=x.device)
        for j, book in enumerate(self.books.values()):
            for s in range(0, len(x), self.encode_chunk):
                xc = x[s : s + self.encode_chunk]
                rec = book._decode(book._encode(xc), depth)
                out[s : s + len(xc), j] = F.cosine_similarity(xc, rec, dim=1, eps=1e-8)
        return out

    def route(
        self, z: Any, *, depth: int | None = None, level: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted emotion index ``[N]`` and cosine scores ``[N, E]`` (columns in ``emotions`` order).

        ``z``: ``[N, D]`` utterance vectors (already pooled), or a sequence of ``[T_i, D]`` frame arrays,
        one per utterance, which are mean-pooled (``level="utterance"``) or scored frame by frame."""
        level = level or self.params["level"]
        if level not in LEVELS:
            raise QuantizerError(f"EmoQ.route: level must be one of {LEVELS}, got {level!r}")
        depth = self.check_depth(depth)
        if isinstance(z, (np.ndarray, torch.Tensor)) and getattr(z, "ndim", 0) == 2:
            if level == "frame":
                raise QuantizerError(
                    "EmoQ.route(level='frame') needs a list of [frames, dim] arrays, one per utterance"
                )
            scores = self._cosines(self.check_input(z, "route"), depth)
        else:
            utts = [self.check_input(u, "route") for u in z]
            if any(len(u) == 0 for u in utts):
                raise QuantizerError("EmoQ.route: an utterance has no frames")
            if level == "utterance":
                scores = self._cosines(torch.stack([u.mean(0) for u in utts]), depth)
            else:
                frames = torch.cat(utts)
                owner = torch.repeat_interleave(
                    torch.arange(len(utts), device=frames.device),
                    torch.tensor([len(u) for u in utts], device=frames.device),
                )
                sums = torch.zeros(len(utts), len(self.books), device=frames.device)
                sums.index_add_(0, owner, self._cosines(frames, depth))
                scores = sums / torch.bincount(owner, minlength=len(utts))[:, None]
        return scores.argmax(1).cpu().numpy(), scores.cpu().numpy()

    def predict(self, z: Any, *, depth: int | None = None, level: str | None = None) -> np.ndarray:
        """Predicted emotion names ``[N]``: Emo-Q as a classifier that tasks can score."""
        idx, _ = self.route(z, depth=depth, level=level)
        return np.asarray(self.emotions, dtype=object)[idx]

    # -- codec ---------------------------------------------------------------------------------------
    def encode(self, x: Any, *, emotion: str | None = None) -> Any:
        """Codes ``[n, 1 + n_stages]``: column 0 the codebook (emotion index), then its stage codes."""
        if emotion is None:
            return super().encode(x)
        t = self.check_input(x, "encode")
        book, j = self._book(emotion), self.emotions.index(emotion)
        codes = (
            torch.cat([book._encode(c) for c in t.split(self.encode_chunk)])
            if len(t)
            else torch.zeros(0, self.n_stages, dtype=torch.long, device=t.device)
        )
        return like_input(torch.cat([torch.full_like(codes[:, :1], j), codes], 1), x)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        per_book = [book._encode(x) for book in self.books.values()]  # E x [n, L]
        cos = torch.stack(
            [
                F.cosine_similarity(x, b._decode(c, self.n_stages), dim=1, eps=1e-8)
                for b, c in zip(self.books.values(), per_book)
            ],
            1,
        )
        best = cos.argmax(1)
        codes = torch.stack(per_book, 1)[torch.arange(len(x), device=x.device), best]  # [n, L]
        return torch.cat([best[:, None], codes], 1)

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        if codes.shape[1] < 1 + depth:
            raise QuantizerError(
                f"EmoQ.decode: codes have {codes.shape[1]} columns; depth {depth} needs {1 + depth}"
            )
        which = codes[:, 0]
        if len(codes) and (int(which.min()) < 0 or int(which.max()) >= len(self.books)):
            raise QuantizerError(f"EmoQ.decode: codebook index outside 0..{len(self.books) - 1}")
        out = torch.zeros(len(codes), self.dim, device=self.device)
        for j, book in enumerate(self.books.values()):
            rows = which == j
            if bool(rows.any()):
                out[rows] = book._decode(codes[rows, 1:], depth)
        return out

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
