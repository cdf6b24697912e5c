"""Turn an experiment's cohort definitions into checked SQL filters over `accounts`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohortlab.errors import SpecError
from cohortlab.spec.models import CohortSpec, Experiment
from cohortlab.spec.types import type_family, value_family
from cohortlab.spec.where import (And, Between, Comparison, Expr, InList, Literal, Not, Or, WhereSyntaxError,
                                  check_columns, describe, parse_where, to_sql)
from cohortlab.spec.yamlio import LoadedYaml

COHORTS = ("treatment", "baseline")


@dataclass(frozen=True)
class CohortFilter:
    """A cohort as SQL over ``accounts``: a parameterised condition plus its entry window."""

    name: str
    condition: str
    params: tuple
    start: dt.date
    end: dt.date
    description: str


def cohort_filter(name: str, cohort: CohortSpec, column_types: dict[str, str], loaded: LoadedYaml | None
                  ) -> CohortFilter:
    """Parse and check a cohort's ``where`` against the accounts columns and their DuckDB types.

    Errors point at the offending token in the YAML file.
    """
    condition, params, description = "TRUE", (), "all accounts"
    if cohort.where is not None:
        path = (name, "where")
        columns = list(column_types)

        def fail(message: str, offset: int, hint: str | None) -> SpecError:
            location = loaded.locate_in_text(path, offset) if loaded else None
            return SpecError(f"{name}.where: {message}", location, hint)

        try:
            expression = parse_where(cohort.where)
        except WhereSyntaxError as error:
            raise fail(error.message, error.offset, error.hint) from None
        for unknown in check_columns(expression, columns):
            hint = (f"did you mean '{unknown.suggestion}'?" if unknown.suggestion
                    else f"accounts columns are: {', '.join(columns)}")
            raise fail(f"unknown column '{unknown.column.name}'", unknown.column.offset, hint)
        for literal, column, family in _mistyped(expression, column_types):
            raise fail(f"{column} is {family} but {describe_value(literal)} is {value_family(literal.value)}",
                       literal.offset, _type_hint(family))
        condition, sql_params = to_sql(expression, columns)
        params, description = tuple(sql_params), describe(expression)
    return CohortFilter(name, condition, params, cohort.entered.start, cohort.entered.end, description)


def cohort_filters(experiment: Experiment, column_types: dict[str, str], loaded: LoadedYaml | None
                   ) -> list[CohortFilter]:
    return [cohort_filter(name, getattr(experiment, name), column_types, loaded) for name in COHORTS]


def _literals(expression: Expr):
    """(column name, literal) for every literal compared with a column."""
    if isinstance(expression, Comparison):
        yield expression.column.name, expression.value
    elif isinstance(expression, InList):
        yield from ((expression.column.name, value) for value in expression.values)
    elif isinstance(expression, Between):
        yield from ((expression.column.name, value) for value in (expression.low, expression.high))
    elif isinstance(expression, (And, Or)):
        for operand in expression.operands:
            yield from _literals(operand)
    elif isinstance(expression, Not):
        yield from _literals(expression.operand)


def _mistyped(expression: Expr, column_types: dict[str, str]):
    for column, literal in _literals(expression):
        family = type_family(column_types.get(column, ""))
        if family is not None and value_family(literal.value) != family:
            yield literal, f"column '{column}'", {"number": "a number", "text": "text", "date": "a date",
                                                  "boolean": "a boolean"}[family]


def describe_value(literal: Literal) -> str:
    value = literal.value
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value).upper() if isinstance(value, bool) else str(value)


def _type_hint(family: str) -> str:
    return {"a number": "write numbers without quotes, e.g. employees >= 50",
            "text": "quote text values, e.g. segment = 'SMB'",
            "a date": "write dates as 2025-03-01 or DATE '2025-03-01'",
            "a boolean": "compare with TRUE or FALSE"}[family]
