"""Turning errors into a short message and an exit code: the only place that does so."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from cohortlab.cli import INTERRUPTED, say_interrupted
from cohortlab.errors import CohortlabError, InputError

EXIT_INPUT = 2


@contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Show a :class:`CohortlabError` (or any unexpected error) as one message with exit code 2; Ctrl-C as
    one line with exit code 130 (outputs are written atomically, so none is left half-written)."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        say_interrupted()
        raise typer.Exit(INTERRUPTED) from None
    except BrokenPipeError:  # the reader went away (`… | head`): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
    except CohortlabError as error:
        if debug:
            raise
        message = f"{error.code} {error.message}" if error.code else error.message
        message = f"{error.location}: {message}" if error.location else message
        typer.echo(f"error: {message}", err=True)
        if error.hint:
            typer.echo(f"  hint: {error.hint}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as error:  # a bug, not the user's fault: still no traceback without --debug
        if debug:
            raise
        typer.echo(f"internal error: {type(error).__name__}: {error}", err=True)
        typer.echo("  hint: run again with --debug for the traceback, and please report it", err=True)
        raise typer.Exit(EXIT_INPUT) from None


@contextmanager
def writing(target: str) -> Iterator[None]:
    """An error writing ``target`` (a full disk, /dev/full) as a message naming it; a reader that went away
    (``… | head``) is left to :func:`user_errors`."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise InputError(f"cannot write {target}: {error.strerror or error}") from None
