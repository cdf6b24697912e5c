"""The one place data sources are registered: which :class:`Source` reads each ``source.kind`` of the config."""

from __future__ import annotations

from cohortlab.data.base import Source
from cohortlab.data.duckdb_source import DuckDBSource
from cohortlab.spec.models import Config

SOURCES: dict[str, type[Source]] = {"files": DuckDBSource, "duckdb": DuckDBSource, "demo": DuckDBSource}


def open_source(config: Config, *, schema_only: bool = False) -> Source:
    """Open the source the config names (see :meth:`Source.open`) with the class registered for its kind."""
    return SOURCES[config.source.kind].open(config, schema_only=schema_only)
