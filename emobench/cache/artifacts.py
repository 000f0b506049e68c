"""Fitted codebooks and probes on disk, keyed by content and checked on every read (no torch here).

Layout: ``<root>/<kind>/<key>/`` (kind: ``codebooks`` or ``probes``) holds the artifact's own files
(safetensors + JSON, written by its ``save``) and ``manifest.json``: the key's payload (what determined
the artifact: class, resolved params, upstream identity, layer, seed, and the content hash of the
training features), when it was made, and the size and sha256 of every file. A folder is complete once
its manifest exists (it is written into a temporary folder that is renamed into place). A file that no
longer matches its manifest is reported, the entry removed and recomputed, never used; every name in a
manifest must be a plain file name inside its folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from emobench.cache.keys import canonical_json, sha256_file
from emobench.errors import CacheError
from emobench.fsutil import atomic_write_json, disk_error, make_temp_dir

ARTIFACT_FORMAT = 1  # bump when the key payload or the manifest layout changes
KINDS = ("codebooks", "probes")
MANIFEST = "manifest.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_KEY = re.compile(r"^[0-9a-f]{24}$")
T = TypeVar("T")


def artifact_key(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"format": ARTIFACT_FORMAT, **payload}).encode()).hexdigest()[:24]


@dataclass
class ArtifactInfo:
    kind: str
    key: str
    path: Path
    bytes: int
    describe: dict[str, Any]
    created: str


class ArtifactStore:
    """``ArtifactStore(root, "codebooks").load(key, loader)`` / ``.save(key, saver, payload)``."""

    def __init__(self, root: str | Path, kind: str):
        if kind not in KINDS:
            raise ValueError(f"unknown artifact kind {kind!r}; one of {KINDS}")
        self.kind, self.dir = kind, Path(root) / kind
        self._verified: set[str] = set()

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"bad artifact key {key!r}")
        return self.dir / key

    def load(self, key: str, loader: Callable[[Path], T]) -> T | None:
        """The artifact for ``key`` (checked against its manifest), or None when absent or damaged."""
        folder = self.path(key)
        if not (folder / MANIFEST).is_file():
            return None
        if key not in self._verified:
            problems = problems_of(folder)
            if problems:
                warnings.warn(f"{self.kind} cache entry {folder} is damaged ({'; '.join(problems)}); "
                              "removing it and recomputing", stacklevel=2)
                shutil.rmtree(folder, ignore_errors=True)
                return None
            self._verified.add(key)
        try:
            return loader(folder)
        except Exception as exc:  # unreadable despite matching checksums (e.g. written by another version)
            warnings.warn(f"{self.kind} cache entry {folder} cannot be loaded ({exc}); recomputing", stacklevel=2)
            shutil.rmtree(folder, ignore_errors=True)
            return None

    def save(self, key: str, saver: Callable[[Path], Any], payload: dict[str, Any]) -> Path:
        """Write an artifact with ``saver(folder)`` and its manifest, then rename it into place."""
        folder = self.path(key)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = make_temp_dir(self.dir, f".{key}.")
        except OSError as exc:
            raise disk_error(exc, self.dir, f"the {self.kind} cache", error=CacheError) from exc
        try:
            saver(tmp)
            files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                     for p in sorted(tmp.iterdir()) if p.is_file()}
            atomic_write_json(tmp / MANIFEST, {
                "schema_version": 1, "format": ARTIFACT_FORMAT, "kind": self.kind, "key": key,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "payload": payload, "files": files,
            })
            if folder.exists():  # another process fitted the same thing: identical content, keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.rename(folder)
        except OSError as exc:
            raise disk_error(exc, self.dir, f"a {self.kind} entry", error=CacheError) from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self._verified.add(key)
        return folder

    def entries(self) -> list[ArtifactInfo]:
        out = []
        if not self.dir.is_dir():
            return out
        for folder in sorted(p for p in self.dir.iterdir() if p.is_dir() and _KEY.match(p.name)):
            manifest = read_manifest(folder)
            describe = (manifest or {}).get("payload") or {}
            out.append(ArtifactInfo(self.kind, folder.name, folder, folder_bytes(folder),
                                    describe if isinstance(describe, dict) else {}, (manifest or {}).get("created", "")))
        return out

    def clear(self) -> int:
        freed = 0
        for info in self.entries():
            freed += info.bytes
            shutil.rmtree(info.path, ignore_errors=True)
        return freed


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def problems_of(folder: Path) -> list[str]:
    """Empty when every file the manifest lists is present, inside the folder, with its size and sha256."""
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{MANIFEST} is missing, not JSON or not an object"]
    files = manifest.get("files")
    if manifest.get("key") != folder.name or not isinstance(files, dict) or not files:
        return [f"{MANIFEST} does not describe this folder"]
    found = []
    for name, meta in files.items():
        if not isinstance(name, str) or not _NAME.match(name) or name == MANIFEST or not isinstance(meta, dict):
            found.append(f"file name {name!r} is not a plain file name inside the folder")
            continue
        path = folder / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif path.stat().st_size != meta.get("bytes"):
            found.append(f"{name} has {path.stat().st_size} bytes, the manifest says {meta.get('bytes')}")
        elif sha256_file(path) != meta.get("sha256"):
            found.append(f"{name} fails its sha256 checksum")
    return found
