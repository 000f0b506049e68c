"""CREMA-D (Cao et al. 2014), as in github.com/CheyneyComputerScience/CREMA-D (audio via Git LFS).

Layout: ``AudioWAV/1001_DFA_ANG_XX.wav`` (actor_sentence_emotion_level) and
``processedResults/tabulatedVotes.csv``: one row per clip per rating condition, the condition being the
leading digit of the unnamed first column (1 voice only, 2 face only, 3 audio-visual); columns A D F H N S
hold vote counts, ``fileName`` the clip. Soft labels use the voice-only votes by default (what a listener
heard); the hard label is the emotion the actor was asked to portray (the file name).
Votes for emotions outside the label set are removed and the rest renormalised.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files
from emobench.errors import CorpusError

NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
VOTE_COLUMNS = {"A": "angry", "D": "disgust", "F": "fearful", "H": "happy", "N": "neutral", "S": "sad"}
CONDITIONS = {"voice": 1, "face": 2, "audiovisual": 3}
VOTES_FILE = "processedResults/tabulatedVotes.csv"


def read_votes(path: Path, condition: str = "voice") -> dict[str, dict[str, float]]:
    """clip stem -> {canonical emotion: votes} for one rating condition of tabulatedVotes.csv."""
    if condition not in CONDITIONS:
        raise CorpusError(f"crema-d: vote condition {condition!r} must be one of {', '.join(CONDITIONS)}")
    want = CONDITIONS[condition]
    out: dict[str, dict[str, float]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        need = ["fileName", *VOTE_COLUMNS]
        if header is None or any(c not in header for c in need):
            raise CorpusError(f"crema-d: {path} lacks columns {need}; is it the release's tabulatedVotes.csv?")
        col = {c: header.index(c) for c in need}
        for lineno, row in enumerate(reader, start=2):
            try:
                if int(row[0]) // 100000 != want:
                    continue
                votes = {VOTE_COLUMNS[c]: float(row[col[c]]) for c in VOTE_COLUMNS}
            except (ValueError, IndexError) as exc:
                raise CorpusError(f"crema-d: cannot parse line {lineno} of {path}: {exc}") from exc
            stem = row[col["fileName"]]
            if stem in out:
                raise CorpusError(f"crema-d: clip {stem} appears twice for condition {condition} in {path}")
            out[stem] = votes
    return out


class CREMAD(NativeLoader):
    name = "crema-d"
    native_labels = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral",
                     "SAD": "sad"}
    layout = "AudioWAV/AAAA_SSS_EEE_LL.wav (+ processedResults/tabulatedVotes.csv for soft labels)"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, soft_labels: bool | None = None,
                 vote_condition: str = "voice"):
        """``soft_labels``: None uses the vote table when present, True requires it, False ignores it."""
        super().__init__(root=root, label_set=label_set)
        self.soft_labels, self.vote_condition = soft_labels, vote_condition

    def _read(self, root: Path, b: CorpusBuilder) -> str | None:
        votes_path = root / VOTES_FILE
        votes = None
        if self.soft_labels is not False:
            if votes_path.is_file():
                votes = read_votes(votes_path, self.vote_condition)
            elif self.soft_labels:
                raise CorpusError(f"crema-d: vote table {votes_path} not found; copy processedResults/ from the "
                                  "release or pass soft_labels=False")
            else:
                b.problems.append(f"no {VOTES_FILE}: no soft labels (copy it from the release to get them)")
        audio_dir = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
        missing_votes = 0
        for path in walk_files(audio_dir, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in CREMA-D format")
                continue
            actor, sentence, emotion, level = m.groups()
            clip_votes = votes.get(path.stem) if votes is not None else None
            utt = b.add(local_id=path.stem, path=path, speaker=actor, code=emotion, where=str(path),
                        votes=clip_votes, sentence=sentence, level=level,
                        n_votes=int(sum(clip_votes.values())) if clip_votes else 0)
            if utt is not None and votes is not None and clip_votes is None:
                missing_votes += 1
        if missing_votes:
            b.problems.append(f"{missing_votes} clips have no {self.vote_condition} votes in {votes_path}")
        return f"{VOTES_FILE} ({self.vote_condition} ratings)" if votes is not None else None
