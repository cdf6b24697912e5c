"""`cohortlab validate`, `cohortlab schema` and `cohortlab init`: checks and scaffolding for experiment files."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cohortlab.cli.errors import user_errors, writing
from cohortlab.cli.options import ConfigOption, DebugOption, wants_color


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Config and experiment files, or project folders "
                                                        "(default: the current folder).", show_default=False)] = None,
    format: Annotated[Format | None, typer.Option("--format", "-f", help="Output format (default: github when "
                                                  "GITHUB_ACTIONS=true, else text).", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    check_data: Annotated[bool, typer.Option("--check-data", help="Also check each experiment against the data: "
                                             "windows, cohort sizes, matching support, detectable effects.")] = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Check configs and experiments: schema, references, semantics and, with --check-data, the data.

    Exit code 0 when clean (warnings allowed unless --strict), 1 with findings, 2 for usage or input errors.
    """
    chosen = format or (Format.github if os.environ.get("GITHUB_ACTIONS") == "true" else Format.text)
    with user_errors(debug):  # imports inside: Ctrl-C while they load is an interrupt like any other
        from cohortlab.validate.formats import FORMATS, markdown_summary
        from cohortlab.validate.run import validate as run_validate

        result = run_validate(paths or [], config=config, check_data=check_data)
        color = chosen is Format.text and wants_color(sys.stdout)
        with writing("the findings to standard output"):
            FORMATS[chosen.value](result, sys.stdout, color)
            sys.stdout.flush()
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if chosen is Format.github and step_summary:
            try:
                with open(step_summary, "a", encoding="utf-8") as stream:
                    stream.write(markdown_summary(result))
            except OSError as error:  # the findings are out already; the summary is a courtesy
                typer.echo(f"warning: cannot append to GITHUB_STEP_SUMMARY ({step_summary}): {error.strerror}",
                           err=True)
    raise typer.Exit(result.exit_code(strict))


class Kind(str, Enum):
    config = "config"
    experiment = "experiment"


def schema(
    kind: Annotated[Kind | None, typer.Argument(help="Which schema (default: both, as one JSON object).",
                                                show_default=False)] = None,
    write: Annotated[Path | None, typer.Option("--write", help="Write config.schema.json and "
                                               "experiment.schema.json into DIR instead.", metavar="DIR")] = None,
    debug: DebugOption = False,
) -> None:
    """Print the JSON Schemas editors use to check experiment and config files as you type."""
    with user_errors(debug):
        from cohortlab.validate.scaffold import write_schemas
        from cohortlab.validate.schema import dumps, json_schemas

        if write is not None:
            try:
                for path in write_schemas(write):
                    typer.echo(f"wrote {path}", err=True)
            except OSError as error:
                from cohortlab.errors import InputError

                raise InputError(f"cannot write to {write}: {error.strerror or error}") from None
            return
        schemas = json_schemas()
        sys.stdout.write(dumps(schemas[kind.value] if kind else schemas))


def init(
    directory: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    debug: DebugOption = False,
) -> None:
    """Scaffold a project: a config, an example experiment and the editor schemas."""
    with user_errors(debug):
        from cohortlab.validate.scaffold import init_project

        written = init_project(directory)
    for path in written:
        typer.echo(f"  {path}")
    typer.echo(f"\nNext: cohortlab validate {directory}   and   cohortlab compare {written[1]}")
