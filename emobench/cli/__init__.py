"""The Typer CLI. Each command group lives in its own module; heavy imports stay inside command bodies."""
