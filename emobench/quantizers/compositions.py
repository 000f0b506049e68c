"""Training-set compositions for codebooks (paper sections 4.1-4.3), usable with any quantizer.

Compositions pick *utterances* (indices into utterance-level labels); the harness then streams their
frames to ``fit``. Schemes, all with the same total number of utterances ``n_total``:
  * ``balanced``: equal utterances per emotion (remainder of n_total / E to randomly chosen emotions);
  * ``specific``: all n_total from the target emotion (the paper's 100+0);
  * ``biased``: round(target_share * n_total) from the target, the rest spread evenly over the other
    emotions (the paper's A+(100-A), "drawn uniformly from other emotions"; when the rest does not
    divide evenly, the extra utterances go to randomly chosen other emotions).
``n_total`` defaults to the smallest per-emotion count, the largest total every scheme and every
target can honour, so schemes stay comparable without the caller computing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emobench.quantizers.base import QuantizerError

SCHEMES = ("balanced", "specific", "biased")


def compose(
    labels: Sequence[str],
    *,
    scheme: str,
    target: str | None = None,
    target_share: float = 1.0,
    n_total: int | None = None,
    seed: int = 0,
    emotions: Sequence[str] | None = None,
) -> np.ndarray:
    """Sorted int64 indices of the utterances to train on. ``emotions`` (default: those present)
    is the label set; an emotion in it with no utterances is an error."""
    labels = np.asarray([str(x) for x in labels])
    emotions = sorted({str(e) for e in emotions}) if emotions is not None else sorted(set(labels.tolist()))
    pools = {e: np.flatnonzero(labels == e) for e in emotions}
    empty = [e for e, idx in pools.items() if len(idx) == 0]
    if scheme not in SCHEMES:
        raise QuantizerError(f"unknown composition {scheme!r}; choose one of {', '.join(SCHEMES)}")
    if scheme == "specific":
        target_share = 1.0
    if scheme != "balanced":
        if target is None:
            raise QuantizerError(f"composition {scheme!r} needs a target emotion")
        if str(target) not in pools:
            raise QuantizerError(
                f"composition {scheme!r} asks for emotion {target!r}, but the training labels have none "
                f"(have: {', '.join(e for e in emotions if len(pools[e]))}); pick another target or add data"
            )
        if not 0.0 < target_share <= 1.0:
            raise QuantizerError(f"target_share must be in (0, 1], got {target_share}")
    if empty and (scheme == "balanced" or (target_share < 1.0) or str(target) in empty):
        raise QuantizerError(
            f"composition {scheme!r} needs utterances of every emotion, but {', '.join(empty)} has none; "
            "add data for it or drop it from the label set"
        )
    if n_total is None:
        n_total = min(len(idx) for idx in pools.values())
    rng = np.random.default_rng(seed)
    quota = _quotas(
        emotions, scheme, None if target is None else str(target), target_share, int(n_total), rng
    )
    picked = []
    for e, n in quota.items():
        if n > len(pools[e]):
            raise QuantizerError(
                f"composition {scheme!r} (n_total={n_total}) needs {n} utterances of {e!r}, only "
                f"{len(pools[e])} exist; lower n_total"
            )
        picked.append(rng.choice(pools[e], size=n, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64) if picked else np.zeros(0, dtype=np.int64)


def _quotas(
    emotions: list[str], scheme: str, target: str | None, share: float, n_total: int, rng: np.random.Generator
) -> dict[str, int]:
    if scheme == "balanced":
        return _spread(emotions, n_total, rng)
    n_target = int(round(share * n_total))
    others = [e for e in emotions if e != target]
    quota = {target: n_target}
    if n_total - n_target:
        if not others:
            raise QuantizerError(f"composition 'biased' needs emotions other than {target!r}")
        quota.update(_spread(others, n_total - n_target, rng))
    return quota


def _spread(emotions: list[str], n: int, rng: np.random.Generator) -> dict[str, int]:
    base, extra = divmod(n, len(emotions))
    lucky = set(rng.choice(len(emotions), size=extra, replace=False).tolist()) if extra else set()
    return {e: base + (i in lucky) for i, e in enumerate(emotions)}


def per_emotion(
    labels: Sequence[str],
    *,
    target_share: float = 1.0,
    n_total: int | None = None,
    seed: int = 0,
    emotions: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """One composition per emotion, as Emo-Q trains: specific (share 1.0) or biased (share < 1)."""
    labels = [str(x) for x in labels]
    emotions = sorted({str(e) for e in emotions}) if emotions is not None else sorted(set(labels))
    scheme = "specific" if target_share >= 1.0 else "biased"
    return {
        e: compose(
            labels,
            scheme=scheme,
            target=e,
            target_share=target_share,
            n_total=n_total,
            seed=seed + i,
            emotions=emotions,
        )
        for i, e in enumerate(emotions)
    }
