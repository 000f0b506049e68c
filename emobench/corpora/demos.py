"""DEMoS, the Database of Elicited Mood in Speech (Parada-Cabaleiro et al. 2020), Italian.

Release: Zenodo record 2544829 (restricted, EULA), ``wav_DEMoS.zip`` holding ``DEMOS/`` (9365
emotional files) and ``NEU/`` (332 neutral files), as listed in nkululeko's demos.csv. The README's
legend: the first two letters ``NP`` (non-prototypical, not selected) or ``PR`` (prototypical, selected
by self- and external assessment); then the speaker's gender (f/m), the speaker number, and after the
last ``_`` the emotion
(col guilt, dis disgust, gio happiness, pau fear, rab anger, sor surprise, tri sadness, neu neutral)
followed by a take number and letter: ``DEMOS/PR_m_23_tri00a.wav``, ``DEMOS/NP_f_61_gio02c.wav``. Neutral
files carry no NP/PR prefix: ``NEU/m_11_neu00a.wav``. 68 speakers (23 f, 45 m); PR alone is 1564 files
from 59 speakers. ``selection`` keeps all files, only ``PR`` or only ``NP`` (neutral files are then
skipped and counted). The release has 8 labels (7 emotions with guilt, plus neutral); the cross-lingual
probing paper's Table 1 says 7 emotions for its 9697 samples, which count the neutral files too.
No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files
from emobench.errors import CorpusError

NAME = re.compile(r"^(?:(NP|PR)_)?([fm])_(\d\d)_([a-z]{3})(\d\d)([a-z])$")
SELECTIONS = ("all", "PR", "NP")


class DEMoS(NativeLoader):
    name = "demos"
    language = "it"
    full_label_set = "demos8"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"col": "guilt", "dis": "disgust", "gio": "happy", "pau": "fearful", "rab": "angry",
                     "sor": "surprised", "tri": "sad", "neu": "neutral"}
    layout = "DEMOS/{NP,PR}_g_SS_eeeNNx.wav and NEU/g_SS_neuNNx.wav files, e.g. DEMOS/PR_m_23_tri00a.wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, selection: str = "all"):
        """``selection``: "all" files, only the prototypical "PR" ones, or only the non-prototypical "NP"."""
        if selection not in SELECTIONS:
            raise CorpusError(f"demos: selection {selection!r} must be one of {', '.join(SELECTIONS)}")
        super().__init__(root=root, label_set=label_set)
        self.selection = selection

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        genders: dict[str, str] = {}
        for path in walk_files(root, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in DEMoS format")
                continue
            prefix, gender, speaker, emotion, take, version = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            if (prefix is None) != (emotion == "neu"):
                b.skip("NP/PR prefix on a neutral file, or none on an emotional one")
                continue
            if self.selection != "all" and prefix != self.selection:
                b.skip(f"not in the {self.selection} selection")
                continue
            if genders.setdefault(speaker, gender) != gender:
                b.problems.append(
                    f"speaker {speaker} is {genders[speaker]} in one file name, {gender} in {path}")
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path),
                  selection=prefix or "neutral", take=take + version,
                  gender="female" if gender == "f" else "male", language=self.language)
