"""The preamble every task shares: which utterances play which part (per-corpus splits with codebooks
fitted leave-one-corpus-out, or training corpora and OOD test sets), their features, and the probe."""

from __future__ import annotations

from dataclasses import dataclass, field

from emobench import splits as sp
from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.tasks.inputs import TaskInputs


def limited(inputs: TaskInputs, s: sp.Splits) -> sp.Splits:
    """``--limit``: every part of a split cut to its first N utterances (every emotion kept), so that only
    what is used is extracted."""
    from dataclasses import replace

    return replace(s, train=inputs.limited(s.train), val=inputs.limited(s.val), test=inputs.limited(s.test),
                   codebook_train=inputs.limited(s.codebook_train))


def per_corpus_splits(inputs: TaskInputs, *, codebook_protocol: str, split: str, split_params: dict,
                      fractions) -> dict[str, list]:
    """Per evaluated corpus, its Splits (one per fold): codebook data from the other corpora when several
    are loaded and ``codebook_protocol="loco"`` (the paper's RQ1/RQ2), else the corpus' own train part.
    Leakage is checked here, before any expensive work."""
    if codebook_protocol not in ("loco", "within"):
        raise EmobenchError(f"codebook_protocol must be 'loco' or 'within', got {codebook_protocol!r}")
    all_utts = [u for c in inputs.corpora.values() for u in c.utterances]
    out = {}
    for name, corpus in inputs.corpora.items():
        if codebook_protocol == "loco" and len(inputs.corpora) > 1:
            folds = sp.leave_one_corpus_out(all_utts, held_out=name, seed=inputs.seed, fractions=fractions,
                                            protocol=split, **split_params)
        else:
            folds = sp.split(corpus.utterances, split, seed=inputs.seed, fractions=fractions, **split_params)
        for s in folds:
            s.check()
        out[name] = [limited(inputs, s) for s in folds]
    return out


@dataclass
class OODProtocol:
    splits: sp.Splits  # of the training corpora
    select: list[Utterance]  # depth selection: the training corpora's test splits
    ood: dict[str, list[Utterance]]  # OOD test sets by name
    roles: dict[str, str]
    notes: list[str] = field(default_factory=list)


def ood_protocol(inputs: TaskInputs, ood_names, fractions, *, task: str, split: str = "stratified",
                 ood_partition: dict | None = None) -> OODProtocol:
    """Split the training corpora, collect the OOD sets (a corpus' own test partition where it has one,
    e.g. MSP-Podcast's Test1), or with none loaded hold out half of the test speakers as pseudo-OOD."""
    train_names = [c for c in inputs.corpora if c not in ood_names]
    ood_loaded = [c for c in inputs.corpora if c in ood_names]
    if not train_names:
        raise EmobenchError(f"{task}: every loaded corpus ({', '.join(inputs.corpora)}) is an OOD test set; load "
                            "training corpora too (e.g. -c esd=... -c ravdess=...) or change -T ood=[...]")
    train_utts = [u for c in train_names for u in inputs.corpora[c].utterances]
    roles = {c: "train" for c in train_names}
    if ood_loaded:
        splits = sp.split(train_utts, split, seed=inputs.seed, fractions=fractions)[0]
        ood, notes = {}, []
        for c in ood_loaded:
            utts = inputs.corpora[c].utterances
            part = (ood_partition or {}).get(c)
            if part is not None:
                chosen = [u for u in utts if u.split in set(part)]
                if not chosen:
                    raise EmobenchError(f"{task}: OOD corpus {c!r} has no utterances in partition {part}; it has "
                                        f"{sorted({str(u.split) for u in utts})}")
                notes.append(f"{c}: OOD set = its {'+'.join(part)} partition ({len(chosen)} of {len(utts)})")
                utts = chosen
            ood[c] = inputs.limited(utts)
        roles.update({c: "ood" for c in ood_loaded})
        sp.check_disjoint(splits.fit_utts, [u for v in ood.values() for u in v], by_speaker=False)
        splits = limited(inputs, splits)
        return OODProtocol(splits, splits.test, ood, roles, notes)
    splits = sp.speaker_independent(train_utts, seed=inputs.seed, fractions=fractions)
    speakers = sorted({(u.corpus, u.speaker) for u in splits.test})
    if len(speakers) < 2:
        raise EmobenchError(f"{task}: no OOD corpus is loaded and the test split has {len(speakers)} speaker(s), "
                            "too few to hold some out; load an OOD corpus (-T ood=[...])")
    pseudo = set(speakers[::2])  # the larger half: the reported set, whose intervals need >= 2 speakers
    select = [u for u in splits.test if (u.corpus, u.speaker) not in pseudo]
    name = f"{'+'.join(train_names)}-unseen-speakers"
    ood = {name: inputs.limited([u for u in splits.test if (u.corpus, u.speaker) in pseudo])}
    notes = [f"no OOD corpus loaded ({', '.join(ood_names)}): pseudo-OOD set {name!r} = test speakers "
             f"{', '.join(s for _, s in sorted(pseudo))}, never seen in fitting nor in depth selection"]
    return OODProtocol(limited(inputs, splits), inputs.limited(select), ood, roles, notes)


def candidate_depths(allowed: int | list[int], max_candidates: int = 32) -> list[int]:
    """Depths tried in cross-validation: every allowed one (``quantizer.depths``, or 1..n), or an even
    grid over them (always with the deepest) for deep layouts such as 128x2."""
    import numpy as np

    allowed = list(range(1, allowed + 1)) if isinstance(allowed, int) else sorted(allowed)
    if len(allowed) <= max_candidates:
        return allowed
    picks = np.unique(np.round(np.linspace(0, len(allowed) - 1, max_candidates)).astype(int))
    return [allowed[i] for i in picks]


def select_depth(scores: dict[int, float]) -> int:
    """The depth with the highest score; ties go to the shallower (cheaper) depth."""
    best = max(scores.values())
    return min(d for d, s in scores.items() if s >= best - 1e-12)
