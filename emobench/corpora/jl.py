"""JL-Corpus (James et al. 2018), New Zealand English, as released on Kaggle / the authors' site.

Layout: ``Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/female1_angry_1a_1.wav``: speaker
(female1, female2, male1, male2), emotion, sentence id (number + a/b), repetition. When that
``JL(wav+txt)`` folder exists it alone is read; otherwise every folder under the root is searched, and the
same file name twice is an error naming both copies (point the root at one of them). Primary emotions: angry, sad, neutral, happy, excited; the secondary ones
(anxious, apologetic, assertive, concerned, encouraging) have no canonical counterpart and are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

RAW_DIR = "Raw JL corpus (unchecked and unannotated)/JL(wav+txt)"
NAME = re.compile(r"^((?:fe)?male[12])_([a-z]+)_(\d+[ab])_(\d)$")


class JLCorpus(NativeLoader):
    name = "jl-corpus"
    native_labels = {
        "angry": "angry", "sad": "sad", "neutral": "neutral", "happy": "happy", "excited": "excited",
        "anxious": None, "apologetic": None, "assertive": None, "concerned": None, "encouraging": None,
    }
    layout = "files named like female1_angry_1a_1.wav (e.g. under 'Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/')"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        raw = root / RAW_DIR
        for path in walk_files(raw if raw.is_dir() else root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in JL-Corpus format")
                continue
            speaker, emotion, sentence, repetition = m.groups()
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path),
                  sentence=sentence, repetition=repetition, gender="female" if speaker.startswith("f") else "male")
