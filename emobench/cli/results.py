"""`emobench results table`: the tidy metrics table of result files (no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emobench.cli.ui import console, escape
from emobench.errors import EmobenchError

app = typer.Typer(no_args_is_help=True)
PREVIEW_ROWS = 20


@app.command("table")
def table(
    paths: Annotated[list[Path], typer.Argument(help="Result folders or files (searched recursively).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table: .csv or .parquet; else print a preview.")] = None,
) -> None:
    """One long table of every metric of every run, with stable columns (see emobench/results/table.py).

    Load it in Python with ``pd.read_csv`` / ``pd.read_parquet``, or ``emobench.results.load(DIR)``.
    """
    from emobench.fsutil import atomic_path
    from emobench.results.table import load

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise EmobenchError(f"no such results folder or file: {', '.join(missing)}")
    frame = load(*paths)
    if out is None:
        shown = frame.head(PREVIEW_ROWS)
        console.print(escape(shown.to_string(max_cols=12)), highlight=False)
        more = len(frame) - len(shown)
        console.print(f"{len(frame)} rows x {len(frame.columns)} columns"
                      + (f"; {more} more rows not shown" if more else "") + ": write them all with --out table.csv")
        return
    if out.suffix not in (".csv", ".parquet"):
        raise EmobenchError(f"--out {out}: the table is written as .csv or .parquet")
    with atomic_path(out) as tmp:
        if out.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    console.print(f"wrote {len(frame)} rows to {escape(str(out))}", highlight=False)
