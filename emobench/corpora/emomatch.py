"""EmoMatchSpanishDB (Garcia-Cuesta, Barba Salvador & Gachet Páez 2024), Spanish.

Release: distributed by its authors on request (no public archive was found, so the folder layout is
not confirmed; files are looked for anywhere under the root). File names follow the pattern of the
corpus authors' own code (github.com/danielpenap1/Spectrogram-emotion-optimized-prototype-learning,
``0_preprocess.py``): ``SS_Emocion_NN.wav``, e.g. ``03_Alegria_02.WAV``: speaker, the elicited emotion
in Spanish (Ira anger, Asco disgust, Miedo fear, Alegria joy, Neutro neutral, Tristeza sadness, Sorpresa
surprise), sentence. The extension's case varies in that code (``.WAV`` and ``.wav``); both are read, and
emotion words are compared without accents or case (``Alegría`` = ``Alegria``; unobserved, allowed).
Not confirmed: speaker genders (the file names carry none), the number of speakers in the released
subset (the database paper recruited 50 non-actors; sources disagree on 30/20 vs 31/19 men/women),
the total (Table 1 of the cross-lingual probing paper: 2020; other write-ups say 2005 or ~2050).
EmoMatchSpanishDB is the subset of EmoSpanishDB whose crowd-sourced label matched the elicited emotion;
EmoSpanishDB files are not told apart by name. No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.names import fold
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^(\d+)_([^\W\d_]+)_(\d+)$")


class EmoMatch(NativeLoader):
    name = "emomatch"
    language = "es"
    full_label_set = "emomatch7"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"Ira": "angry", "Asco": "disgust", "Miedo": "fearful", "Alegria": "happy",
                     "Neutro": "neutral", "Tristeza": "sad", "Sorpresa": "surprised"}
    layout = "SS_Emocion_NN.wav files, e.g. 03_Alegria_02.wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        codes = {fold(code): code for code in self.native_labels}
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in EmoMatchSpanishDB format")
                continue
            speaker, word, sentence = m.groups()
            code = codes.get(fold(word))
            if code is None:
                b.skip(f"unknown emotion code {word!r}")
                continue
            b.add(local_id=path.stem, path=path, speaker=speaker, code=code, where=str(path),
                  sentence=sentence, language=self.language)
