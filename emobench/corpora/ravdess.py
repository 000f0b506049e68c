"""RAVDESS speech, audio-only release (Zenodo 1188976, ``Audio_Speech_Actors_01-24.zip``), or its song.

Layout: ``Actor_01/03-01-05-01-01-01-01.wav``: modality-channel-emotion-intensity-statement-repetition-actor.
Only modality 03 (audio-only) and vocal channel 01 (speech) are taken; song and video files are skipped
and counted. The actor (last field) is the speaker; odd actors are male. ``vocal_channel="song"`` (the
``ravdess-song`` corpus, ``Audio_Song_Actors_01-24.zip``: 23 actors, 1012 files, six emotions, label set
``ravdess-song6``) takes channel 02 instead and skips speech.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files
from emobench.errors import CorpusError

NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
CHANNELS = {"speech": "01", "song": "02"}


class RAVDESS(NativeLoader):
    name = "ravdess"
    native_labels = {
        "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
        "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
    }
    layout = "Actor_XX/03-01-EE-II-SS-RR-AA.wav files (the audio-only speech release)"
    full_label_set = "ravdess8"  # emobench.corpora.labels.LABEL_SETS; the song's is ravdess-song6

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, vocal_channel: Literal["speech", "song"] = "speech"):
        if vocal_channel == "song" and label_set == "full":
            label_set = "ravdess-song6"  # sung: six of the eight emotions (no disgust, no surprise)
        super().__init__(root=root, label_set=label_set)
        if vocal_channel not in CHANNELS:
            raise CorpusError(f"ravdess: vocal_channel must be speech or song, got {vocal_channel!r}")
        self.vocal_channel = vocal_channel
        if vocal_channel == "song":
            self.name = "ravdess-song"
            self.layout = "Actor_XX/03-02-EE-II-SS-RR-AA.wav files (the audio-only song release)"

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
            if channel != CHANNELS[self.vocal_channel]:
                b.skip({"01": "speech (vocal channel 01)", "02": "song (vocal channel 02)"}.get(
                    channel, f"unknown vocal channel {channel}"))
                continue
            if path.parent.name.startswith("Actor_") and path.parent.name != f"Actor_{actor}":
                b.problems.append(f"{path} is in {path.parent.name} but its name says actor {actor}")
            b.add(
                local_id=path.stem, path=path, speaker=actor, code=emotion, where=str(path),
                intensity="strong" if intensity == "02" else "normal", statement=statement,
                repetition=repetition, gender="male" if int(actor) % 2 else "female",
            )
