"""Where emobench keeps things it can recompute: features, codebooks, probes, the demo corpus, model folders."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

_override: list[Path] = []  # set while a run uses an explicit --cache-dir


def cache_root() -> Path:
    """The run's --cache-dir while one is active, else EMOBENCH_CACHE, else the user cache dir (never inside
    the package or the repository)."""
    if _override:
        return _override[-1]
    env = os.environ.get("EMOBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("emobench"))


@contextlib.contextmanager
def using_cache_root(root: str | os.PathLike | None) -> Iterator[None]:
    """Everything cached during the block (an assembled model folder too) goes under ``root``."""
    if root is None:
        yield
        return
    _override.append(Path(root).expanduser())
    try:
        yield
    finally:
        _override.pop()
