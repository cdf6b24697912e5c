"""A problem found in a config or experiment, positioned by its path in the YAML document.

Checks return problems rather than raising, so `cohortlab validate` can report every
problem of a stage at once while `compare` stops at the first (:func:`raise_first`). How
serious a code is, and in which stage it is checked, is `cohortlab validate`'s to say: its
rules (:mod:`cohortlab.validate.rules`) hold each code's severity and stage.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from cohortlab.codes import Check
from cohortlab.errors import SourceLocation, SpecError
from cohortlab.spec.yamlio import LoadedYaml, PathKey


@dataclass(frozen=True)
class Problem:
    """What is wrong and where: ``path`` into the document, the key itself with ``key=True``,
    or a character ``offset`` inside the string at ``path`` (a token of a `where`)."""

    code: Check
    message: str
    path: PathKey = ()
    hint: str | None = None
    key: bool = False
    offset: int | None = None

    def locate(self, loaded: LoadedYaml | None) -> SourceLocation | None:
        if loaded is None:
            return None
        if self.offset is not None:
            return loaded.locate_in_text(self.path, self.offset)
        return loaded.locate(self.path, key=self.key)


def did_you_mean(word: str, choices: Iterable[str], otherwise: str | None = None) -> str | None:
    """A hint naming the closest of ``choices`` to ``word``, else ``otherwise``."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else otherwise


def json_path(path: PathKey) -> str:
    """``("metrics", 2, "months")`` as ``$.metrics[2].months``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def raise_first(problems: Iterable[Problem], loaded: LoadedYaml | None) -> None:
    """Raise the first of ``problems`` as a :class:`SpecError`.

    Every problem passed here stops the command; what only warns (a possible overlap of the
    cohorts, a treatment window still open) is checked by `cohortlab validate` alone.
    """
    errors = list(problems)
    if errors:
        more = f" (and {len(errors) - 1} more; `cohortlab validate` lists them all)" if len(errors) > 1 else ""
        first = errors[0]
        raise SpecError(first.message + more, first.locate(loaded), first.hint, code=first.code)
