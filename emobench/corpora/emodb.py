"""Berlin EmoDB (Burkhardt et al. 2005), as distributed at emodb.bilderbar.info (``download.zip``).

Layout: ``wav/03a01Fa.wav``: speaker (2 digits), text (a01..b10), emotion letter, version letter.
Emotion letters are German: W Aerger (angry), L Langeweile (bored), E Ekel (disgust), A Angst (fearful),
F Freude (happy), T Trauer (sad), N neutral. Speakers 03, 10, 11, 12, 15 are male.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")
MALE = {"03", "10", "11", "12", "15"}


class EmoDB(NativeLoader):
    name = "emodb"
    language = "de"
    full_label_set = "emodb7"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad",
                     "N": "neutral"}
    layout = "wav/SSTTTEV.wav files, e.g. wav/03a01Fa.wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in EmoDB format")
                continue
            speaker, text, emotion, version = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path), text=text,
                  version=version, gender="male" if speaker in MALE else "female", language=self.language)
