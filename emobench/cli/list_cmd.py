"""`emobench list`: what can be run. Reads specs only: imports no torch."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.ui import console, escape


class Kind(str, Enum):
    upstreams = "upstreams"
    quantizers = "quantizers"
    tasks = "tasks"
    corpora = "corpora"
    probes = "probes"


def _details(kind: str, spec) -> str:
    """What `--long` adds: the rest of the description, params, roles (tasks), facts (upstreams)."""
    lines = [" ".join(spec.description.split())]
    if spec.params:
        lines.append("params: " + ", ".join(f"{k}={v}" for k, v in spec.params.items()))
    if kind == "tasks":
        for role, r in spec.roles.items():
            presets = ", ".join(f"{up}: {p}" for up, p in r.presets.items())
            lines.append(f"role {role}: {r.description} (-q {role}=PRESET; default {presets})")
        lines.append(f"primary metric: {spec.primary}; paper: {spec.paper or '-'}")
    if kind == "upstreams":
        facts = {k: getattr(spec, k) for k in ("n_layers", "dim", "frame_rate_hz", "languages", "license")}
        lines.append(", ".join(f"{k} {v}" for k, v in facts.items() if v is not None))
    if kind == "corpora" and spec.language:
        lines.append(f"language {spec.language}; license {spec.license or '-'}")
    if spec.extra:
        lines.append(f"needs the extra: pip install 'emobench[{spec.extra}]'")
    return "\n".join(lines)


def list_entries(
    kind: Annotated[Kind | None, typer.Argument(help="Which registry to list; all of them when left out.")] = None,
    long: Annotated[bool, typer.Option("--long", "-l", help="Full descriptions, parameters and (tasks) quantizer roles.")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Also show where each entry comes from.")] = False,
) -> None:
    """List upstreams, quantizers, tasks, corpora and probes, one line each (the first sentence).

    Entries come from emobench's catalogue specs (emobench/catalogue/<kind>/*.yaml) and third-party
    packages declaring entry points in the groups `emobench.<kind>`.
    """
    from emobench.registries import ALL

    for k in [kind.value] if kind else list(ALL):
        registry = ALL[k]
        table = Table(title=f"{k} ({len(registry.entries())})", title_justify="left", show_lines=long)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("description")
        if sources:
            table.add_column("source", style="dim")
        for name in registry.names():
            entry = registry.get(name)
            text = _details(k, entry.spec) if long else entry.spec.short_description
            table.add_row(name, escape(text), *([escape(entry.source)] if sources else []))
        console.print(table)
