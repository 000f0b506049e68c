"""`emobench`: the command-line entry point. Sub-commands are mounted from their own modules."""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from emobench.cli.ui import err_console
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
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=FriendlyGroup,
    name="emobench",
    help=(
        "How much emotion survives when speech-encoder features are quantized into discrete tokens, "
        "and at what bitrate.\n\nStart with `emobench run` (the embedded synthetic demo, no downloads), "
        "then `emobench list quantizers` and `emobench run --help`."
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


def _mount(module: str, name: str, help_text: str) -> None:
    """Mount a command group; each lives in a module of its own."""
    app.add_typer(importlib.import_module(module).app, name=name, help=help_text)


from emobench.cli import list_cmd, reproduce, run_cmd  # noqa: E402  (register commands on `app`)

_mount("emobench.cli.corpus", "corpus", "Inspect corpora: counts, hours, label-map drops, soft-label coverage.")
_mount("emobench.cli.cache", "cache", "Show, verify or clear the feature and codebook cache.")
_mount("emobench.cli.leaderboard", "leaderboard", "Build, preview and validate the static leaderboard site.")

__all__ = ["app", "list_cmd", "reproduce", "run_cmd"]


def main() -> None:  # console script
    app()
