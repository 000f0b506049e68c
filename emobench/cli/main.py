"""`emobench`: the command-line entry point. Commands live in their own modules and are registered here,
explicitly (no module imports this one back); heavy imports stay inside command bodies."""

from __future__ import annotations

import os
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from emobench.cli import cache, corpus, leaderboard, list_cmd, reproduce, results, run_cmd, train
from emobench.cli.ui import err_console, escape
from emobench.errors import EmobenchError


class FriendlyGroup(TyperGroup):
    """Turns EmobenchError (bad input, missing files, unknown names) into one red line and exit 1.

    A traceback is shown only with ``--debug`` (or EMOBENCH_DEBUG=1): bad input is not a bug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EmobenchError as exc:
            if ctx.params.get("debug") or os.environ.get("EMOBENCH_DEBUG") == "1":
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=FriendlyGroup,
    name="emobench",
    help=(
        "How much emotion survives when speech-encoder features are quantized into discrete tokens, "
        "and at what bitrate.\n\nStart with `emobench run` (the embedded synthetic demo, no downloads), "
        "then `emobench list tasks --long` and `emobench run --help`."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks for errors.")] = False,
) -> None:
    """--debug is read by FriendlyGroup from the parsed parameters (no global state)."""


app.command("run")(run_cmd.run)
app.command("reproduce")(reproduce.reproduce)
app.command("list")(list_cmd.list_entries)
app.add_typer(corpus.app, name="corpus", help="Inspect corpora: counts, hours, label-map drops, splits, soft labels.")
app.add_typer(cache.app, name="cache", help="Show, verify or clear the feature, codebook and probe caches.")
app.add_typer(results.app, name="results", help="Tidy tables of result files (CSV or Parquet).")
app.add_typer(leaderboard.app, name="leaderboard", help="Build, preview and validate the static leaderboard site.")
app.add_typer(train.app, name="train", help="Train VQ-MAE-S: its VQ-VAE, the masked autoencoder, SER fine-tuning.")


def main() -> None:  # console script
    app()


if __name__ == "__main__":
    main()
