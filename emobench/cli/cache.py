"""`emobench cache ls|verify|clear`: size, entries and integrity of the feature cache (no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.ui import console

app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown")

RootOpt = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir)."),
]


def _features_root(cache_dir: Path | None) -> Path:
    from emobench.cache_dirs import cache_root

    return (cache_dir or cache_root()) / "features"


@app.command("ls")
def ls(cache_dir: RootOpt = None) -> None:
    """Size, entries, shards and utterances per upstream."""
    from emobench.cache.inspect import feature_entries, folder_bytes, human_bytes

    root = _features_root(cache_dir)
    entries = feature_entries(root)
    table = Table(title=f"feature cache {root}", title_justify="left")
    for col in ("upstream", "entry", "layers", "shards", "utterances", "frames", "size"):
        table.add_column(col, justify="right" if col in ("shards", "utterances", "frames", "size") else "left")
    for e in entries:
        model = e.identity.get("model") or e.identity.get("loader", "")
        layers = ",".join(map(str, e.layers)) if len(e.layers) <= 6 else f"{len(e.layers)} layers"
        table.add_row(e.upstream, f"{e.key[:10]} {model}", layers, str(e.n_shards), str(e.n_utterances),
                      str(e.n_frames), human_bytes(e.bytes))
    console.print(table)
    total = folder_bytes(cache_dir or root.parent) if (cache_dir or root.parent).is_dir() else 0
    console.print(f"{len(entries)} entries, {len({e.upstream for e in entries})} upstreams, "
                  f"{human_bytes(sum(e.bytes for e in entries))} of features; whole cache {human_bytes(total)}")


@app.command("verify")
def verify(
    cache_dir: RootOpt = None,
    fix: Annotated[bool, typer.Option("--fix", help="Delete corrupt shards (recomputed on the next run).")] = False,
) -> None:
    """Check every shard's sha256; list corrupt shards and leftovers of interrupted runs."""
    from emobench.cache.inspect import feature_entries, remove_corrupt, verify_entry

    root = _features_root(cache_dir)
    n_shards, problems = 0, []
    for e in feature_entries(root):
        n, p = verify_entry(e.path)
        n_shards += n
        problems += p
        if fix and p:
            remove_corrupt(e.path)
    for p in problems:
        console.print(f"[red]problem[/red] {p}")
    if problems:
        hint = "corrupt shards removed" if fix else "run `emobench cache verify --fix` to drop corrupt shards"
        console.print(f"{n_shards} shards checked, {len(problems)} problems; {hint}")
        raise typer.Exit(1 if not fix else 0)
    console.print(f"[green]ok[/green] {n_shards} shards checked in {root}, all checksums match")


@app.command("clear")
def clear(
    cache_dir: RootOpt = None,
    upstream: Annotated[str | None, typer.Option("--upstream", help="Only this upstream's features.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete cached features (all, or one upstream's)."""
    from emobench.cache.inspect import clear as clear_features
    from emobench.cache.inspect import feature_entries, human_bytes

    root = _features_root(cache_dir)
    entries = feature_entries(root, upstream)
    if not entries:
        console.print(f"nothing cached{f' for upstream {upstream!r}' if upstream else ''} in {root}")
        return
    size = human_bytes(sum(e.bytes for e in entries))
    what = f"{len(entries)} feature entries ({size}){f' of {upstream}' if upstream else ''} in {root}"
    if not yes and not typer.confirm(f"delete {what}?"):
        raise typer.Exit(1)
    freed = clear_features(root, upstream)
    console.print(f"deleted {what}; freed {human_bytes(freed)}")
