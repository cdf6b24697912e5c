"""Errors that reach users.

Library code raises a :class:`CohortlabError` subclass for anything a user caused
(a missing file, bad YAML, bad data, an impossible request). The command line turns
these into a short message and exit code 2; everything else is a programmer error
and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A position in a source file; line and col are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class CohortlabError(Exception):
    """A problem the user can fix; shown as a message, never as a traceback."""

    def __init__(self, message: str, location: SourceLocation | None = None, hint: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.code = code  # a `cohortlab validate` code (CL0xx…) when one applies

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} ({self.hint})" if self.hint else text


class InputError(CohortlabError):
    """A file that cannot be found or read."""


class SpecError(CohortlabError):
    """An experiment or config file that is not valid YAML or breaks the schema."""


class DataError(CohortlabError):
    """Data that breaks the data contract (docs/data.md)."""
