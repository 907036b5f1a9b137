"""`python -m cli` is the same as `candor`."""

from cli.main import cli

cli()
