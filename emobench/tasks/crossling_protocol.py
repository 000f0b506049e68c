"""Who plays which part in crossling-ser: per corpus the emotion split, the speaker-control split inside its
train part, and the codebook data; across corpora the language labels.

Emotion: the paper's speaker-independent split, stratified by emotion, 80/10/10 per corpus (D'Asaro et al.
2024, section 4.1). Speaker control: speaker identity needs the same speakers in training and test, so the
speakers of the emotion train part are split by utterance (stratified by speaker, ``control_fractions``);
its test utterances are held out of the codebook data, so that a codebook never reconstructs what it was
fitted on, as for the emotion test part. Language control: every corpus' emotion train/val/test parts,
labelled with their utterances' language (the loaders' ``meta["language"]``), so the language probe is
tested on unseen speakers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from emobench import splits as sp
from emobench.corpora.base import Corpus, Utterance
from emobench.errors import EmobenchError
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.protocol import limited


@dataclass
class CorpusPlan:
    name: str
    language: str | None  # the corpus' language (its utterances' most common meta["language"])
    labels: list[str]  # the corpus' own label set
    splits: sp.Splits  # emotion: train / val / test
    speakers: list[str] = field(default_factory=list)  # speaker-control classes (empty: no control)
    speaker_parts: dict[str, list[Utterance]] = field(default_factory=dict)  # train/val/test, label = speaker
    codebook: list[Utterance] = field(default_factory=list)  # its share of codebook data

    @property
    def held_out(self) -> set[str]:
        """Ids no codebook may be fitted on: the speaker-control test utterances."""
        return {u.id for u in self.speaker_parts.get("test", [])}


def language_of(utts: list[Utterance]) -> str | None:
    found = Counter(u.meta.get("language") for u in utts if u.meta.get("language"))
    return found.most_common(1)[0][0] if found else None


def speaker_parts(train: list[Utterance], fractions, seed: int) -> tuple[list[str], dict[str, list[Utterance]]]:
    """The speaker-control split of an emotion train part: each speaker's utterances split by ``fractions``;
    ``label`` set to the speaker id. No control (empty) with fewer than two speakers."""
    speakers = sorted({u.speaker for u in train})
    if len(speakers) < 2:
        return [], {}
    relabelled = [replace(u, label=u.speaker) for u in train]
    s = sp.stratified(relabelled, fractions=fractions, seed=seed)
    return speakers, {"train": s.train, "val": s.val, "test": s.test}


def plan_corpus(inputs: TaskInputs, corpus: Corpus, *, split: str, split_params: dict, fractions,
                speaker_control: bool, control_fractions) -> CorpusPlan:
    folds = sp.split(corpus.utterances, split, seed=inputs.seed, fractions=fractions, **split_params)
    if len(folds) != 1:
        raise EmobenchError(f"crossling-ser scores one split per corpus, but split {split!r} gives {len(folds)}; "
                            "use speaker_independent, stratified, predefined or from_file")
    s = limited(inputs, folds[0])
    s.check()
    plan = CorpusPlan(corpus.name, language_of(corpus.utterances), list(corpus.label_set), s)
    if speaker_control:
        plan.speakers, plan.speaker_parts = speaker_parts(s.train, control_fractions, inputs.seed)
    plan.codebook = [u for u in s.train if u.id not in plan.held_out]
    return plan


def balanced_share(inputs: TaskInputs, plan: CorpusPlan) -> list[Utterance]:
    """``codebook_data="balanced"``: the corpus' codebook data with every emotion equally often."""
    from emobench.quantizers.compositions import compose

    pool = plan.codebook
    present = sorted({u.label for u in pool})
    n = min(sum(u.label == lab for u in pool) for lab in present) * len(present) if present else 0
    idx = compose([u.label for u in pool], scheme="balanced", n_total=n, seed=inputs.seed, emotions=present)
    return [pool[i] for i in idx]


def codebook_groups(inputs: TaskInputs, plans: dict[str, CorpusPlan], *, protocol: str, data: str,
                    ) -> tuple[dict[str, list[Utterance]], dict[str, str], list[str]]:
    """Codebook data by codebook (``shared``: one over every corpus; ``within``: one per corpus on its own
    data; ``loco``: one per corpus on the other corpora's), which codebook scores each corpus, and notes."""
    share = {c: (balanced_share(inputs, p) if data == "balanced" else p.codebook) for c, p in plans.items()}
    notes = []
    if protocol == "shared":
        groups = {"shared": [u for c in plans for u in share[c]]}
        used = dict.fromkeys(plans, "shared")
    elif protocol == "within" or len(plans) == 1:
        if protocol == "loco":
            notes.append("one corpus loaded: its codebook is fitted on its own train part (leave-one-corpus-out "
                         "needs two or more)")
        groups, used = dict(share), {c: c for c in plans}
    else:
        groups = {c: [u for other in plans if other != c for u in share[other]] for c in plans}
        used = {c: c for c in plans}
    scored = [u for p in plans.values() for u in p.splits.val + p.splits.test + p.speaker_parts.get("test", [])]
    for utts in groups.values():
        sp.check_disjoint(utts, scored, by_speaker=False)
    return groups, used, notes


def language_parts(plans: dict[str, CorpusPlan]) -> tuple[list[str], dict[str, list[Utterance]], list[str]]:
    """Language-control classes and train/val/test parts (label = language), and notes."""
    by_part = {part: [replace(u, label=u.meta.get("language")) for p in plans.values()
                      for u in getattr(p.splits, part) if u.meta.get("language")] for part in ("train", "val", "test")}
    languages = sorted({u.label for u in by_part["train"]})
    notes = []
    missing = [c for c, p in plans.items() if p.language is None]
    if missing:
        notes.append(f"no language recorded for {', '.join(missing)} (their loaders set none): left out of the "
                     "language control")
    if len(languages) < 2:
        notes.append(f"language control skipped: the loaded corpora cover {len(languages)} language(s)")
        return [], {}, notes
    return languages, by_part, notes
