"""Turn an experiment's cohort definitions into checked SQL filters over `accounts`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cohortlab.errors import SpecError
from cohortlab.spec.models import CohortSpec, Experiment
from cohortlab.spec.where import WhereSyntaxError, check_columns, describe, parse_where, to_sql
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


def cohort_filter(name: str, cohort: CohortSpec, columns: Iterable[str], loaded: LoadedYaml | None) -> CohortFilter:
    """Parse and check a cohort's ``where``; errors point at the offending token in the YAML file."""
    condition, params, description = "TRUE", (), "all accounts"
    if cohort.where is not None:
        path = (name, "where")
        columns = list(columns)

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
        condition, sql_params = to_sql(expression, columns)
        params, description = tuple(sql_params), describe(expression)
    return CohortFilter(name, condition, params, cohort.entered.start, cohort.entered.end, description)


def cohort_filters(experiment: Experiment, columns: Iterable[str], loaded: LoadedYaml | None) -> list[CohortFilter]:
    columns = list(columns)
    return [cohort_filter(name, getattr(experiment, name), columns, loaded) for name in COHORTS]
