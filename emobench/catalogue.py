"""Where the declarative catalogue (tasks/, upstreams/, quantizers/, leaderboard/) lives.

In a source checkout these are the repository's top-level folders; a built wheel carries them
inside the package as ``emobench/_catalogue`` (see pyproject's force-include), so nothing called
``tasks`` or ``quantizers`` is ever installed at the top level of site-packages.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from emobench.errors import RegistryError

_PACKAGE_DIR = Path(__file__).resolve().parent
SECTIONS = ("tasks", "upstreams", "quantizers", "leaderboard")


@cache
def catalogue_root() -> Path:
    """Folder holding the catalogue sections; EMOBENCH_CATALOGUE overrides it."""
    override = os.environ.get("EMOBENCH_CATALOGUE")
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE_DIR / "_catalogue", _PACKAGE_DIR.parent]
    for root in candidates:
        if (root / "quantizers").is_dir() and (root / "upstreams").is_dir():
            return root
    raise RegistryError(
        f"emobench's catalogue was not found (looked in {', '.join(map(str, candidates))}); "
        "reinstall emobench or set EMOBENCH_CATALOGUE to a folder with tasks/, upstreams/, quantizers/"
    )


def section_dir(section: str) -> Path:
    if section not in SECTIONS:
        raise ValueError(f"unknown catalogue section {section!r}")
    return catalogue_root() / section


def read_spec(path: Path) -> dict:
    """Read one YAML spec; its name defaults to the file stem."""
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RegistryError(f"catalogue spec {path} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise RegistryError(f"catalogue spec {path} must be a mapping, got {type(spec).__name__}")
    spec.setdefault("name", path.stem)
    if spec["name"] != path.stem:
        raise RegistryError(f"catalogue spec {path} names itself {spec['name']!r}; rename the file or the name")
    for key in ("impl", "description"):
        if key not in spec:
            raise RegistryError(f"catalogue spec {path} lacks the required field {key!r}")
    return spec


def iter_specs(section: str) -> list[tuple[Path, dict]]:
    folder = section_dir(section)
    return [(p, read_spec(p)) for p in sorted(folder.glob("*.yaml"))]
