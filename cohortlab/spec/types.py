"""Families of DuckDB column types, shared by the data contract and the `where` type checks."""

from __future__ import annotations

import datetime as dt

INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                           "UINTEGER", "UBIGINT", "UHUGEINT"})
NUMBER_TYPES = INTEGER_TYPES | {"FLOAT", "DOUBLE", "REAL"}


def type_family(duckdb_type: str) -> str | None:
    """"number", "text", "date" or "boolean" for a DuckDB type name; None for anything else."""
    if duckdb_type in NUMBER_TYPES or duckdb_type.startswith("DECIMAL"):
        return "number"
    if duckdb_type == "VARCHAR" or duckdb_type.startswith("ENUM"):
        return "text"
    if duckdb_type == "DATE" or duckdb_type.startswith("TIMESTAMP"):
        return "date"
    if duckdb_type == "BOOLEAN":
        return "boolean"
    return None


def is_nested(duckdb_type: str) -> bool:
    """A list, array, struct, map or union: a type whose values are not single values."""
    return duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT", "MAP", "UNION"))


def value_family(value: object) -> str:
    """The family of a `where` literal."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "text"
