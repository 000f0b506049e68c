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
    """Read one YAML spec as a mapping; its name defaults to the file stem."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RegistryError(f"catalogue spec {path} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise RegistryError(f"catalogue spec {path} must be a mapping, got {type(spec).__name__}")
    spec.setdefault("name", path.stem)
    if spec["name"] != path.stem:
        raise RegistryError(f"catalogue spec {path} names itself {spec['name']!r}; rename the file or the name")
    return spec


def typed_spec(kind: str, data: dict, *, where: str):
    """Validate a spec mapping into its kind's frozen spec model; errors name the file and the field."""
    from pydantic import ValidationError

    from emobench.specs import SPEC_TYPES

    try:
        return SPEC_TYPES[kind].model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        hint = "; remove it or check its spelling" if first["type"] == "extra_forbidden" else ""
        raise RegistryError(f"{where}: field {field}: {first['msg']}{more}{hint}") from None


def iter_specs(section: str) -> list[tuple[Path, object]]:
    """Every spec of a section as (path, typed spec), sorted by file name."""
    folder = section_dir(section)
    return [(p, typed_spec(section, read_spec(p), where=f"catalogue spec {p}")) for p in sorted(folder.glob("*.yaml"))]


@cache
def shared_metrics() -> dict:
    """name -> MetricSpec from ``metrics.yaml``: the definitions every task's spec can refer to."""
    from emobench.specs import MetricSpec

    path = catalogue_root() / "metrics.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for name, fields in data.items():
        try:
            out[name] = MetricSpec.model_validate(fields)
        except Exception as exc:
            raise RegistryError(f"{path}: metric {name!r}: {exc}") from None
    return out


def task_metrics(spec) -> dict:
    """A task's metric name -> MetricSpec: its own definitions, else the shared ones."""
    shared = shared_metrics()
    out = {}
    for name, own in spec.metrics.items():
        if own is None and name not in shared:
            raise RegistryError(f"task {spec.name!r} lists metric {name!r}, which metrics.yaml does not define; "
                                "define it in the task spec (unit, direction, display, definition)")
        out[name] = own or shared[name]
    return out
