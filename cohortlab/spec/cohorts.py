"""Turn an experiment's cohort definitions into checked SQL filters over `accounts`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohortlab.codes import Check
from cohortlab.spec.models import CohortSpec, Experiment
from cohortlab.spec.problems import Problem, did_you_mean, raise_first
from cohortlab.spec.rules import COHORTS
from cohortlab.spec.types import is_nested, type_family, value_family
from cohortlab.spec.where import (And, Between, Comparison, Expr, InList, Literal, Not, Or, WhereSyntaxError,
                                  check_columns, describe, parse_where, to_sql)
from cohortlab.spec.yamlio import LoadedYaml


@dataclass(frozen=True)
class CohortFilter:
    """A cohort as SQL over ``accounts``: a parameterised condition plus its entry window."""

    name: str
    condition: str
    params: tuple
    start: dt.date
    end: dt.date
    description: str


def where_problems(name: str, cohort: CohortSpec, column_types: dict[str, str] | None) -> list[Problem]:
    """Syntax, then (given the accounts columns and their DuckDB types) unknown columns and mistyped values,
    each at the offending token of the cohort's ``where``."""
    if cohort.where is None:
        return []
    path = (name, "where")
    try:
        expression = parse_where(cohort.where)
    except WhereSyntaxError as error:
        return [Problem(Check.WHERE_SYNTAX, f"{name}.where: {error.message}", path, error.hint, offset=error.offset)]
    if column_types is None:
        return []
    columns = list(column_types)
    problems = []
    for unknown in check_columns(expression, columns):
        hint = (f"did you mean '{unknown.suggestion}'?" if unknown.suggestion
                else f"accounts columns are: {', '.join(columns)}")
        problems.append(Problem(Check.UNKNOWN_COLUMN, f"{name}.where: unknown column '{unknown.column.name}'", path,
                                hint, offset=unknown.column.offset))
    for literal, column, family in _mistyped(expression, column_types):
        problems.append(Problem(Check.WHERE_TYPE, f"{name}.where: {column} is {family} but "
                                f"{describe_value(literal)} is {value_family(literal.value)}", path,
                                _type_hint(family), offset=literal.offset))
    return problems


def match_problems(experiment: Experiment, column_types: dict[str, str]) -> list[Problem]:
    """Matching and breakdown columns that the accounts table does not have (CL106), or that cannot be used as
    numbers where the method needs numbers (CL111)."""
    match = experiment.match
    columns = list(column_types)
    problems = [Problem(Check.UNKNOWN_COLUMN, f"breakdown: unknown column '{name}' in accounts", ("breakdown", index),
                        did_you_mean(name, columns, f"accounts columns are: {', '.join(columns)}"))
                for index, name in enumerate(experiment.breakdown) if name not in columns]
    # a list, a struct or a map is no value to group accounts by
    problems += [Problem(Check.COLUMN_TYPE, f"breakdown: '{name}' is {column_types[name]}; a segment is a value: "
                         "text, a number, a boolean or a date", ("breakdown", index))
                 for index, name in enumerate(experiment.breakdown)
                 if name in columns and is_nested(column_types[name])]
    for path, name in match.columns():
        where = f"match.{path[0]}"
        if name not in columns:
            problems.append(Problem(Check.UNKNOWN_COLUMN, f"{where}: unknown column '{name}' in accounts",
                                    ("match", *path), did_you_mean(name, columns, f"accounts columns are: "
                                                                   f"{', '.join(columns)}"), key=path[0] == "coarsen"))
            continue
        family = type_family(column_types[name])
        if path[0] == "coarsen" and family != "number":
            problems.append(Problem(Check.COLUMN_TYPE, f"{where}: '{name}' is {family or column_types[name]}, and "
                                    "only numbers can be cut into bins", ("match", *path),
                                    f"match it exactly instead: on: [{name}]", key=True))
        elif path[0] in ("on", "exact") and is_nested(column_types[name]):
            problems.append(Problem(Check.COLUMN_TYPE, f"{where}: '{name}' is {column_types[name]}; accounts are "
                                    "matched exactly on a value: text, a number, a boolean or a date",
                                    ("match", *path)))
        elif path[0] == "covariates" and family not in ("number", "text", "boolean"):
            problems.append(Problem(Check.COLUMN_TYPE, f"{where}: '{name}' is {family or column_types[name]}; a "
                                    "covariate is a number, text or a boolean", ("match", *path),
                                    "derive a number from it (e.g. days since a date) in the accounts table"))
    return problems


def cohort_filters(experiment: Experiment, column_types: dict[str, str], loaded: LoadedYaml | None
                   ) -> list[CohortFilter]:
    """Both cohorts as SQL filters; the first problem with a `where` or `match` column raises."""
    problems = [problem for name in COHORTS for problem in where_problems(name, getattr(experiment, name),
                                                                          column_types)]
    raise_first(problems + match_problems(experiment, column_types), loaded)
    return [_cohort_filter(name, getattr(experiment, name), list(column_types)) for name in COHORTS]


def _cohort_filter(name: str, cohort: CohortSpec, columns: list[str]) -> CohortFilter:
    if cohort.where is None:
        return CohortFilter(name, "TRUE", (), cohort.entered.start, cohort.entered.end, "all accounts")
    expression = parse_where(cohort.where)
    condition, params = to_sql(expression, columns)
    return CohortFilter(name, condition, tuple(params), cohort.entered.start, cohort.entered.end,
                        describe(expression))


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
