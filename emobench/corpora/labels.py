"""Canonical emotion names, named label sets, and the per-corpus label map that never relabels silently.

Every loader maps its native codes onto CANONICAL names (``"W" -> "angry"`` for EmoDB); the chosen label
set then keeps some of them. A label outside the set is dropped and counted, never merged into another,
except for a corpus' documented merges (IEMOCAP ``excited -> happy``, the paper's practice), which apply
only when the source label is outside the set and the target inside it.

Soft labels: vote counts over canonical names get the same merges, then votes outside the label set are
removed and the rest renormalised to sum to 1. An utterance whose votes all fall outside the set has no
soft label (counted in ``Corpus.problems``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emobench.corpora.base import DEFAULT_LABELS
from emobench.errors import CorpusError

CANONICAL: tuple[str, ...] = (
    "angry", "happy", "neutral", "sad", "fearful", "disgust", "surprised", "calm", "excited",
    "frustrated", "bored", "contempt", "sarcastic", "other", "guilt",
)

# Spellings seen in corpora and papers -> canonical name.
SYNONYMS: dict[str, str] = {
    "anger": "angry", "ang": "angry", "happiness": "happy", "joy": "happy", "hap": "happy",
    "neutral state": "neutral", "neu": "neutral", "sadness": "sad", "fear": "fearful", "fea": "fearful",
    "disgusted": "disgust", "dis": "disgust", "surprise": "surprised", "sur": "surprised",
    "excitement": "excited", "exc": "excited", "frustration": "frustrated", "fru": "frustrated",
    "boredom": "bored", "oth": "other",
}

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "emo4": DEFAULT_LABELS,  # the paper's four classes
    "crema6": ("angry", "disgust", "fearful", "happy", "neutral", "sad"),
    "emodb7": ("angry", "bored", "disgust", "fearful", "happy", "neutral", "sad"),
    "ravdess8": ("angry", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "ravdess-song6": ("angry", "calm", "fearful", "happy", "neutral", "sad"),  # RAVDESS song has no disgust/surprise
    "esd5": ("angry", "happy", "neutral", "sad", "surprised"),
    "enterface6": ("angry", "disgust", "fearful", "happy", "sad", "surprised"),
    "iemocap6": ("angry", "excited", "frustrated", "happy", "neutral", "sad"),
    "msp8": ("angry", "contempt", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    # the full native label sets of the cross-lingual probing paper's corpora (D'Asaro et al. 2024, Table 1)
    "aesdd5": ("angry", "disgust", "fearful", "happy", "sad"),
    "cafe7": ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "demos8": ("angry", "disgust", "fearful", "guilt", "happy", "neutral", "sad", "surprised"),
    "emomatch7": ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "emovo7": ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "eyase4": ("angry", "happy", "neutral", "sad"),
    "oreau7": ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "shemo6": ("angry", "fearful", "happy", "neutral", "sad", "surprised"),
}


def canonical(name: str) -> str:
    """Normalise one spelling onto a canonical emotion name, or raise naming the valid ones."""
    key = str(name).strip().lower().replace("_", " ")
    key = SYNONYMS.get(key, key)
    if key not in CANONICAL:
        raise CorpusError(f"unknown emotion {name!r}; canonical names are {', '.join(CANONICAL)}")
    return key


def resolve_label_set(label_set: str | Sequence[str] | None) -> tuple[str, ...]:
    """A named set (``"emo4"``, ``"crema6"``...) or a list of emotion names -> tuple of canonical names."""
    if label_set is None:
        return DEFAULT_LABELS
    if isinstance(label_set, str):
        if label_set in LABEL_SETS:
            return LABEL_SETS[label_set]
        if "," in label_set:
            label_set = label_set.split(",")
        else:
            raise CorpusError(f"unknown label set {label_set!r}; choose one of {', '.join(LABEL_SETS)} "
                              "or give emotions separated by commas")
    names = tuple(canonical(x) for x in label_set)
    if len(set(names)) != len(names) or not names:
        raise CorpusError(f"label set {list(label_set)} is empty or names an emotion twice")
    return names


class LabelMap:
    """Native code -> canonical -> label-set member (or dropped), for one corpus."""

    def __init__(
        self, corpus: str, native: Mapping[str, str | None], label_set, *, merges: Mapping[str, str] | None = None
    ):
        self.corpus = corpus
        self.native = {k: (canonical(v) if v is not None else None) for k, v in native.items()}
        self.label_set = resolve_label_set(label_set)
        self.merges = {
            canonical(a): canonical(b) for a, b in (merges or {}).items()
            if canonical(a) not in self.label_set and canonical(b) in self.label_set
        }

    def to_canonical(self, code: str, *, where: str) -> str | None:
        """Canonical name of a native code (None: the corpus says 'no label', e.g. IEMOCAP xxx)."""
        if code not in self.native:
            raise CorpusError(
                f"{self.corpus}: unknown label {code!r} in {where}; expected one of {sorted(self.native)} "
                "(is this the corpus' original release?)"
            )
        return self.native[code]

    def to_set(self, canonical_name: str | None) -> str | None:
        """The label-set member for a canonical name after merges, or None when it is outside the set."""
        if canonical_name is None:
            return None
        name = self.merges.get(canonical_name, canonical_name)
        return name if name in self.label_set else None

    def soft(self, votes: Mapping[str, float]) -> tuple[float, ...] | None:
        """Votes over canonical names -> shares over the label set (merged, restricted, renormalised)."""
        acc = dict.fromkeys(self.label_set, 0.0)
        for name, count in votes.items():
            target = self.to_set(name)
            if target is not None:
                acc[target] += float(count)
        total = sum(acc.values())
        if total <= 0:
            return None
        return tuple(acc[k] / total for k in self.label_set)

    def primary_share(self, votes: Mapping[str, float]) -> float | None:
        """The top category's share of ALL votes (documented merges applied, nothing removed), computed
        exactly (votes such as 1/3 are rationals), so that a 50% share is exactly 0.5 (RQ3's strata)."""
        from fractions import Fraction

        acc: dict[str, Fraction] = {}
        for name, count in votes.items():
            key = self.merges.get(name, name)
            acc[key] = acc.get(key, Fraction(0)) + Fraction(float(count)).limit_denominator(10**6)
        total = sum(acc.values(), Fraction(0))
        return float(max(acc.values()) / total) if total > 0 else None

    def describe(self) -> dict[str, str]:
        """Native code -> what it becomes under this label set (for `corpus info`)."""
        out = {}
        for code, name in self.native.items():
            target = self.to_set(name)
            out[code] = target if target is not None else f"dropped ({name or 'no label'})"
        return out
