"""Shards on disk: fp16 frames ``[layers, frames, dim]`` and fp32 pooled vectors ``[layers, utts, dim]``
as plain .npy files (memory-mappable, no pickle), plus a JSON manifest with their sha256.

A shard exists once its manifest exists: data files are written first (atomically), the manifest
last, so a run killed at any point leaves either a complete shard or orphan data that is ignored.
The manifest carries a checksum of its own content, and every file name it holds must be a plain
name inside the shard folder: a manifest edited by hand (lengths, keys) or crafted to point elsewhere
(``../../victim``) is refused as corrupt, and nothing outside the folder is ever read or deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from emobench.cache.keys import FEATURE_FORMAT_VERSION, SCHEMA_VERSION, canonical_json, sha256_file
from emobench.errors import CacheError
from emobench.fsutil import atomic_path, atomic_write_json

FP16_MAX = float(np.finfo(np.float16).max)
_counter = 0
_DATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.npy$")
KINDS = ("frames", "pooled")


def manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def check_manifest(manifest: Any) -> None:
    """Raise ValueError unless ``manifest`` is a well-formed, self-consistent shard manifest."""
    if not isinstance(manifest, dict):
        raise ValueError(f"a manifest must be a JSON object, got {type(manifest).__name__}")
    if manifest.get("manifest_sha256") != manifest_checksum(manifest):
        raise ValueError("its own checksum does not match (edited or damaged)")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(KINDS):
        raise ValueError(f"files must name exactly {KINDS}")
    for kind, meta in files.items():
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not _DATA_NAME.match(name) or ".." in name:
            raise ValueError(f"{kind} file name {name!r} is not a plain file name inside the shard folder")
    n = len(manifest.get("keys", []))
    if not (len(manifest.get("ids", [])) == len(manifest.get("lengths", [])) == n) or n == 0:
        raise ValueError("keys, ids and lengths must be non-empty and of one length")
    if sum(int(x) for x in manifest["lengths"]) != int(manifest.get("n_frames", -1)):
        raise ValueError("lengths do not add up to n_frames")


class Shard:
    """One committed shard: its manifest and lazily memory-mapped arrays."""

    def __init__(self, manifest_path: Path, manifest: dict[str, Any]):
        self.manifest_path = manifest_path
        self.manifest = manifest
        self.id: str = manifest["shard_id"]
        self.layers: list[int] = list(manifest["layers"])
        self.keys: list[str] = list(manifest["keys"])
        self.ids: list[str] = list(manifest["ids"])
        self.lengths = np.asarray(manifest["lengths"], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    @property
    def folder(self) -> Path:
        return self.manifest_path.parent

    def file(self, kind: str) -> Path:
        path = (self.folder / self.manifest["files"][kind]["name"]).resolve()
        if path.parent != self.folder.resolve():  # check_manifest already refused such names
            raise CacheError(f"{self.manifest_path}: {kind} file {path} is outside the shard folder")
        return path

    @cached_property
    def frames(self) -> np.ndarray:
        """``[n_layers_stored, n_frames, dim]`` float16, memory-mapped."""
        return np.load(self.file("frames"), mmap_mode="r", allow_pickle=False)

    @cached_property
    def pooled(self) -> np.ndarray:
        """``[n_layers_stored, n_utts, dim]`` float32, memory-mapped."""
        return np.load(self.file("pooled"), mmap_mode="r", allow_pickle=False)

    def nbytes(self) -> int:
        return sum(int(f["bytes"]) for f in self.manifest["files"].values())

    def problems(self) -> list[str]:
        """Empty if every data file is present with the recorded size and sha256."""
        found = []
        for kind, meta in self.manifest["files"].items():
            path = self.file(kind)
            if not path.is_file():
                found.append(f"{kind} file {path.name} is missing")
            elif path.stat().st_size != int(meta["bytes"]):
                found.append(f"{kind} file {path.name} has {path.stat().st_size} bytes, expected {meta['bytes']}")
            elif sha256_file(path) != meta["sha256"]:
                found.append(f"{kind} file {path.name} fails its sha256 checksum")
        return found

    def remove(self) -> None:
        """Manifest first (so the shard stops existing), then its data."""
        self.manifest_path.unlink(missing_ok=True)
        for kind in self.manifest["files"]:
            self.file(kind).unlink(missing_ok=True)


def _new_shard_id() -> str:
    global _counter
    _counter += 1
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{_counter:05d}"


def _save_npy(path: Path, array: np.ndarray) -> dict[str, Any]:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        meta = {"name": path.name, "bytes": tmp.stat().st_size, "sha256": sha256_file(tmp)}
    return meta


def write_shard(
    folder: Path, *, layers: list[int], keys: list[str], ids: list[str], feats: list[np.ndarray]
) -> Shard:
    """Commit one shard from per-utterance ``[len(layers), T_i, dim]`` float32 features."""
    folder.mkdir(parents=True, exist_ok=True)
    sid = _new_shard_id()
    frames = np.concatenate(feats, axis=1)  # [layers, sum T_i, dim]
    pooled = np.stack([f.mean(axis=1) for f in feats], axis=1).astype(np.float32)  # [layers, utts, dim]
    if np.abs(frames).max(initial=0.0) > FP16_MAX:
        warnings.warn(f"shard {sid}: feature values beyond the fp16 range were clipped to +-{FP16_MAX:g}",
                      stacklevel=2)
    frames16 = np.clip(frames, -FP16_MAX, FP16_MAX).astype(np.float16)
    try:
        files = {
            "frames": _save_npy(folder / f"{sid}.frames.npy", frames16),
            "pooled": _save_npy(folder / f"{sid}.pooled.npy", pooled),
        }
        manifest = {
            "schema_version": SCHEMA_VERSION, "format_version": FEATURE_FORMAT_VERSION, "shard_id": sid,
            "layers": list(layers), "dim": int(frames.shape[-1]), "n_frames": int(frames.shape[1]),
            "keys": list(keys), "ids": list(ids), "lengths": [int(f.shape[1]) for f in feats], "files": files,
        }
        manifest["manifest_sha256"] = manifest_checksum(manifest)
        manifest_path = folder / f"{sid}.json"
        atomic_write_json(manifest_path, manifest)
    except OSError as exc:
        for name in (f"{sid}.frames.npy", f"{sid}.pooled.npy"):
            (folder / name).unlink(missing_ok=True)
        from emobench.fsutil import disk_error

        raise disk_error(exc, folder, "feature shard", "shards already written are kept", error=CacheError) from exc
    return Shard(manifest_path, manifest)


def read_manifests(folder: Path) -> tuple[list[Shard], list[str]]:
    """Committed shards of an entry, plus problems with manifests that could not be read."""
    shards, problems = [], []
    if not folder.is_dir():
        return shards, problems
    for path in sorted(folder.glob("*.json")):
        try:
            manifest = json.loads(path.read_text())
            if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
                version = manifest.get("schema_version") if isinstance(manifest, dict) else None
                problems.append(f"{path.name}: schema_version {version} is not {SCHEMA_VERSION}")
                continue
            check_manifest(manifest)
            shards.append(Shard(path, manifest))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{path.name}: unreadable or corrupt manifest ({exc})")
    return shards, problems


def orphan_files(folder: Path, shards: list[Shard]) -> list[Path]:
    """Data files no manifest refers to (left by a killed run); safe to delete."""
    if not folder.is_dir():
        return []
    owned = {s.file(kind).name for s in shards for kind in s.manifest["files"]}
    return [p for p in folder.iterdir() if p.suffix != ".json" and p.name not in owned]
