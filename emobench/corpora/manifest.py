"""Any corpus described by a CSV manifest: one row per utterance.

Columns: ``path`` (relative to the manifest's folder, or absolute), ``label`` (or ``emotion``), ``speaker``;
optional ``id``, ``split``, ``start_s``, ``end_s``, ``corpus``, and soft-label columns ``vote_<emotion>``
or ``soft_<emotion>`` (counts or shares; restricted to the label set and renormalised). Labels may use any
common spelling (``anger``, ``Happiness``...) and are normalised onto the canonical names; an unknown one
is an error naming the file and line. The root is the manifest file itself or a folder holding
``manifest.csv``. When a ``corpus`` column holds several corpora, speakers become ``<corpus>:<speaker>``
so that two corpora's speaker "03" stay apart.
"""

from __future__ import annotations

import csv
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS, Corpus
from emobench.corpora.labels import CANONICAL, SYNONYMS, LabelMap, canonical, resolve_label_set
from emobench.corpora.native import CorpusBuilder
from emobench.corpora.roots import resolve_root
from emobench.errors import CorpusError


class ManifestCorpus:
    """``ManifestCorpus(root="path/to/manifest.csv", name="mycorpus").load()``."""

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, name: str = "manifest", manifest: str = "manifest.csv"):
        self.root_arg, self.name, self.manifest = root, name, manifest
        self.label_set = resolve_label_set(label_set)

    def _manifest_path(self) -> Path:
        root = resolve_root(self.name, self.root_arg, allow_file=True)
        if root.is_file():
            return root
        path = root / self.manifest
        if not path.is_file():
            raise CorpusError(f"{self.name}: manifest {path} not found; pass the CSV file itself as the root")
        return path

    def load(self) -> Corpus:
        path = self._manifest_path()
        spellings = {**{c: c for c in CANONICAL}, **SYNONYMS}
        b = CorpusBuilder(self.name, path.parent, LabelMap(self.name, spellings, self.label_set))
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            label_col = "label" if "label" in cols else "emotion"
            missing = [c for c in ("path", label_col, "speaker") if c not in cols]
            if missing:
                raise CorpusError(f"{self.name}: manifest {path} lacks columns {missing}; it needs path, label, speaker")
            vote_cols = {c: canonical(c.split("_", 1)[1]) for c in cols if c.startswith(("vote_", "soft_"))}
            rows = list(reader)
        multi = len({r.get("corpus") for r in rows}) > 1
        for lineno, row in enumerate(rows, start=2):
            where = f"{path} line {lineno}"
            audio = Path(row["path"])
            audio = audio if audio.is_absolute() else path.parent / audio
            try:
                name = canonical(row[label_col])
            except CorpusError as exc:
                raise CorpusError(f"{self.name}: {exc} at {where}") from None
            votes = None
            if vote_cols:
                try:
                    votes = {e: float(row[c]) for c, e in vote_cols.items() if row.get(c) not in (None, "")}
                except ValueError as exc:
                    raise CorpusError(f"{self.name}: bad vote value at {where}: {exc}") from None
            speaker = f"{row['corpus']}:{row['speaker']}" if multi else row["speaker"]
            b.add(
                local_id=row.get("id") or Path(row["path"]).with_suffix("").as_posix(), path=audio, speaker=speaker,
                canonical=name, where=where, votes=votes or None, split=row.get("split") or None,
                start_s=float(row["start_s"]) if row.get("start_s") else None,
                end_s=float(row["end_s"]) if row.get("end_s") else None,
                **({"source_corpus": row["corpus"]} if row.get("corpus") else {}),
            )
        if not b.utts and not b.dropped:
            raise CorpusError(f"{self.name}: manifest {path} has no rows")
        return b.build(soft_label_source=f"{path.name} columns {sorted(vote_cols)}" if vote_cols else None)
