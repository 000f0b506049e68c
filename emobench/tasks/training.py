"""What tasks fit: training compositions of codebooks (planned before any expensive work), the
codebooks themselves, and the in-domain probe. RQ1-RQ4 and ood-ser share these."""

from __future__ import annotations

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.tasks.base import TaskContext


def training_utterances(ctx: TaskContext, splits, *, scheme: str = "balanced", target: str | None = None,
                        target_share: float = 1.0, n_total: int | None = None) -> list[Utterance]:
    """The utterances that fit codebooks, drawn from the split's codebook data with a composition."""
    from emobench.quantizers.compositions import compose

    pool = ctx.limit(splits.codebook_train or splits.train)
    idx = compose([u.label for u in pool], scheme=scheme, target=target, target_share=target_share,
                  n_total=n_total, seed=ctx.seed)
    return [pool[i] for i in idx]


def train_probe_on(ctx: TaskContext, fs, splits, labels):
    """The in-domain probe: trained on continuous pooled features of ``splits.train``, selected on val
    (``e2v-head`` instead takes emotion2vec's head from the upstream)."""
    X_tr, train = ctx.pooled(fs, ctx.limit(splits.train))
    X_va, val = ctx.pooled(fs, ctx.limit(splits.val))
    y_tr = np.array([labels.index(u.label) for u in train])
    y_va = np.array([labels.index(u.label) for u in val])
    return ctx.train_probe(X_tr, y_tr, X_va, y_va)


def plan_codebooks(ctx: TaskContext, splits, labels, *, schemes: dict[str, float], n_train: int | None,
                   where: str) -> tuple[dict[str, list], int]:
    """Training utterances of every codebook, composed before any expensive work (so a composition
    that cannot be honoured fails first). ``schemes`` maps a name to a target share: 0 = balanced,
    1.0 = specific (100+0), 0.99 = biased 99+1, ... Keys of the result: ``"balanced"`` and
    ``"<scheme>/<emotion>"``. Returns the plan and the number of utterances per codebook."""
    pool = ctx.limit(splits.codebook_train or splits.train)
    counts = {lab: sum(u.label == lab for u in pool) for lab in labels}
    n = min(counts.values()) if n_train is None else int(n_train)
    thin = {lab: c for lab, c in counts.items() if c < max(n, 1)}
    if thin or n < len(labels):
        raise EmobenchError(
            f"{where}: codebooks trained on {n} utterances each need {max(n, len(labels))} utterances of every "
            f"emotion in the codebook data, but it has {counts}; lower n_train, raise --limit or add data"
        )
    plan: dict[str, list] = {}
    for scheme, share in schemes.items():
        if share == 0:
            plan[scheme] = training_utterances(ctx, splits, scheme="balanced", n_total=n)
            continue
        for lab in labels:
            kind = "specific" if share >= 1.0 else "biased"
            plan[f"{scheme}/{lab}"] = training_utterances(ctx, splits, scheme=kind, target=lab,
                                                          target_share=float(share), n_total=n)
    return plan, n


def composition_notes(schemes: dict[str, float], n: int) -> list[str]:
    """Say when a biased scheme degenerates: A+(100-A) of n utterances keeps round(A% n) of the target,
    so 99+1 equals 100+0 below 50 utterances per codebook."""
    def first_difference(share: float) -> int:
        return next(m for m in range(1, 100_000) if round(share * m) < m)

    return [f"{name}: with {n} utterances per codebook, round({share:g} x {n}) = {n} are of the target emotion, "
            f"so it equals 100+0 here (it differs from {first_difference(share)} utterances up)"
            for name, share in schemes.items() if 0 < share < 1 and round(share * n) == n]


def balanced_quantizer(ctx: TaskContext, **overrides):
    """A single-codebook quantizer like the configured one. When the configured quantizer is
    per-emotion (Emo-Q presets), the balanced one is ``rvq`` with the same layout."""
    q = ctx.new_quantizer(**overrides)
    if not getattr(q, "per_emotion", False):
        return q
    p = q.params
    return ctx.new_quantizer("rvq", n_stages=q.n_stages, codebook_size=q.codebook_size,
                             max_points_per_centroid=p.get("max_points_per_centroid", 256), n_iter=p.get("n_iter", 20))


def fit_emotion_codebooks(ctx: TaskContext, fs, per_emotion: dict[str, list], *, share: float, tag: str,
                          **overrides) -> dict[str, object]:
    """One codebook per emotion, trained on the composed utterances ``per_emotion[emotion]``.

    A per-emotion configured quantizer (Emo-Q) is fitted once on the mapping and its books returned;
    any other quantizer is fitted once per emotion. Returns emotion -> quantizer (encode/decode)."""
    template = ctx.new_quantizer(**overrides)
    if getattr(template, "per_emotion", False):
        kind = "specific" if share >= 1.0 else "biased"
        q = ctx.new_quantizer(**{**overrides, "composition": kind, "target_share": float(share)})
        q = ctx.fit_quantizer(q, fs, per_emotion, tag=tag)
        return dict(q.books)
    return {e: ctx.fit_quantizer(ctx.new_quantizer(**overrides), fs, utts, tag=f"{tag}-{e}")
            for e, utts in per_emotion.items()}
