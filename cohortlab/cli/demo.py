"""`cohortlab demo [DIR]`: write the demo dataset and example project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohortlab.cli.errors import user_errors
from cohortlab.cli.options import DebugOption


def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the project.")] = Path("cohortlab-demo"),
    seed: Annotated[int, typer.Option(min=0, help="Seed of the generated data.")] = 2,
    debug: DebugOption = False,
) -> None:
    """Write the demo dataset as Parquet, with a config and the example experiments."""
    with user_errors(debug):  # imports inside: Ctrl-C while they load is an interrupt like any other
        from cohortlab.data.demo_project import write_demo_project
        from cohortlab.validate.scaffold import write_schemas

        written = write_demo_project(directory, seed)
        schemas = write_schemas(directory / "schemas")
    for table, rows in written.tables.items():
        typer.echo(f"  {written.data / (table + '.parquet')}  {rows:,} rows")
    typer.echo(f"  {written.config}")
    for path in [*written.experiments, *schemas]:
        typer.echo(f"  {path}")
    typer.echo(f"\nNext: cohortlab compare {written.experiments[0]}")
