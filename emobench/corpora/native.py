"""What the native-layout loaders share: root lookup, label map, duplicate-id checks, drop counts.

A loader subclasses NativeLoader, declares its native label codes and documented merges, and fills a
CorpusBuilder in ``_read``. Loaders read names and annotation files only; they never decode audio.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from emobench.corpora.base import DEFAULT_LABELS, Corpus, Utterance
from emobench.corpora.labels import LabelMap, resolve_label_set
from emobench.corpora.roots import resolve_root
from emobench.errors import CorpusError

AUDIO_EXTS = (".wav", ".flac")


class CorpusBuilder:
    """Collects utterances for one corpus; maps labels, counts drops, rejects duplicate ids."""

    def __init__(self, name: str, root: Path, label_map: LabelMap):
        self.name, self.root, self.map = name, root, label_map
        self.utts: dict[str, Utterance] = {}
        self.dropped: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.problems: list[str] = []
        self.soft_outside = 0  # utterances whose votes all fall outside the label set
        self.seen: set[str] = set()  # native codes met, so `corpus info` shows only the map in use
        self.where: dict[str, str] = {}  # every id met (kept or dropped) -> where it came from
        self.unlabelled: list[Utterance] = []  # no agreed label, but votes (see Corpus.unlabelled)
        self.unusable: list[tuple[str, str]] = []  # (file, reason) of files that cannot be used

    def add(
        self, *, local_id: str, path: str | Path, speaker: str, where: str, code: str | None = None,
        canonical: str | None = None, votes: Mapping[str, float] | None = None, split: str | None = None,
        start_s: float | None = None, end_s: float | None = None, **meta: Any,
    ) -> Utterance | None:
        """Add one utterance given its native ``code`` (or an already ``canonical`` name); None if dropped."""
        uid = f"{self.name}/{local_id}"
        if uid in self.where:  # checked before label mapping: a dropped duplicate is still a duplicate
            raise CorpusError(
                f"{self.name}: duplicate utterance id {local_id!r}: {self.where[uid]} and {where}; "
                "remove the extra copy from the corpus root"
            )
        self.where[uid] = where
        try:
            name = self.map.to_canonical(code, where=where) if code is not None else canonical
        except CorpusError as exc:  # one stray file must not block the corpus: skip, count and name it
            self.skip("unknown emotion code")
            self.unusable.append((str(path), str(exc)))
            return None
        self.seen.add(code if code is not None else str(canonical))
        label = self.map.to_set(name)
        soft = share = None
        if votes is not None:
            soft, share = self.map.soft(votes), self.map.primary_share(votes)
            if soft is None:
                self.soft_outside += 1
        if label is None:
            if name is None and soft is not None:  # no agreement, but votes: RQ3's high-ambiguity population
                self.dropped["no agreement (kept for soft-label tasks)"] += 1
                self.unlabelled.append(Utterance(
                    id=uid, corpus=self.name, path=str(path), speaker=str(speaker), label=None, soft_label=soft,
                    primary_share=share, split=split, start_s=start_s, end_s=end_s,
                    meta={"native_label": code, **meta}))
            else:
                self.dropped[name if name is not None else f"{code} (no canonical emotion)"] += 1
            return None
        utt = Utterance(
            id=uid, corpus=self.name, path=str(path), speaker=str(speaker), label=label, soft_label=soft,
            primary_share=share, split=split, start_s=start_s, end_s=end_s,
            meta={"native_label": code or name, **meta},
        )
        self.utts[uid] = utt
        return utt

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def build(self, *, soft_label_source: str | None = None) -> Corpus:
        if self.soft_outside:
            self.problems.append(
                f"{self.soft_outside} utterances have votes only outside the label set: no soft label for them"
            )
        utts = sorted(self.utts.values(), key=lambda u: u.id)
        return Corpus(
            name=self.name, root=self.root, label_set=self.map.label_set, utterances=utts,
            dropped=dict(sorted(self.dropped.items())), problems=self.problems,
            has_soft_labels=any(u.soft_label is not None for u in utts), skipped=dict(sorted(self.skipped.items())),
            label_map={k: v for k, v in self.map.describe().items() if k in self.seen},
            soft_label_source=soft_label_source, unlabelled=sorted(self.unlabelled, key=lambda u: u.id),
            unusable=list(self.unusable),
        )


class NativeLoader:
    """Base for loaders of a corpus' own release layout: ``Cls(root=..., label_set=...).load()``."""

    name: ClassVar[str]
    native_labels: ClassVar[Mapping[str, str | None]]
    merges: ClassVar[Mapping[str, str]] = {}
    layout: ClassVar[str] = ""  # shown when nothing is found under the root
    full_label_set: ClassVar[str | None] = None  # the corpus' own label set (LABEL_SETS name); label_set="full"

    def __init__(self, *, root: str | os.PathLike | None = None, label_set=DEFAULT_LABELS):
        self.root_arg = root
        if isinstance(label_set, str) and label_set == "full":  # each corpus' own classes (crossling-ser)
            if self.full_label_set is None:
                raise CorpusError(f"{self.name}: has no full label set declared; choose a label set by name "
                                  "(e.g. emo4) instead of 'full'")
            label_set = self.full_label_set
        self.label_set = resolve_label_set(label_set)

    def load(self) -> Corpus:
        root = resolve_root(self.name, self.root_arg)
        builder = CorpusBuilder(self.name, root, LabelMap(self.name, self.native_labels, self.label_set,
                                                          merges=self.merges))
        source = self._read(root, builder)
        if not builder.utts and not builder.dropped:
            raise CorpusError(f"{self.name}: found no utterances under {root}; expected {self.layout}")
        return builder.build(soft_label_source=source)

    def _read(self, root: Path, builder: CorpusBuilder) -> str | None:
        """Fill ``builder``; return a description of the soft-label source, or None."""
        raise NotImplementedError


PSEUDO_FS = ("/proc", "/sys", "/dev", "/run")  # never corpora, and walking them can hang


def walk_files(root: Path, exts: tuple[str, ...] = AUDIO_EXTS, *, problems: list[str] | None = None) -> Iterator[Path]:
    """Files under ``root`` with one of ``exts``, sorted, skipping hidden and macOS '._' files.

    Symlinked folders are followed (corpora are often symlinked) but each real folder is visited once, so
    a symlink loop cannot hang the walk; pseudo-filesystems are refused; folders that cannot be read are
    reported in ``problems`` (never skipped silently)."""
    real = Path(os.path.realpath(root))
    if any(real == Path(p) or Path(p) in real.parents for p in PSEUDO_FS):
        raise CorpusError(f"corpus root {root} is on a pseudo-filesystem ({real}); point it at the corpus folder")
    seen: set[tuple[int, int]] = set()

    def unreadable(err: OSError) -> None:
        if problems is not None:
            problems.append(f"cannot read folder {err.filename}: {err.strerror or err}; its files were not loaded")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            unreadable(exc)
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a symlink: a loop or a second path
            if problems is not None:
                problems.append(f"folder {dirpath} was reached twice (a symlink loop?); read once")
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if not f.startswith(".") and f.lower().endswith(exts):
                yield Path(dirpath) / f
