"""What every corpus loader returns: utterances with canonical labels, optional soft labels."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The paper's label set (Emo-Q section 3.1); other sets are selectable per corpus.
DEFAULT_LABELS: tuple[str, ...] = ("angry", "happy", "neutral", "sad")


@dataclass(frozen=True)
class Utterance:
    """One labelled utterance. ``id`` is unique across corpora: ``"<corpus>/<corpus-local id>"``."""

    id: str
    corpus: str
    path: str  # absolute audio path (or a loader-specific reference such as an HF row)
    speaker: str
    label: str | None  # canonical emotion from the label set after its label map; None: no agreement (kept for RQ3)
    soft_label: tuple[float, ...] | None = None  # vote shares over the label set, sums to 1
    primary_share: float | None = None  # the top category's share of ALL votes, before any restriction (RQ3 strata)
    split: str | None = None  # the corpus' own predefined split / session / partition, if any
    start_s: float | None = None  # segment within the file, when the corpus ships long recordings
    end_s: float | None = None
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Corpus:
    """A loaded corpus. ``dropped`` counts utterances whose label is outside the label set."""

    name: str
    root: Path | None
    label_set: tuple[str, ...]
    utterances: list[Utterance]
    dropped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    synthetic: bool = False
    has_soft_labels: bool = False
    # Added for native-layout loaders (all optional): files not taken at all and why (e.g. RAVDESS song
    # files), native code -> what it became under the label set, and where soft labels came from.
    skipped: dict[str, int] = field(default_factory=dict)
    label_map: dict[str, str] = field(default_factory=dict)
    soft_label_source: str | None = None
    # Utterances without an agreed label (IEMOCAP xxx, MSP-Podcast X) that carry votes: the paper's
    # high-ambiguity population, used by RQ3 only; hard-label tasks never see them (counted in ``dropped``).
    unlabelled: list[Utterance] = field(default_factory=list)
    unusable: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): skipped, listed in .skipped.csv

    def content_fingerprint(self, file_hash) -> str:
        """Identifies what the corpus holds: ids, labels, speakers, votes, splits, segments and the sha256
        of every audio file (``file_hash(path)``, e.g. the feature cache's memoised AudioHasher)."""
        h = hashlib.sha256()
        for u in sorted(self.utterances + self.unlabelled, key=lambda u: u.id):
            try:
                digest = file_hash(u.path)
            except Exception:  # unreadable audio is skipped at extraction; its absence still identifies
                digest = "unreadable"
            h.update(f"{u.id}|{u.label}|{u.speaker}|{u.soft_label}|{u.primary_share}|{u.split}|{u.start_s}|"
                     f"{u.end_s}|{digest}\n".encode())
        h.update(f"labels={self.label_set}".encode())
        return h.hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.utterances)
