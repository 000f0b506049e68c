"""MSP-Podcast (Lotfian & Busso 2019), release 1.10+ layout (tested against the 1.11 file formats).

Layout: ``Labels/labels_consensus.csv`` (``labels_concensus.csv`` before 1.10) with columns
FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set; ``Audios/<FileName>`` (e.g.
``MSP-PODCAST_0001_0008.wav``); optional ``Labels/labels_detailed.csv`` with one row per annotator: either
an ``EmoClass_Major`` column (1.6 and 2.0 style) or an ``EmoDetail`` column
``WORKER00001; Angry; Frustrated,Annoyed; A:2.0; V:3.0; D:4.0;`` (1.11 style). EmoClass codes: A H S N U F D C,
O (other) and X (no agreement, dropped). ``split`` is Split_Set (Train, Development, Test1, Test2, Test3...).
Speakers: SpkrID; segments whose SpkrID is Unknown get the pseudo-speaker ``podcast-<podcast id>``.
Soft labels: primary (EmoClass_Major) votes per annotator, restricted to the label set and renormalised.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader
from emobench.errors import CorpusError

CONSENSUS = ("Labels/labels_consensus.csv", "Labels/labels_concensus.csv")
DETAILED = "Labels/labels_detailed.csv"
PRIMARY = {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral", "surprise": "surprised",
           "fear": "fearful", "disgust": "disgust", "contempt": "contempt", "other": "other"}


def read_detailed(path: Path) -> dict[str, dict[str, float]]:
    """FileName -> {canonical emotion: number of annotators whose primary emotion it was}."""
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        if "FileName" not in cols or not ({"EmoClass_Major", "EmoDetail"} & set(cols)):
            raise CorpusError(f"msp-podcast: {path} needs FileName and EmoClass_Major or EmoDetail columns, has {cols}")
        for lineno, row in enumerate(reader, start=2):
            if "EmoClass_Major" in row and row["EmoClass_Major"]:
                primary = row["EmoClass_Major"]
            else:
                fields = [f.strip() for f in (row.get("EmoDetail") or "").split(";")]
                if len(fields) < 2:
                    raise CorpusError(f"msp-podcast: cannot parse EmoDetail on line {lineno} of {path}")
                primary = fields[1]
            key = primary.strip().lower()
            key = "other" if key.startswith("other") else key
            if key not in PRIMARY:
                raise CorpusError(f"msp-podcast: unknown primary emotion {primary!r} on line {lineno} of {path}")
            votes[row["FileName"]][PRIMARY[key]] += 1.0
    return votes


class MSPPodcast(NativeLoader):
    name = "msp-podcast"
    native_labels = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral", "U": "surprised", "F": "fearful",
                     "D": "disgust", "C": "contempt", "O": "other", "X": None}
    layout = "Labels/labels_consensus.csv and Audios/*.wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, soft_labels: bool | None = None):
        """``soft_labels``: None uses labels_detailed.csv when present, True requires it, False ignores it."""
        super().__init__(root=root, label_set=label_set)
        self.soft_labels = soft_labels

    def _read(self, root: Path, b: CorpusBuilder) -> str | None:
        consensus = next((root / c for c in CONSENSUS if (root / c).is_file()), None)
        if consensus is None:
            raise CorpusError(f"msp-podcast: label file {root / CONSENSUS[0]} not found; the root must hold Labels/ "
                              "and Audios/ of the release")
        detailed_path = root / DETAILED
        votes = None
        if self.soft_labels is not False and detailed_path.is_file():
            votes = read_detailed(detailed_path)
        elif self.soft_labels:
            raise CorpusError(f"msp-podcast: {detailed_path} not found; copy it from the release or pass soft_labels=False")
        audio_dir = root / "Audios"
        present = {e.name for e in os.scandir(audio_dir)} if audio_dir.is_dir() else set()
        no_audio = no_votes = 0
        with open(consensus, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            need = ["FileName", "EmoClass", "SpkrID", "Split_Set"]
            missing = [c for c in need if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(f"msp-podcast: {consensus} lacks columns {missing}")
            for lineno, row in enumerate(reader, start=2):
                fname = row["FileName"]
                if fname not in present:
                    no_audio += 1
                    continue
                stem = Path(fname).stem
                spk = row["SpkrID"].strip()
                if not spk or spk.lower() == "unknown":
                    spk = "podcast-" + (stem.split("_")[1] if stem.count("_") >= 2 else stem)
                v = votes.get(fname) if votes is not None else None
                utt = b.add(local_id=stem, path=audio_dir / fname, speaker=spk, code=row["EmoClass"].strip(),
                            where=f"{consensus} line {lineno}", votes=v, split=row["Split_Set"].strip(),
                            gender=row.get("Gender"), arousal=row.get("EmoAct"), valence=row.get("EmoVal"))
                no_votes += utt is not None and votes is not None and v is None
        if no_audio:
            b.problems.append(f"{no_audio} labelled segments have no file in {audio_dir}")
        if no_votes:
            b.problems.append(f"{no_votes} segments have no annotator rows in {detailed_path}")
        if votes is None and self.soft_labels is None:
            b.problems.append(f"no {DETAILED}: no soft labels")
        return f"{DETAILED} (primary emotion per annotator)" if votes is not None else None
