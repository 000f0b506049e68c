"""What a cached feature is keyed by: the upstream's identity, the sample rate, the format version,
and (per utterance) the audio's content hash. No torch here: `emobench cache` imports this."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from emobench.corpora.base import Utterance
from emobench.errors import AudioError
from emobench.fsutil import atomic_write_json

# Bump when the stored layout or the way frames are computed from audio (decoding, resampling) changes.
FEATURE_FORMAT_VERSION = 2  # 2: manifests checksum themselves
SCHEMA_VERSION = 1  # of the JSON files in the cache (entry.json, shard manifests)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def entry_key(identity: dict[str, Any], sample_rate: int) -> str:
    """Folder name of an upstream's entry: identical identity + sample rate + format = same features.

    The layer selection is recorded per shard instead, so a later run asking for fewer layers reuses
    shards that hold more.
    """
    payload = {"identity": identity, "sample_rate": int(sample_rate), "format": FEATURE_FORMAT_VERSION}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:20]


def sha256_file(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class AudioHasher:
    """Content keys of utterances: sha256 of the file's bytes plus the segment bounds.

    Hashing every file on every run would dominate a cached rerun, so file hashes are remembered in
    ``<root>/audio-hashes.json`` keyed by (path, size, mtime); a changed file gets a new hash.
    """

    def __init__(self, root: Path):
        self.path = root / "audio-hashes.json"
        self._memo: dict[str, list] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text())
            if data.get("schema_version") == SCHEMA_VERSION:
                self._memo = dict(data.get("files", {}))
        except (OSError, ValueError, AttributeError):
            pass  # missing or unreadable memo: just rehash

    def file_hash(self, path: str) -> str:
        p = Path(path)
        try:
            st = p.stat()
        except OSError as exc:
            raise AudioError(f"audio file not found: {path}; check the corpus root") from exc
        if not p.is_file():
            raise AudioError(f"audio path is not a file: {path}; check the corpus root")
        key = str(p.resolve())
        sig = [st.st_size, st.st_mtime_ns]
        known = self._memo.get(key)
        if known is not None and known[:2] == sig:
            return known[2]
        try:
            digest = sha256_file(p)
        except OSError as exc:
            raise AudioError(f"cannot read audio file {path}: {exc.strerror or exc}") from exc
        self._memo[key] = [*sig, digest]
        self._dirty = True
        return digest

    def utterance_key(self, utt: Utterance, path: str | None = None) -> str:
        """Key of an utterance's content: its audio file (or ``path``, e.g. a precomputed feature file)."""
        payload = f"{self.file_hash(path or utt.path)}|{utt.start_s}|{utt.end_s}"
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def save(self) -> None:
        if not self._dirty:
            return
        try:
            atomic_write_json(self.path, {"schema_version": SCHEMA_VERSION, "files": self._memo})
            self._dirty = False
        except OSError:
            pass  # a memo that cannot be written only costs rehashing next time
