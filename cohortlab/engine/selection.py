"""Selection: the data opened and checked, the experiment's cohorts selected into a per-account panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohortlab.data.base import Source
from cohortlab.data.panel import Panel
from cohortlab.data.registry import open_source
from cohortlab.engine.matching import row_order
from cohortlab.engine.records import ReportWarning
from cohortlab.engine.settings import LOADING, SELECTING, Progress
from cohortlab.errors import InputError
from cohortlab.metrics.base import Metric
from cohortlab.spec.cohorts import CohortFilter, cohort_filters, match_problems
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import did_you_mean
from cohortlab.spec.yamlio import LoadedYaml


@dataclass(frozen=True)
class Selection:
    """The experiment as compared (with a breakdown given on the command line), its cohorts' filters, the
    panel that holds everything the comparison reads, and what the data said on the way."""

    experiment: Experiment
    filters: list[CohortFilter]
    panel: Panel
    as_of: dt.date
    as_of_basis: str
    warnings: tuple[ReportWarning, ...]


def select(experiment: Experiment, config: Config, metrics: list[Metric], source: Source | None,
           loaded: LoadedYaml | None, breakdown: tuple[str, ...] | None, progress: Progress) -> Selection:
    """Open and check the config's source (unless ``source`` is it, already checked: several experiments of one
    project share it), and select the cohorts into a panel; a source opened here is closed once the panel
    holds all the comparison needs, and on failure too."""
    owned = source is None
    if owned:
        progress(LOADING, None, None)
        source = open_source(config)
    try:
        data = source.check(config.journey, config.as_of) if owned else source.checked
        progress(SELECTING, None, None)
        column_types = source.account_columns()
        if breakdown is not None:
            experiment = _with_breakdown(experiment, breakdown, column_types)
        filters = cohort_filters(experiment, column_types, loaded)
        milestones = sorted({metric.params.milestone for metric in metrics if hasattr(metric.params, "milestone")})
        columns = list(dict.fromkeys([*experiment.match.column_names(), *experiment.breakdown]))
        panel, data_warnings = source.build_panel(filters, config.journey, config.economics, config.attribution,
                                                  columns, milestones, row_order(experiment))
    finally:  # the panel holds all this experiment needs: free the database (its checked tables) for the stats,
        if owned:  # and on failure too (a notebook keeps the error, and with it whatever it refers to)
            source.close()
    warnings = tuple(ReportWarning(warning.code, warning.message) for warning in (*data.warnings, *data_warnings))
    return Selection(experiment, filters, panel, data.as_of, data.as_of_basis, warnings)


def _with_breakdown(experiment: Experiment, columns: tuple[str, ...], column_types: dict[str, str]) -> Experiment:
    """The experiment broken down by ``columns`` (given on the command line), each checked against the accounts
    table as the experiment's own would be."""
    for name in columns:
        if name not in column_types:
            raise InputError(f"--breakdown {name}: the accounts table has no column '{name}'",
                             hint=did_you_mean(name, column_types, f"accounts columns are: {', '.join(column_types)}"))
    changed = experiment.model_copy(update={"breakdown": list(dict.fromkeys(columns))})
    problems = [problem for problem in match_problems(changed, column_types) if problem.path[0] == "breakdown"]
    if problems:
        raise InputError(f"--breakdown {changed.breakdown[problems[0].path[1]]}: "
                         f"{problems[0].message.removeprefix('breakdown: ')}",
                         hint=problems[0].hint)
    return changed
