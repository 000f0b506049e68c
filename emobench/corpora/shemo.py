"""ShEMO, the Sharif Emotional Speech Database (Mohamad Nezami, Jamshid Lou & Karami 2019), Persian.

Release: github.com/mansourehk/ShEMO (``female.zip``, ``male.zip``; its README links the copies in
pariajm/sharif-emotional-speech-database, and nkululeko notes the repository's LFS zips are broken and
uses Dropbox copies), extracting to
``female/F03S02.wav`` and ``male/M02F01.wav``. README: 1st letter the speaker's gender (F/M), then the
speaker code (2 digits, so ``F01`` and ``M01`` are different people), the 4th character the emotion (A anger,
F fear, H happiness, N neutral, S sadness, W surprise), then the utterance number for that speaker and
emotion. 3000 utterances from 87 speakers (31 f, 56 m); by the release's transcript.zip: N 1160, A 1042,
S 362, H 203, W 201, F 32. Labels are the majority vote of 12 annotators (votes not released per file).
No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^([FM]\d\d)([A-Z])(\d\d)$")
FOLDERS = {"female": "F", "male": "M"}


class ShEMO(NativeLoader):
    name = "shemo"
    language = "fa"
    full_label_set = "shemo6"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"A": "angry", "F": "fearful", "H": "happy", "N": "neutral", "S": "sad", "W": "surprised"}
    layout = "{female,male}/GSSENN.wav files, e.g. female/F03S02.wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in ShEMO format")
                continue
            speaker, emotion, number = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            folder = FOLDERS.get(path.parent.name.lower())
            if folder is not None and folder != speaker[0]:
                b.problems.append(f"{path} is in {path.parent.name}/ but its name says speaker {speaker}")
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path),
                  number=number, gender="female" if speaker[0] == "F" else "male", language=self.language)
