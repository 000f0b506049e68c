"""Emotional Speech Dataset (Zhou et al. 2021), github.com/HLTSingapore/Emotional-Speech-Data.

Layout: ``0011/Angry/{train,evaluation,test}/0011_000351.wav`` (possibly under one top folder such as
``Emotion Speech Dataset/``). Speakers 0001-0010 are Mandarin, 0011-0020 English; the English ones are the
default (the paper's ESD-EN). Emotions: Angry, Happy, Neutral, Sad, Surprise. ``split`` is the corpus' own
folder (train / evaluation / test) when present, so ``splits.predefined`` can use it.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files
from emobench.errors import CorpusError

NAME = re.compile(r"^(\d{4})_(\d{6})$")
ENGLISH = tuple(f"{i:04d}" for i in range(11, 21))
SPLITS = {"train", "evaluation", "test"}


class ESD(NativeLoader):
    name = "esd"
    native_labels = {"Angry": "angry", "Happy": "happy", "Neutral": "neutral", "Sad": "sad", "Surprise": "surprised"}
    layout = "SSSS/<Emotion>/{train,evaluation,test}/SSSS_NNNNNN.wav, e.g. 0011/Angry/train/0011_000351.wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, speakers=ENGLISH):
        super().__init__(root=root, label_set=label_set)
        self.speakers = tuple(f"{int(s):04d}" for s in speakers)

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        found = set()
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in ESD format")
                continue
            speaker = m.group(1)
            if speaker not in self.speakers:
                b.skip("speaker not selected (Mandarin speakers 0001-0010 by default)")
                continue
            split = path.parent.name if path.parent.name in SPLITS else None
            emo_dir = path.parent.parent if split else path.parent
            if emo_dir.name not in self.native_labels:
                raise CorpusError(f"esd: {path} is not under an emotion folder ({', '.join(self.native_labels)})")
            if emo_dir.parent.name != speaker:
                b.problems.append(f"{path} is in folder {emo_dir.parent.name} but its name says speaker {speaker}")
            found.add(speaker)
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emo_dir.name, where=str(path), split=split)
        missing = sorted(set(self.speakers) - found)
        if missing:
            b.problems.append(f"selected speakers with no files: {', '.join(missing)}")
