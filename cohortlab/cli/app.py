"""The `cohortlab` command: a thin typer app; heavy imports happen inside commands."""

from __future__ import annotations

from typing import Annotated

import typer

from cohortlab.cli.compare import compare
from cohortlab.cli.demo import demo
from cohortlab.cli.docs import docs
from cohortlab.cli.validate import init, schema, validate

app = typer.Typer(
    name="cohortlab",
    help="Matched-cohort experiments on CAC and LTV, with honest confidence intervals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def installed_version() -> str:
    """The version of the installed distribution (its metadata), or the package's own in a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cohortlab")
    except PackageNotFoundError:
        from cohortlab import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cohortlab {installed_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    pass


app.command()(compare)
app.command()(validate)
app.command()(demo)
app.command()(init)
app.command()(schema)
app.command()(docs)
