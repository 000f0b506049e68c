"""Where a corpus lives on disk. Lookup order, first hit wins:

1. an explicit root: ``--corpus NAME=PATH`` on the command line, or ``root=`` in code;
2. the environment variable ``EMOBENCH_<NAME>_ROOT`` (name upper-cased, dashes to underscores,
   e.g. ``EMOBENCH_CREMA_D_ROOT``);
3. the user config file ``corpora.yaml`` in platformdirs' user config dir for "emobench"
   (``~/.config/emobench/corpora.yaml`` on Linux), a mapping ``name: path``.

A root that is named but missing is an error saying which of the three named it.
"""

from __future__ import annotations

import os
from pathlib import Path

from emobench.errors import CorpusError


def env_var(name: str) -> str:
    return f"EMOBENCH_{name.upper().replace('-', '_')}_ROOT"


def config_file() -> Path:
    override = os.environ.get("EMOBENCH_CONFIG_DIR")  # lets tests and sandboxes point elsewhere
    if override:
        return Path(override) / "corpora.yaml"
    from platformdirs import user_config_dir

    return Path(user_config_dir("emobench")) / "corpora.yaml"


def _from_config(name: str) -> tuple[str | None, Path]:
    path = config_file()
    if not path.is_file():
        return None, path
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"cannot parse the corpus config {path}: {exc}; it must map corpus names to paths") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"corpus config {path} must be a mapping 'name: path', got {type(data).__name__}")
    value = data.get(name)
    return (str(value) if value is not None else None), path


def resolve_root(name: str, root: str | os.PathLike | None, *, allow_file: bool = False) -> Path:
    """The corpus root as a directory (or a file, for manifests), or a CorpusError explaining how to set it."""
    if root is not None and str(root) != "":
        source = "given explicitly (--corpus NAME=PATH)"
        value = str(root)
    elif os.environ.get(env_var(name)):
        source, value = f"from ${env_var(name)}", os.environ[env_var(name)]
    else:
        value, cfg = _from_config(name)
        source = f"from {cfg}"
        if value is None:
            raise CorpusError(
                f"no root for corpus {name!r}: pass --corpus {name}=PATH, set {env_var(name)}=PATH, "
                f"or add '{name}: PATH' to {cfg}"
            )
    path = Path(value).expanduser()
    real = Path(os.path.realpath(path))
    if any(real == Path(p) or Path(p) in real.parents for p in ("/proc", "/sys", "/dev", "/run")):
        raise CorpusError(f"root of corpus {name!r} {source} is on a pseudo-filesystem ({real}); point it at the corpus")
    if not (path.is_dir() or (allow_file and path.is_file())):
        raise CorpusError(f"root of corpus {name!r} {source} is not a directory: {path}; fix the path")
    return path.resolve()
