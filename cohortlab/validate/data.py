"""The data stage of `cohortlab validate --check-data` (CL3xx): does the experiment fit the data?

It runs the real comparison with analytic intervals (the bootstrap, with fewer replicates
(:data:`REPLICATES`), for metrics without an analytic form) and checks what it found:
entry windows against the accounts' entry dates, cohort sizes against
``defaults.min_cohort``, matching support, metrics that cannot be computed, and each
metric's minimum detectable effect at 80% power (the report's, :mod:`cohortlab.stats.power`)
against the experiment's ``mde``.
"""

from __future__ import annotations

import math

from cohortlab.codes import Check, Status
from cohortlab.data.base import Source
from cohortlab.errors import CohortlabError
from cohortlab.metrics.registry import resolve
from cohortlab.report.build import Overrides, run
from cohortlab.report.model import MetricResult, Settings
from cohortlab.stats.power import POWER
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS
from cohortlab.spec.yamlio import LoadedYaml

REPLICATES = 400        # enough to estimate an interval's width within about 5%
MIN_SUPPORT = 0.90      # share of treatment accounts with a baseline account to match


def data_problems(experiment: Experiment, loaded: LoadedYaml, config: Config, source: Source) -> list[Problem]:
    problems = _window_problems(experiment, source)
    if any(problem.code is Check.WINDOW_OUTSIDE_DATA for problem in problems):
        return problems
    try:
        report = run(experiment, config, loaded, Overrides(replicates=REPLICATES, ci="analytic"), source=source)
    except CohortlabError as failure:
        return problems + [Problem(Check.DATA_UNREADABLE, failure.message, hint=failure.hint)]

    minimum = config.defaults.min_cohort
    for name in COHORTS:
        accounts = report.cohorts[name].accounts
        if accounts < minimum:
            problems.append(Problem(Check.COHORT_TOO_SMALL, f"the {name} cohort has {accounts:,} accounts, fewer "
                                    f"than defaults.min_cohort ({minimum})", (name,),
                                    "widen the entry window or the where filter"))
    treatment = report.cohorts["treatment"]
    if treatment.accounts and treatment.dropped_unmatched is not None:
        supported = 1 - treatment.dropped_unmatched / treatment.accounts
        if supported < MIN_SUPPORT:
            problems.append(Problem(Check.LOW_SUPPORT, f"only {supported:.0%} of treatment accounts "
                                    f"({treatment.accounts - treatment.dropped_unmatched:,} of "
                                    f"{treatment.accounts:,}) have a baseline account to match",
                                    ("match", "method"), "match on fewer or coarser columns, or widen the "
                                    "caliper"))
    problems += _metric_problems(experiment, config, report.results, report.settings)
    return problems


def _window_problems(experiment: Experiment, source: Source) -> list[Problem]:
    first = source.earliest_entry()
    last = source.checked.as_of
    problems = []
    for name in COHORTS:
        window = getattr(experiment, name).entered
        path = (name, "entered")
        if first is None or window.end < first or window.start > last:
            span = "there are no accounts" if first is None else f"accounts entered from {first} to as_of {last}"
            problems.append(Problem(Check.WINDOW_OUTSIDE_DATA, f"the {name} entry window {window.start} to "
                                    f"{window.end} is outside the data: {span}", path))
        elif window.start < first or window.end > last:
            problems.append(Problem(Check.WINDOW_PARTLY_OUTSIDE, f"the {name} entry window {window.start} to "
                                    f"{window.end} reaches outside the data (accounts entered from {first} to "
                                    f"as_of {last}); only the part inside counts", path))
    return problems


def _metric_problems(experiment: Experiment, config: Config, results: tuple[MetricResult, ...],
                     settings: Settings) -> list[Problem]:
    indexes = {}
    for request in experiment.metrics:
        metric, _ = resolve(request, config.journey, config.economics)
        if metric is not None:
            indexes.setdefault((metric.name, tuple(metric.param_values().values())), request.index)
    problems = []
    tests = 1 if settings.correction == "none" else sum(result.status is Status.OK for result in results)
    family = "metrics × segments" if any(result.segment for result in results) else "metrics"
    level = "" if tests == 1 else f", at the {settings.correction} level for {tests} {family}"
    for result in (result for result in results if result.segment is None):
        path = ("metrics", indexes[(result.metric, tuple(result.params.values()))])
        if result.status is Status.UNAVAILABLE:
            problems.append(Problem(Check.METRIC_UNAVAILABLE, f"{result.label} cannot be computed: {result.reason}",
                                    path))
            continue
        effect = result.mde_relative
        if not math.isfinite(effect):
            problems.append(Problem(Check.METRIC_UNAVAILABLE, f"{result.label}: no relative effect can be "
                                    f"estimated (the baseline is {result.baseline:g})", path))
            continue
        sizes = (f"{result.n['treatment']:,} treatment and {result.n['baseline']:,} baseline {result.n_unit}, "
                 f"effectively {result.effective_n['baseline']:,.0f} in the matched baseline")
        problems.append(Problem(Check.DETECTABLE_EFFECT, f"{result.label}: the smallest effect detectable with "
                                f"{POWER:.0%} power is {effect:.1%} ({sizes}{level})", path))
        wanted = experiment.mde.get(result.metric)
        if wanted is not None and wanted < effect:
            problems.append(Problem(Check.UNDERPOWERED, f"mde for {result.label} is {wanted:.1%}, below the "
                                    f"{effect:.1%} these cohorts can detect with {POWER:.0%} power ({sizes}{level})",
                                    ("mde", result.metric), "lengthen the entry windows, or raise mde to what "
                                    "the cohorts can detect"))
    return problems
