"""Read-only views of the cache for `emobench cache ls|verify|clear` (no torch)."""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from emobench.cache.store import orphan_files, read_manifests


@dataclass
class EntryInfo:
    upstream: str
    key: str
    path: Path
    n_shards: int
    n_utterances: int
    n_frames: int
    layers: list[int]
    bytes: int
    identity: dict = field(default_factory=dict)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def feature_entries(root: Path, upstream: str | None = None) -> list[EntryInfo]:
    """One EntryInfo per ``<root>/<upstream>/<key>`` folder (root: the feature cache's)."""
    out = []
    base = root
    if not base.is_dir():
        return out
    for up_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if upstream is not None and up_dir.name != upstream:
            continue
        for entry in sorted(p for p in up_dir.iterdir() if p.is_dir()):
            shards, _ = read_manifests(entry / "shards")
            try:
                identity = json.loads((entry / "entry.json").read_text()).get("identity", {})
            except (OSError, ValueError):
                identity = {}
            out.append(
                EntryInfo(
                    upstream=up_dir.name, key=entry.name, path=entry, n_shards=len(shards),
                    n_utterances=len({k for s in shards for k in s.keys}),
                    n_frames=sum(int(s.manifest.get("n_frames", 0)) for s in shards),
                    layers=sorted({x for s in shards for x in s.layers}), bytes=folder_bytes(entry),
                    identity=identity,
                )
            )
    return out


ORPHAN_MIN_AGE_S = 15 * 60  # younger orphans may be a concurrent run's files still being written


def verify_entry(entry: Path) -> tuple[int, list[str], list[Path]]:
    """(shards checked, problems, orphans) for one entry. Problems are failed checksums and unreadable
    manifests; orphans are data files no manifest names (a killed run's leftovers): never read, so the
    cache stays valid with them, and ``remove_orphans`` deletes them."""
    shards, problems = read_manifests(entry / "shards")
    for shard in shards:
        problems += [f"{shard.manifest_path}: {p}" for p in shard.problems()]
    return len(shards), problems, orphan_files(entry / "shards", shards)


def remove_orphans(orphans: list[Path], *, min_age_s: float = ORPHAN_MIN_AGE_S) -> int:
    """Delete orphan files older than ``min_age_s`` (a younger one may be a running writer's); returns how many."""
    import time

    removed = 0
    for p in orphans:
        try:
            if time.time() - p.stat().st_mtime >= min_age_s:
                p.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def remove_corrupt(entry: Path) -> int:
    """Delete shards that fail verification (their utterances are recomputed on the next run). A manifest
    that cannot be trusted is deleted alone: the files it names are never touched (they may lie elsewhere)."""
    folder = entry / "shards"
    shards, _ = read_manifests(folder)
    bad = [s for s in shards if s.problems()]
    for s in bad:
        s.remove()
    good = {s.manifest_path for s in shards}
    untrusted = [p for p in folder.glob("*.json") if p not in good] if folder.is_dir() else []
    for p in untrusted:
        p.unlink(missing_ok=True)
    return len(bad) + len(untrusted)


def clear(root: Path, upstream: str | None = None) -> int:
    """Delete cached features of one upstream name, or of all; returns the bytes freed.

    Only entry folders emobench recognises (holding entry.json) are removed, never anything else
    that happens to live under the root.
    """
    freed = 0
    for info in feature_entries(root, upstream):
        if (info.path / "entry.json").is_file() or (info.path / "shards").is_dir():
            freed += info.bytes
            shutil.rmtree(info.path)
            with contextlib.suppress(OSError):
                info.path.parent.rmdir()  # the upstream's folder, once empty
    if upstream is None:
        memo = root / "audio-hashes.json"
        if memo.is_file():
            freed += memo.stat().st_size
            memo.unlink()
    return freed


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
