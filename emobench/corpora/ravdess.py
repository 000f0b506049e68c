"""RAVDESS speech, audio-only release (Zenodo 1188976, ``Audio_Speech_Actors_01-24.zip``).

Layout: ``Actor_01/03-01-05-01-01-01-01.wav``: modality-channel-emotion-intensity-statement-repetition-actor.
Only modality 03 (audio-only) and vocal channel 01 (speech) are taken; song and video files are skipped
and counted. The actor (last field) is the speaker; odd actors are male.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files

NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


class RAVDESS(NativeLoader):
    name = "ravdess"
    native_labels = {
        "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
        "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
    }
    layout = "Actor_XX/03-01-EE-II-SS-RR-AA.wav files (the audio-only speech release)"

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in RAVDESS format")
                continue
            modality, channel, emotion, intensity, statement, repetition, actor = m.groups()
            if modality != "03":
                b.skip("not audio-only (modality != 03)")
                continue
            if channel != "01":
                b.skip("song (vocal channel 02)")
                continue
            if path.parent.name.startswith("Actor_") and path.parent.name != f"Actor_{actor}":
                b.problems.append(f"{path} is in {path.parent.name} but its name says actor {actor}")
            b.add(
                local_id=path.stem, path=path, speaker=actor, code=emotion, where=str(path),
                intensity="strong" if intensity == "02" else "normal", statement=statement,
                repetition=repetition, gender="male" if int(actor) % 2 else "female",
            )
