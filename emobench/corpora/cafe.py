"""CaFE, the Canadian French Emotional speech dataset (Gournay, Lahaie & Lefebvre 2018), Canadian French.

Release: Zenodo record 1478765, ``CaFE_48k.zip`` (48 kHz WAV) or ``CaFE_192k_1.zip`` + ``CaFE_192k_2.zip``
(192 kHz AIFF). Layout ``<Émotion>/<Fort|Faible>/AA-E-I-S.wav`` and ``Neutre/AA-N-...``; the release's
Readme.txt: AA the actor (01-12, odd = man, even = woman), E the emotion (C Colère, D Dégoût, J Joie,
N Neutre, P Peur, S Surprise, T Tristesse), I the intensity (1 Faible/low, 2 Fort/high), S the sentence
(1-6). Neutral has no intensity: the 48k copy listed by EmoBox names it ``Neutre/01-N-1-1.wav``, the
192k copy ``Neutre/03-N-1.aiff`` (no intensity field); both forms are read. Folder names are ignored:
copies extracted from the zip spell ``Colère`` as ``ColŠre`` (code-page mojibake). 12 x (6 x 2 x 6 + 6)
= 936 files, no predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^(\d\d)-([A-Z])(?:-([12]))?-(\d)$")
INTENSITY = {"1": "low", "2": "high"}


class CaFE(NativeLoader):
    name = "cafe"
    language = "fr-CA"
    full_label_set = "cafe7"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"C": "angry", "D": "disgust", "J": "happy", "N": "neutral", "P": "fearful",
                     "S": "surprised", "T": "sad"}
    layout = "<Émotion>/<Fort|Faible>/AA-E-I-S.wav (or .aiff) files, e.g. Colère/Fort/01-C-2-1.wav"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav", ".aiff", ".aif"), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in CaFE format")
                continue
            actor, emotion, intensity, sentence = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            if intensity is None and emotion != "N":
                b.skip("emotional file without an intensity field")
                continue
            b.add(local_id=path.stem, path=path, speaker=actor, code=emotion, where=str(path),
                  intensity=None if emotion == "N" else INTENSITY[intensity], sentence=sentence,
                  gender="male" if int(actor) % 2 else "female", language=self.language)
