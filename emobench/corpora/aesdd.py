"""AESDD, the Acted Emotional Speech Dynamic Database (Vryzas et al. 2018), Greek.

Release: the v1.0 archive linked from m3c.web.auth.gr/research/aesdd-speech-emotion-recognition/
(``Acted Emotional Speech Dynamic Database/``). Its README: five folders named after the emotions
(``anger disgust fear happiness sadness``), files ``xAA (B).wav``: x the emotion letter (a d f h s),
AA the utterance (01-20), B the speaker; a second qualified take of the same utterance gets a lower-case
letter, e.g. ``fear/f18 (5).wav`` and ``fear/f18 (5)b.wav``. Public copies (EmoBox's aesdd.jsonl,
nkululeko's aesdd.csv) also hold ``(01)`` for speaker 1 and ``s01 (5)a.wav``; both list 604 files from
6 speakers (v1.0 documents "around 500" from 5 actors; later actors were added under the same scheme).
Neither lists ``sadness/s05 (3).wav``: nkululeko excludes it by name, EmoBox drops files it cannot load;
if a copy holds it unreadable, emobench skips it at run time like any bad audio.
Utterance ids drop the space and brackets: ``a03 (4).wav`` -> ``aesdd/a03_4``, ``f18 (5)b`` -> ``f18_5b``.
Not confirmed: which speaker is which gender (v1.0 says 3 female, 2 male, not which number), so no
gender is recorded. The release has no predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^([a-z])(\d\d) \((\d+)\)([a-z]?)$")
FOLDERS = {"anger": "a", "disgust": "d", "fear": "f", "happiness": "h", "sadness": "s"}


class AESDD(NativeLoader):
    name = "aesdd"
    language = "el"
    full_label_set = "aesdd5"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "s": "sad"}
    layout = "<emotion>/xAA (B).wav files, e.g. anger/a03 (4).wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in AESDD format")
                continue
            letter, utterance, speaker, take = m.groups()
            if letter not in self.native_labels:
                b.skip(f"unknown emotion code {letter!r}")
                continue
            folder = FOLDERS.get(path.parent.name.lower())
            if folder is not None and folder != letter:
                b.problems.append(f"{path} is in {path.parent.name}/ but its name says emotion {letter!r}")
            speaker = str(int(speaker))  # "(01)" and "(1)" both occur for speaker 1
            b.add(local_id=f"{letter}{utterance}_{speaker}{take}", path=path, speaker=speaker, code=letter,
                  where=str(path), utterance=utterance, take=take or "", language=self.language)
