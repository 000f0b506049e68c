"""A Hugging Face ``datasets`` source: ``hf:owner/name`` (hub) or a folder written by ``save_to_disk``.

Audio is read undecoded (``Audio(decode=False)``): a row's local file is used as is; embedded bytes are
written once to ``<cache>/hf-audio/<dataset>/<split>/<row>.<ext>`` so that soundfile can read them later.
Column mapping via ``audio_column``, ``label_column``, ``speaker_column``, ``id_column`` (ClassLabel labels
are turned into their names, then normalised onto canonical emotion names). Every split of the dataset is
loaded; ``Utterance.split`` is the split's name.
"""

from __future__ import annotations

import re
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS, Corpus
from emobench.corpora.labels import CANONICAL, SYNONYMS, LabelMap, canonical, resolve_label_set
from emobench.corpora.native import CorpusBuilder
from emobench.errors import CorpusError
from emobench.fsutil import atomic_write_bytes


class HFCorpus:
    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, name: str = "hf", dataset: str | None = None,
                 config: str | None = None, audio_column: str = "audio", label_column: str = "label",
                 speaker_column: str | None = "speaker", id_column: str | None = None, revision: str | None = None):
        self.source = str(dataset or root or "")
        if not self.source:
            raise CorpusError("hf corpus needs a source: --corpus hf=hf:owner/name or a save_to_disk folder")
        self.name, self.config, self.revision = name, config, revision
        self.label_set = resolve_label_set(label_set)
        self.audio_column, self.label_column = audio_column, label_column
        self.speaker_column, self.id_column = speaker_column, id_column

    def _open(self):
        import datasets  # a core dependency, imported only when an HF corpus is used
        local = Path(self.source).expanduser()
        if local.is_dir():
            ds = datasets.load_from_disk(str(local))
        else:
            repo = self.source.removeprefix("hf:")
            ds = datasets.load_dataset(repo, self.config, revision=self.revision)
        return datasets, (ds if isinstance(ds, datasets.DatasetDict) else datasets.DatasetDict({"train": ds}))

    def load(self) -> Corpus:
        from emobench.cache_dirs import cache_root

        datasets, dsd = self._open()
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "__", self.source.removeprefix("hf:"))
        out_dir = cache_root() / "hf-audio" / safe
        b = CorpusBuilder(self.name, out_dir, LabelMap(self.name, {**{c: c for c in CANONICAL}, **SYNONYMS},
                                                       self.label_set))
        for split, ds in dsd.items():
            for col in (self.audio_column, self.label_column):
                if col not in ds.column_names:
                    raise CorpusError(f"{self.name}: split {split} of {self.source} has no column {col!r}; "
                                      f"columns are {ds.column_names}")
            ds = ds.cast_column(self.audio_column, datasets.Audio(decode=False))
            feature = ds.features[self.label_column]
            names = getattr(feature, "names", None)
            for i, row in enumerate(ds):
                where = f"{self.source} split {split} row {i}"
                raw = row[self.label_column]
                try:
                    label = canonical(names[raw] if names is not None else raw)
                except CorpusError as exc:
                    raise CorpusError(f"{self.name}: {exc} at {where}") from None
                audio = row[self.audio_column] or {}
                src = audio.get("path")
                if src and Path(src).is_file():
                    path = Path(src)
                elif audio.get("bytes"):
                    ext = Path(src).suffix if src and Path(src).suffix else ".wav"
                    path = out_dir / split / f"{i:08d}{ext}"
                    if not path.is_file() or path.stat().st_size != len(audio["bytes"]):  # new or changed
                        atomic_write_bytes(path, audio["bytes"])
                else:
                    b.problems.append(f"no audio in {where}")
                    continue
                local = str(row[self.id_column]) if self.id_column else f"{split}/{i:08d}"
                speaker = str(row[self.speaker_column]) if self.speaker_column in ds.column_names else "unknown"
                b.add(local_id=local, path=path, speaker=speaker, canonical=label, where=where, split=split)
        return b.build()
