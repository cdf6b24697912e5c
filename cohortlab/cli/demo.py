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
    force: Annotated[bool, typer.Option("--force", help="Replace files that differ from the demo's (an edited "
                                        "experiment or config, another seed's data); their changes are lost.")
                     ] = False,
    debug: DebugOption = False,
) -> None:
    """Write the demo dataset as Parquet, with a config, the example experiments and the editor schemas.

    Run again over the same folder, it writes what is missing and leaves files identical to the demo's as they
    are; it refuses (exit code 2, nothing written) when a file differs from the demo's, unless --force.
    """
    with user_errors(debug):  # imports inside: Ctrl-C while they load is an interrupt like any other
        from cohortlab.data.demo_project import write_demo_project
        from cohortlab.validate.schema import dumps, file_name, json_schemas

        schemas = {directory / "schemas" / file_name(kind): dumps(schema) for kind, schema in json_schemas().items()}
        written = write_demo_project(directory, seed, extra=schemas, force=force)
    rows = {written.data / f"{table}.parquet": count for table, count in written.tables.items()}
    width = max(len(str(path)) for path in written.files)
    for path, outcome in written.files.items():
        count = f"  {rows[path]:,} rows" if path in rows else ""
        typer.echo(f"  {outcome:<9}  {str(path):<{width}}{count}".rstrip())
    typer.echo(f"\nNext: cohortlab compare {written.experiments[0]}")
