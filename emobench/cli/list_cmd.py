"""`emobench list`: what can be run. Reads names and descriptions only: imports no torch."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.main import app
from emobench.cli.ui import console


class Kind(str, Enum):
    upstreams = "upstreams"
    quantizers = "quantizers"
    tasks = "tasks"
    corpora = "corpora"
    probes = "probes"


@app.command("list")
def list_entries(
    kind: Annotated[
        Kind | None, typer.Argument(help="Which registry to list; all of them when left out.")
    ] = None,
    sources: Annotated[bool, typer.Option("--sources", help="Also show where each entry comes from.")] = False,
) -> None:
    """List registered upstreams, quantizers, tasks, corpora and probes with one-line descriptions.

    Entries come from emobench's built-ins, its catalogue specs (upstreams/, quantizers/, tasks/) and
    third-party packages declaring entry points in the groups `emobench.<kind>`.
    """
    from emobench.registries import ALL

    for k in [kind.value] if kind else list(ALL):
        registry = ALL[k]
        table = Table(title=f"{k} ({len(registry.entries())})", title_justify="left", show_lines=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("description")
        if sources:
            table.add_column("source", style="dim")
        for name in registry.names():
            entry = registry.get(name)
            first_line = entry.description.strip().splitlines()[0] if entry.description.strip() else ""
            table.add_row(name, first_line, *([entry.source] if sources else []))
        console.print(table)
