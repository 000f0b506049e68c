"""What tasks fit codebooks on: training compositions planned before any expensive work (so a
composition that cannot be honoured fails first), shared by RQ1-RQ4 and ood-ser."""

from __future__ import annotations

from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.quantizers.compositions import compose
from emobench.tasks.inputs import TaskInputs


def codebook_pool(inputs: TaskInputs, splits) -> list[Utterance]:
    """The utterances codebooks may be fitted on: the codebook data of the split, else its train part."""
    return inputs.limited(splits.codebook_train or splits.train)


def balanced(inputs: TaskInputs, splits, labels, *, total: str = "all") -> list[Utterance]:
    """Emotion-balanced training utterances: every emotion min-count times (``total="all"``, all the
    balanced data there is), or min-count in all (``total="equal"``: the total of one emotion-specific
    codebook, for comparisons at equal training size)."""
    pool = codebook_pool(inputs, splits)
    counts = {lab: sum(u.label == lab for u in pool) for lab in labels}
    if min(counts.values(), default=0) == 0:
        raise EmobenchError(f"balanced codebook data needs every emotion, but the codebook data has {counts}; "
                            "add data or raise --limit")
    n = min(counts.values()) * (len(labels) if total == "all" else 1)
    idx = compose([u.label for u in pool], scheme="balanced", n_total=n, seed=inputs.seed, emotions=labels)
    return [pool[i] for i in idx]


def plan_codebooks(inputs: TaskInputs, splits, labels, *, shares: dict[str, float], n_train: int | None,
                   where: str) -> tuple[dict[str, object], int, list[str]]:
    """Training utterances of every codebook, each of ``n`` utterances (default: the smallest per-emotion
    count of the codebook data). ``shares`` maps a role to its target share: 0 balanced, 1.0 specific
    (100+0), 0.99 biased (99+1)... Returns role -> utterances (balanced) or {emotion: utterances}, n, notes
    (a biased share that cannot be spread over every other emotion at this size is said, not hidden)."""
    pool = codebook_pool(inputs, splits)
    counts = {lab: sum(u.label == lab for u in pool) for lab in labels}
    n = min(counts.values()) if n_train is None else int(n_train)
    thin = {lab: c for lab, c in counts.items() if c < max(n, 1)}
    if thin or n < len(labels):
        raise EmobenchError(
            f"{where}: codebooks trained on {n} utterances each need {max(n, len(labels))} utterances of every "
            f"emotion in the codebook data, but it has {counts}; lower n_train, raise --limit or add data"
        )
    plan: dict[str, object] = {}
    notes = []
    labs = [u.label for u in pool]
    for role, share in shares.items():
        if share == 0:
            plan[role] = [pool[i] for i in compose(labs, scheme="balanced", n_total=n, seed=inputs.seed,
                                                   emotions=labels)]
            continue
        kind = "specific" if share >= 1.0 else "biased"
        plan[role] = {lab: [pool[i] for i in compose(labs, scheme=kind, target=lab, target_share=share, n_total=n,
                                                      seed=inputs.seed + j, emotions=labels)]
                      for j, lab in enumerate(labels)}
        others = n - round(share * n)
        if 0 < share < 1 and others < len(labels) - 1:
            notes.append(f"{role}: {share:g} x {n} utterances keeps {n - others} of the target emotion and only "
                         f"{others} of the {len(labels) - 1} others, so not every other emotion is represented "
                         f"(it differs from 100+0 {'not at all' if others == 0 else 'partly'})")
    return plan, n, notes
