"""`emobench leaderboard build|serve|validate`: the static site from result files (no torch imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build, preview and validate the static leaderboard site.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(1)


@app.command()
def build(
    results: Annotated[list[Path], typer.Option("--results", "-r", help="Folder(s) or file(s) of result JSON; "
                                                "repeat for several machines' results. Searched recursively.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Site folder to (re)create; an existing one is replaced "
                                      "only after the new site has built completely.")],
    title: Annotated[str, typer.Option(help="Site title shown on every page.")] = "emobench leaderboard",
    strict: Annotated[bool, typer.Option(help="Exit non-zero when any result file was skipped or conflicted.")] = False,
) -> None:
    """Build the static site from result files; bad files are named (file + field) and skipped."""
    from rich.console import Console

    from emobench.errors import EmobenchError
    from emobench.leaderboard.build import build_site

    console = Console(stderr=True)
    missing = [str(p) for p in results if not p.exists()]
    if missing:
        raise _fail(f"no such results folder: {', '.join(missing)}; pass folders holding result JSON with --results")
    try:
        with console.status("building the leaderboard site..."):
            report = build_site(results, out, title=title)
    except EmobenchError as exc:
        raise _fail(str(exc)) from None
    for p in report.problems:
        console.print(f"skipped: {p}", style="yellow", highlight=False, markup=False, soft_wrap=True)
    console.print(report.summary(), highlight=False, markup=False, soft_wrap=True)
    console.print(f"open {report.out_dir / 'index.html'} or run: emobench leaderboard serve {report.out_dir}",
                  highlight=False, markup=False, soft_wrap=True)
    if strict and report.problems:
        raise typer.Exit(1)


@app.command()
def serve(
    site_dir: Annotated[Path, typer.Argument(help="A folder built by `emobench leaderboard build`.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).", min=0, max=65535)] = 8000,
) -> None:
    """Preview a built site at http://127.0.0.1:PORT/ (local only; Ctrl-C stops)."""
    from emobench.errors import EmobenchError
    from emobench.leaderboard.serve import serve as run_server

    try:
        run_server(site_dir, port, on_ready=lambda url: typer.echo(f"serving {site_dir} at {url} (Ctrl-C stops)"))
    except EmobenchError as exc:
        raise _fail(str(exc)) from None


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Result JSON files (or folders of them) to check.")],
) -> None:
    """Check result files against the result schema; exit 1 naming file and field for each invalid one."""
    from emobench.leaderboard.collect import check_file, find_files

    paths = find_files(files)
    if not paths:
        raise _fail(f"no result files found in {', '.join(map(str, files))}")
    bad = synthetic = 0
    for path in paths:
        doc, problem = check_file(path)
        if problem:
            bad += 1
            typer.echo(f"INVALID {problem}", err=True)
        else:
            flagged = bool(doc.get("synthetic"))
            synthetic += flagged
            typer.echo(f"ok      {path}" + ("  (synthetic: ranked apart from real runs)" if flagged else ""))
    if synthetic:
        typer.echo(f"{synthetic} of {len(paths)} file(s) are synthetic (demo corpus or made-up numbers); the site "
                   "flags them and never ranks them with real runs")
    if bad:
        raise _fail(f"{bad} of {len(paths)} result file(s) are invalid")
