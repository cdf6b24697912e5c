"""What the data stage of `cohortlab validate --check-data` (CL3xx) computes; its rules are in
:mod:`cohortlab.validate.rules.data`.

It runs the real comparison with analytic intervals (the bootstrap, with fewer replicates
(:data:`REPLICATES`), for metrics without an analytic form) and checks what it found:
entry windows against the accounts' entry dates, metrics that cannot be computed, and each
metric's minimum detectable effect at 80% power (the report's, :mod:`cohortlab.stats.power`)
against the experiment's ``mde``.
"""

from __future__ import annotations

import math

from cohortlab.codes import Check, Status
from cohortlab.data.base import Source
from cohortlab.metrics.registry import resolve
from cohortlab.engine import Overrides, analyze
from cohortlab.engine.records import MetricResult, Settings
from cohortlab.stats.power import POWER
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS
from cohortlab.spec.yamlio import LoadedYaml, PathKey

REPLICATES = 400        # enough to estimate an interval's width within about 5%


def comparison(experiment: Experiment, loaded: LoadedYaml, config: Config, data: Source):
    """The analysis the data stage checks (raises :class:`CohortlabError` when the data does not allow it)."""
    return analyze(experiment, config, data, loaded=loaded, overrides=Overrides(replicates=REPLICATES, ci="analytic"))


def window_problems(experiment: Experiment, data: Source) -> list[Problem]:
    """Entry windows outside the accounts' entry dates and as_of (CL302), or reaching past them (CL308)."""
    first = data.earliest_entry()
    last = data.checked.as_of
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


def unavailable_problems(experiment: Experiment, config: Config, results: tuple[MetricResult, ...]
                         ) -> list[Problem]:
    """Metrics the report cannot compute, or whose relative effect it cannot estimate (CL306)."""
    problems = []
    for result, path in _own_results(experiment, config, results):
        if result.status is Status.UNAVAILABLE:
            problems.append(Problem(Check.METRIC_UNAVAILABLE, f"{result.label} cannot be computed: {result.reason}",
                                    path))
        elif not math.isfinite(result.mde_relative):
            problems.append(Problem(Check.METRIC_UNAVAILABLE, f"{result.label}: no relative effect can be "
                                    f"estimated (the baseline is {result.baseline:g})", path))
    return problems


def detectable_problems(experiment: Experiment, config: Config, results: tuple[MetricResult, ...],
                        settings: Settings) -> list[Problem]:
    """The smallest effect each metric can detect with 80% power (CL307, a notice)."""
    return [Problem(Check.DETECTABLE_EFFECT, f"{result.label}: the smallest effect detectable with {POWER:.0%} "
                    f"power is {result.mde_relative:.1%} ({_sizes(result)}{_level(results, settings)})", path)
            for result, path in _own_results(experiment, config, results) if _detectable(result)]


def underpowered_problems(experiment: Experiment, config: Config, results: tuple[MetricResult, ...],
                          settings: Settings) -> list[Problem]:
    """An `mde` below the effect the cohorts can detect with 80% power (CL305)."""
    problems = []
    for result, _ in _own_results(experiment, config, results):
        wanted = experiment.mde.get(result.metric)
        if _detectable(result) and wanted is not None and wanted < result.mde_relative:
            problems.append(Problem(Check.UNDERPOWERED, f"mde for {result.label} is {wanted:.1%}, below the "
                                    f"{result.mde_relative:.1%} these cohorts can detect with {POWER:.0%} power "
                                    f"({_sizes(result)}{_level(results, settings)})", ("mde", result.metric),
                                    "lengthen the entry windows, or raise mde to what the cohorts can detect"))
    return problems


def _own_results(experiment: Experiment, config: Config, results: tuple[MetricResult, ...]
                 ) -> list[tuple[MetricResult, PathKey]]:
    """The results of the metrics the experiment lists (not of its breakdown's segments), with their paths."""
    indexes = {}
    for request in experiment.metrics:
        metric, _ = resolve(request, config.journey, config.economics)
        if metric is not None:
            indexes.setdefault((metric.name, tuple(metric.param_values().values())), request.index)
    return [(result, ("metrics", indexes[(result.metric, tuple(result.params.values()))]))
            for result in results if result.segment is None]


def _detectable(result: MetricResult) -> bool:
    return result.status is Status.OK and math.isfinite(result.mde_relative)


def _sizes(result: MetricResult) -> str:
    return (f"{result.n['treatment']:,} treatment and {result.n['baseline']:,} baseline {result.n_unit}, "
            f"effectively {result.effective_n['baseline']:,.0f} in the matched baseline")


def _level(results: tuple[MetricResult, ...], settings: Settings) -> str:
    """The multiplicity level the detectable effects are computed at, when a correction applies."""
    tests = 1 if settings.correction == "none" else sum(result.status is Status.OK for result in results)
    family = "metrics × segments" if any(result.segment for result in results) else "metrics"
    return "" if tests == 1 else f", at the {settings.correction} level for {tests} {family}"
