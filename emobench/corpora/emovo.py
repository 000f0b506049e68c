"""EMOVO (Costantini et al. 2014), Italian.

Release: the EMOVO archive of Fondazione Ugo Bordoni (voice.fub.it/activities/corpora/emovo), one
folder per actor: ``f1/dis-f1-b1.wav``: emotion-speaker-sentence, as listed by EmoBox's emovo.jsonl and
nkululeko's emovo.csv (98 files in each of f1 f2 f3 m1 m2 m3). Emotions in Italian: dis disgusto, gio
gioia (joy), neu neutrale, pau paura (fear), rab rabbia (anger), sor sorpresa, tri tristezza; sentences
b1-b3, l1-l4, n1-n5, d1-d2 (14). The speaker's letter is the gender. 6 x 7 x 14 = 588 files; the archive's
documentation folder holds no audio. No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^([a-z]{3})-([fm]\d)-([a-z]\d)$")
ACTOR = re.compile(r"^[fm]\d$")


class EMOVO(NativeLoader):
    name = "emovo"
    language = "it"
    full_label_set = "emovo7"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fearful", "rab": "angry",
                     "sor": "surprised", "tri": "sad"}
    layout = "<actor>/emo-actor-sentence.wav files, e.g. f1/dis-f1-b1.wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in EMOVO format")
                continue
            emotion, speaker, sentence = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            if ACTOR.match(path.parent.name) and path.parent.name != speaker:
                b.problems.append(f"{path} is in {path.parent.name}/ but its name says actor {speaker}")
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path),
                  sentence=sentence, gender="female" if speaker[0] == "f" else "male", language=self.language)
