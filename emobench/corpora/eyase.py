"""EYASE (Abdel-Hamid 2020), a semi-natural Egyptian Arabic emotional speech corpus.

Release: ``EYASE.rar``, the Google Drive copy linked from github.com/OmarMohammed88/AR-Emotion-Recognition
(no official archive was found). File names, from that repository's notebooks:
``fm01_hap (3).wav``, ``ml02_hap (15).wav``, ``ml03_neu (19).wav``: speaker code, emotion (ang hap neu
sad), a running number in brackets. Not confirmed: the folder layout inside the archive (those notebooks
extract it flat with ``unrar e``; files are looked for anywhere under the root), whether every file has
the bracketed number (names without it are accepted), the number of speakers, and their genders (the
``fm``/``ml`` prefixes suggest female/male but no source says so, so no gender is recorded).
No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^([a-z]{2}\d\d)_([a-z]{3})(?: \((\d+)\))?$")


class EYASE(NativeLoader):
    name = "eyase"
    language = "ar-EG"
    full_label_set = "eyase4"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"ang": "angry", "hap": "happy", "neu": "neutral", "sad": "sad"}
    layout = "ssNN_emo (K).wav files, e.g. fm01_hap (3).wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in EYASE format")
                continue
            speaker, emotion, number = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            local = f"{speaker}_{emotion}_{number}" if number else f"{speaker}_{emotion}"
            b.add(local_id=local, path=path, speaker=speaker, code=emotion, where=str(path),
                  number=number, language=self.language)
