"""The declarative catalogue: one YAML spec per named upstream, quantizer, task, corpus and probe.

The specs live in this package's own folders (``emobench/catalogue/<kind>/<name>.yaml``),
so an editable install, ``pip install .`` and a wheel all find them at the same place, with no build
hook, copy or symlink, and nothing called ``tasks`` or ``quantizers`` reaches site-packages' top level.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from emobench.errors import RegistryError

_HERE = Path(__file__).resolve().parent
SECTIONS = ("tasks", "upstreams", "quantizers", "corpora", "probes")


@cache
def catalogue_root() -> Path:
    """Folder holding the catalogue sections (this package); EMOBENCH_CATALOGUE overrides it."""
    root = Path(os.environ.get("EMOBENCH_CATALOGUE") or _HERE)
    if not all((root / s).is_dir() for s in SECTIONS):
        raise RegistryError(
            f"emobench's catalogue was not found in {root}; reinstall emobench or set EMOBENCH_CATALOGUE "
            f"to a folder with {', '.join(s + '/' for s in SECTIONS)}"
        )
    return root


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
