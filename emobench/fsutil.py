"""Atomic writes: a file is either absent or complete, never half-written (a killed run loses nothing).

Temporary files and folders are created private (mkstemp: 0600, mkdtemp: 0700); before they replace
their target they get the permissions a plain ``open()`` / ``mkdir()`` would have given under the
user's umask (0644 / 0755 by default), so a lab-mate or a web server can read results and sites.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it: set and restore at once
    os.umask(mask)
    return mask


def public_mode(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Give ``path`` the mode a plain create would have: 0o666 (files) or 0o777 (folders) minus the umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A fresh folder inside ``parent`` (same filesystem, so it can be renamed into place) with public mode."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    public_mode(tmp, directory=True)
    return tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        public_mode(tmp_path)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def ensure_writable_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create ``path`` and check we can write there, with a clear error instead of a late crash."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".emobench-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise disk_error(exc, path, what) from exc
    return path


def mount_point(path: str | os.PathLike) -> Path:
    """The mount point of the filesystem holding ``path`` (or its nearest existing parent)."""
    p = Path(path).resolve()
    while not p.exists():
        p = p.parent
    dev = p.stat().st_dev
    while p != p.parent and p.parent.stat().st_dev == dev:
        p = p.parent
    return p


def disk_error(exc: OSError, where: str | os.PathLike, what: str, kept: str = "", *, error: type | None = None
               ) -> Exception:
    """A one-line error (``error``, default EmobenchError) for a failed write: full disk, read-only
    filesystem or permissions, naming the filesystem and its free space."""
    import errno
    import shutil

    from emobench.errors import EmobenchError

    EmobenchError = error or EmobenchError  # noqa: N806
    where = Path(where)
    tail = f" ({kept})" if kept else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        try:
            free = shutil.disk_usage(mount_point(where)).free / 2**20
        except OSError:
            free = float("nan")
        return EmobenchError(f"no space left on {mount_point(where)} while writing {what} in {where} ({free:.0f} MB "
                             f"free): free some space or pass --cache-dir / --out on another disk{tail}")
    if exc.errno == errno.EROFS:
        return EmobenchError(f"{mount_point(where)} is read-only: cannot write {what} in {where}; pass --cache-dir "
                             f"/ --out on a writable disk{tail}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return EmobenchError(f"permission denied writing {what} in {where}; pass --cache-dir / --out to a folder "
                             f"you can write{tail}")
    return EmobenchError(f"cannot write {what} in {where}: {exc.strerror or exc}{tail}")
