"""EMNS (Noriy et al. 2023), single-speaker narrative corpus, OpenSLR 136 release.

Layout: ``metadata.csv`` (pipe-separated: id|utterance|description|emotion|date_created|status|gender|age|
level|audio_recording|user_id) and the recordings it names (``audio_recording``, e.g.
``wavs/recorded_audio_3aCYrjz.webm``; ``raw_webm.tar.xz`` unpacks to ``raw_webm/``). libsndfile cannot
read WebM, so the loader looks for a ``.wav``/``.flac`` with the same stem beside the named file, in the
root, or under ``wavs/``/``raw_webm/``; convert with ``ffmpeg -i x.webm -ac 1 x.wav``. Emotions: Angry,
Happy, Sad, Neutral, Excited, Surprised, Disgust, Sarcastic; ``excited`` is kept apart from ``happy`` (not
merged unless ``merge_excited=True``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import AUDIO_EXTS, CorpusBuilder, NativeLoader
from emobench.errors import CorpusError

NEEDED = ("id", "emotion", "audio_recording", "user_id")


class EMNS(NativeLoader):
    name = "emns"
    native_labels = {"Angry": "angry", "Happy": "happy", "Sad": "sad", "Neutral": "neutral", "Excited": "excited",
                     "Surprised": "surprised", "Disgust": "disgust", "Sarcastic": "sarcastic"}
    layout = "metadata.csv (pipe-separated) and the audio it names, converted to .wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, metadata: str = "metadata.csv",
                 merge_excited: bool = False):
        super().__init__(root=root, label_set=label_set)
        self.metadata = metadata
        self.merges = {"excited": "happy"} if merge_excited else {}

    def _find_audio(self, root: Path, rel: str) -> Path | None:
        named = Path(rel)
        dirs = [root / named.parent, root, root / "wavs", root / "raw_webm", root / "wav"]
        for d in dirs:
            for ext in AUDIO_EXTS:
                cand = d / f"{named.stem}{ext}"
                if cand.is_file():
                    return cand
        return None

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        meta = root / self.metadata
        if not meta.is_file():
            raise CorpusError(f"emns: metadata file {meta} not found; download metadata.csv from OpenSLR 136 into the root")
        with open(meta, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="|")
            missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(f"emns: {meta} lacks columns {missing} (is it pipe-separated?)")
            no_audio = 0
            for lineno, row in enumerate(reader, start=2):
                audio = self._find_audio(root, row["audio_recording"])
                if audio is None:
                    no_audio += 1
                    continue
                b.add(local_id=Path(row["audio_recording"]).stem, path=audio, speaker=row["user_id"],
                      code=row["emotion"].strip(), where=f"{meta} line {lineno}", status=row.get("status"),
                      level=row.get("level"), text=row.get("utterance"))
        if no_audio:
            b.problems.append(f"{no_audio} rows of {meta.name} have no .wav/.flac audio (convert the .webm files)")
