"""`python -m emobench ...` is the `emobench` console script."""

from emobench.cli.main import main

main()
