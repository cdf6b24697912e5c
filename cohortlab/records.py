"""Typed details a stage hands on for the report (a model's fitted figures, a method's settings), read as
mappings too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any


class Details(Mapping):
    """Typed details (a frozen dataclass subclasses it), read as a mapping too — ``details["earned"]``, as the
    JSON report has them — in the order of its fields."""

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(item.name for item in fields(self))


@dataclass(frozen=True)
class NoDetails(Details):
    """Nothing to add (exact matching, no matching)."""
