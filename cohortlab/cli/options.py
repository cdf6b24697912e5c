"""Options shared by several commands, defined once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Project config (default: configs/"
                                                   "cohortlab.yaml in the experiment's folder or a parent).")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of "
                                                   "stdout.")]


def wants_color(stream) -> bool:
    """Colour on a terminal, or wherever FORCE_COLOR asks for it (a CI log, a pager); never with NO_COLOR."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or stream.isatty()
