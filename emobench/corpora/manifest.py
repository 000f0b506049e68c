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
import math
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
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                cols = reader.fieldnames or []
                label_col = "label" if "label" in cols else "emotion"
                missing = [c for c in ("path", label_col, "speaker") if c not in cols]
                if missing:
                    raise CorpusError(f"{self.name}: manifest {path} lacks columns {missing}; it needs path, label, "
                                      "speaker")
                vote_cols = {c: canonical(c.split("_", 1)[1]) for c in cols if c.startswith(("vote_", "soft_"))}
                rows = list(reader)
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{self.name}: manifest {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
                              ) from None
        except csv.Error as exc:
            raise CorpusError(f"{self.name}: manifest {path} line {reader.line_num}: {exc}") from None
        multi = len({r.get("corpus") for r in rows}) > 1
        for lineno, row in enumerate(rows, start=2):
            where = f"{path} line {lineno}"
            audio = Path(row["path"])
            audio = audio if audio.is_absolute() else path.parent / audio
            try:
                name = canonical(row[label_col])
            except CorpusError as exc:
                raise CorpusError(f"{self.name}: {exc} at {where}") from None
            if None in row.values() or None in row:
                raise CorpusError(f"{self.name}: {where} has a different number of fields than the header")
            votes = None
            if vote_cols:
                try:
                    votes = {e: float(row[c]) for c, e in vote_cols.items() if row.get(c) not in (None, "")}
                except ValueError as exc:
                    raise CorpusError(f"{self.name}: bad vote value at {where}: {exc}") from None
                bad = {e: v for e, v in votes.items() if not math.isfinite(v) or v < 0}
                if bad:
                    raise CorpusError(f"{self.name}: votes must be finite and non-negative, got {bad} at {where}")
            try:
                start_s = float(row["start_s"]) if row.get("start_s") else None
                end_s = float(row["end_s"]) if row.get("end_s") else None
            except ValueError as exc:
                raise CorpusError(f"{self.name}: bad segment time at {where}: {exc}") from None
            if any(t is not None and (not math.isfinite(t) or t < 0) for t in (start_s, end_s)) or (
                    start_s is not None and end_s is not None and end_s <= start_s):
                raise CorpusError(f"{self.name}: segment [{start_s}, {end_s}] s at {where} is not a valid time span")
            speaker = f"{row['corpus']}:{row['speaker']}" if multi else row["speaker"]
            b.add(
                local_id=row.get("id") or Path(row["path"]).with_suffix("").as_posix(), path=audio, speaker=speaker,
                canonical=name, where=where, votes=votes or None, split=row.get("split") or None,
                start_s=start_s, end_s=end_s,
                **({"source_corpus": row["corpus"]} if row.get("corpus") else {}),
            )
        if not b.utts and not b.dropped:
            raise CorpusError(f"{self.name}: manifest {path} has no rows")
        return b.build(soft_label_source=f"{path.name} columns {sorted(vote_cols)}" if vote_cols else None)
