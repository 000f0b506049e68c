"""Where emobench keeps things it can recompute: features, codebooks, the demo corpus."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """EMOBENCH_CACHE, else the user cache dir (never inside the package or the repository)."""
    env = os.environ.get("EMOBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("emobench"))
