"""The `cohortlab` command: a thin typer app; heavy imports happen inside commands."""

from __future__ import annotations

import typer

from cohortlab.cli.compare import compare
from cohortlab.cli.demo import demo
from cohortlab.cli.validate import init, schema, validate

app = typer.Typer(
    name="cohortlab",
    help="Matched-cohort experiments on CAC and LTV, with honest confidence intervals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(compare)
app.command()(validate)
app.command()(demo)
app.command()(init)
app.command()(schema)

