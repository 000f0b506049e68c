"""`emobench cache ls|verify|clear`: every kind of cache entry (features, codebooks, probes), no torch."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.ui import console, escape

app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown")

RootOpt = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir)."),
]


class Kind(str, Enum):
    all = "all"
    features = "features"
    codebooks = "codebooks"
    probes = "probes"


KindOpt = Annotated[Kind, typer.Option("--kind", help="Which entries: features, codebooks, probes or all.")]


def _root(cache_dir: Path | None) -> Path:
    from emobench.cache_dirs import cache_root

    return (cache_dir or cache_root()).expanduser()


def _kinds(kind: Kind) -> list[str]:
    return ["features", "codebooks", "probes"] if kind is Kind.all else [kind.value]


@app.command("ls")
def ls(cache_dir: RootOpt = None, kind: KindOpt = Kind.all) -> None:
    """Entries, sizes and what they were made from, per kind."""
    from emobench.cache.artifacts import ArtifactStore
    from emobench.cache.inspect import feature_entries, folder_bytes, human_bytes

    root = _root(cache_dir)
    kinds = _kinds(kind)
    if "features" in kinds:
        table = Table(title=f"features in {escape(str(root / 'features'))}", title_justify="left")
        for col in ("upstream", "entry", "layers", "shards", "utterances", "frames", "size"):
            table.add_column(col, justify="right" if col in ("shards", "utterances", "frames", "size") else "left")
        entries = feature_entries(root / "features")
        for e in entries:
            model = e.identity.get("model") or e.identity.get("loader", "")
            layers = ",".join(map(str, e.layers)) if len(e.layers) <= 6 else f"{len(e.layers)} layers"
            table.add_row(escape(e.upstream), escape(f"{e.key[:10]} {model}"), layers, str(e.n_shards),
                          str(e.n_utterances), str(e.n_frames), human_bytes(e.bytes))
        console.print(table)
    for k in [k for k in kinds if k != "features"]:
        table = Table(title=f"{k} in {escape(str(root / k))}", title_justify="left")
        for col in ("entry", "made from", "created", "size"):
            table.add_column(col, justify="right" if col == "size" else "left", overflow="fold")
        for info in ArtifactStore(root, k).entries():
            d = info.describe
            what = d.get("quantizer") or (d.get("probe") or {}).get("impl", "")
            params = d.get("params") or (d.get("probe") or {}).get("params") or {}
            made = f"{str(what).rsplit(':', 1)[-1]} {params} layer {(d.get('fitted_on') or d).get('layer', '?')}"
            table.add_row(info.key[:12], escape(made), info.created, human_bytes(info.bytes))
        console.print(table)
    console.print(f"whole cache {escape(str(root))}: {human_bytes(folder_bytes(root))}", highlight=False)


@app.command("verify")
def verify(
    cache_dir: RootOpt = None,
    kind: KindOpt = Kind.all,
    fix: Annotated[bool, typer.Option("--fix", help="Delete damaged entries (recomputed on the next run).")] = False,
) -> None:
    """Check every entry's checksums (shard data and manifests, codebook and probe files); list leftovers."""
    import shutil

    from emobench.cache.artifacts import ArtifactStore, problems_of
    from emobench.cache.inspect import feature_entries, remove_corrupt, remove_orphans, verify_entry

    root = _root(cache_dir)
    if not root.is_dir():
        console.print(f"[red]no cache at {escape(str(root))}[/]; nothing to verify (pass --cache-dir?)", highlight=False)
        raise typer.Exit(1)
    checked, problems, orphans = 0, [], []
    kinds = _kinds(kind)
    if "features" in kinds:
        for e in feature_entries(root / "features"):
            n, p, o = verify_entry(e.path)
            checked += n
            problems += p
            orphans += o
            if fix and p:
                remove_corrupt(e.path)
    for k in [k for k in kinds if k != "features"]:
        for info in ArtifactStore(root, k).entries():
            checked += 1
            found = problems_of(info.path)
            problems += [f"{info.path}: {p}" for p in found]
            if fix and found:
                shutil.rmtree(info.path, ignore_errors=True)
    if orphans:  # never read (no manifest names them): the cache is valid with them
        removed = remove_orphans(orphans) if fix else 0
        done = f"{removed} older than 15 min deleted" if fix else "`emobench cache verify --fix` deletes them"
        console.print(f"note: {len(orphans)} unused file(s) left by interrupted runs ({done})", highlight=False)
    for p in problems:
        console.print(f"[red]problem[/red] {escape(p)}", highlight=False)
    if problems:
        hint = "damaged entries removed" if fix else "run `emobench cache verify --fix` to remove damaged entries"
        console.print(f"{checked} entries checked, {len(problems)} problems; {hint}")
        raise typer.Exit(0 if fix else 1)
    console.print(f"[green]ok[/green] {checked} entries ({', '.join(kinds)}) checked in {escape(str(root))}, "
                  "all checksums match", highlight=False)


@app.command("clear")
def clear(
    cache_dir: RootOpt = None,
    kind: KindOpt = Kind.all,
    upstream: Annotated[str | None, typer.Option("--upstream", help="Only this upstream's features.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete cached entries: all kinds by default, or one kind (or one upstream's features)."""
    from emobench.cache.artifacts import ArtifactStore
    from emobench.cache.inspect import clear as clear_features
    from emobench.cache.inspect import feature_entries, human_bytes

    root = _root(cache_dir)
    kinds = ["features"] if upstream else _kinds(kind)
    features = feature_entries(root / "features", upstream) if "features" in kinds else []
    artifacts = {k: ArtifactStore(root, k).entries() for k in kinds if k != "features"}
    n = len(features) + sum(len(v) for v in artifacts.values())
    if not n:
        console.print(f"nothing cached ({', '.join(kinds)}) in {escape(str(root))}", highlight=False)
        return
    size = human_bytes(sum(e.bytes for e in features) + sum(i.bytes for v in artifacts.values() for i in v))
    what = f"{n} entries ({', '.join(kinds)}; {size}) in {root}"
    if not yes and not typer.confirm(f"delete {what}?"):
        raise typer.Exit(1)
    freed = clear_features(root / "features", upstream) if "features" in kinds else 0
    freed += sum(ArtifactStore(root, k).clear() for k in artifacts)
    console.print(f"deleted {escape(what)}; freed {human_bytes(freed)}", highlight=False)
