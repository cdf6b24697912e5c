"""`analyze`: from an experiment, its config and the data to an Analysis.

The typed steps in order: Selection (the data opened and checked, the cohorts selected into a
per-account panel) → Matching (the baseline matched to the treatment cohort, each breakdown
segment within itself, and the balance table) → Estimates (each metric's comparison, overall and
per segment: point estimates with their bootstrap replicates or their moments) → Inferences
(p-values adjusted across the family, verdicts, the intervals they are read at). The Analysis
keeps what renderers and later commands need; :mod:`cohortlab.report` turns it into a Report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import norm

from cohortlab.codes import Inference, Status, Unavailability, WarningCode
from cohortlab.data.base import Source
from cohortlab.data.panel import Panel
from cohortlab.engine.curves import curves_and_inputs
from cohortlab.engine.estimates import Job, compare, prepare, results as job_results
from cohortlab.engine.inference import infer
from cohortlab.engine.matching import Segment, match_panel, matching_summary, matching_warnings, segments
from cohortlab.engine.records import (QUANTILES, AccountInputs, AccountWeights, CohortSummary, CurveTables,
                                      FunnelStage, MatchingSummary, MetricResult, ReplicateSummary, ReportWarning,
                                      Settings)
from cohortlab.engine.selection import select
from cohortlab.engine.settings import MATCHING, Overrides, Progress, quiet, settings_of
from cohortlab.match import Matching, effective_size
from cohortlab.metrics.acquisition import CostPer, CostPerParams
from cohortlab.metrics.base import Inputs, Metric, MetricContext
from cohortlab.metrics.funnel import Conversion, StepParams
from cohortlab.metrics.registry import resolve_all
from cohortlab.spec.cohorts import CohortFilter
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.yamlio import LoadedYaml
from cohortlab.stats.inference import Comparison, ReplicateDistribution


@dataclass(frozen=True)
class Analysis:
    """What comparing an experiment's cohorts found, typed: the experiment as compared, the settings, the
    cohorts, the matching with its balance table, each metric's result overall and per breakdown segment with
    a summary of the distribution behind its interval, the funnel by stage, the curves behind the overall
    estimates and each account's inputs to them, the matching weights, and the warnings."""

    experiment: Experiment
    settings: Settings
    as_of: dt.date
    as_of_basis: str
    cohorts: dict[str, CohortSummary]
    matching: MatchingSummary
    results: tuple[MetricResult, ...]
    distributions: tuple[ReplicateSummary | None, ...]  # per result, None where it is unavailable
    funnel: tuple[FunnelStage, ...]
    warnings: tuple[ReportWarning, ...]
    accounts: AccountWeights = field(repr=False)
    curves: CurveTables = field(default_factory=dict, repr=False)
    account_inputs: AccountInputs = field(default_factory=dict, repr=False)


def analyze(experiment: Experiment, config: Config, source: Source | None = None, *,
            loaded: LoadedYaml | None = None, overrides: Overrides = Overrides(),
            progress: Progress | None = None) -> Analysis:
    """Compare the experiment's treatment cohort with its matched baseline.

    ``source`` is the config's data source already opened and checked (several experiments of one project share
    it, one comparison at a time: a source is not for two threads at once); None opens it from the config and
    closes it once the panel is built. ``loaded`` positions problems in the experiment's YAML; ``overrides`` take
    precedence over the config's defaults; ``progress`` is told as each stage starts and as the bootstrap
    replicates are done.
    """
    settings = settings_of(config, overrides)
    metrics = resolve_all(experiment, config.journey, config.economics, loaded)
    progress = progress or quiet
    selection = select(experiment, config, metrics, source, loaded, overrides.breakdown, progress)
    experiment, panel = selection.experiment, selection.panel
    progress(MATCHING, None, None)
    matching = match_panel(experiment, panel)
    weights = matching.weights()
    defaults = config.defaults
    context = MetricContext(config.economics, config.journey, defaults.min_cohort, selection.as_of,
                            defaults.confidence, config.attribution)

    estimates = _estimates(metrics, funnel_metrics(metrics, context), panel, matching, weights, context, settings,
                           progress, segments(experiment, panel))
    warnings = [*selection.warnings]
    warnings += [ReportWarning(WarningCode.METRIC_UNAVAILABLE, f"{result.label}: {result.reason}")
                 for result in estimates.results if result.status is Status.UNAVAILABLE and result.segment is None]
    warnings += estimates.warnings
    summary = matching_summary(panel, matching, weights, defaults.max_smd)
    warnings += matching_warnings(summary, panel)
    curves, account_inputs = curves_and_inputs(metrics, estimates.results, estimates.prepared, panel, weights)
    return Analysis(
        experiment=experiment, settings=settings, as_of=selection.as_of, as_of_basis=selection.as_of_basis,
        cohorts=_cohorts(panel, weights, selection.filters, summary.dropped), matching=summary,
        results=tuple(estimates.results),
        distributions=tuple(_distribution(comparison, method) for comparison, method in estimates.comparisons),
        funnel=_funnel(estimates.described, panel, config.journey.stages), warnings=tuple(warnings),
        accounts=AccountWeights(panel.account_id, panel.treated, weights, matching.subclass),
        curves=curves, account_inputs=account_inputs,
    )


@dataclass(frozen=True)
class Estimates:
    """Every metric's result overall and in each breakdown segment (p-values adjusted across the whole family,
    verdicts), the comparison behind each (with its method; None where unavailable), the descriptive
    metrics' results overall (the funnel's: outside the family), the warnings the results raise, and each
    overall metric's inputs on the panel (for the curves and per-account inputs)."""

    results: list[MetricResult]
    comparisons: list[tuple[Comparison | None, Inference | None]]
    described: list[MetricResult]
    warnings: list[ReportWarning]
    prepared: dict[str, tuple[Metric, Inputs]]


def estimate_metrics(metrics: list[Metric], panel: Panel, matching: Matching, weights: np.ndarray,
                     context: MetricContext, settings: Settings, progress: Progress | None = None,
                     breakdown: list[Segment] = ()) -> tuple[list[MetricResult], list[ReportWarning]]:
    """Every metric's result overall and in each breakdown segment, unavailable ones with their reason,
    p-values adjusted across the whole family (metrics × segments); and the warnings the results raise."""
    estimates = _estimates(metrics, [], panel, matching, weights, context, settings, progress, breakdown)
    return estimates.results, estimates.warnings


def _estimates(metrics: list[Metric], descriptive: list[Metric], panel: Panel, matching: Matching,
               weights: np.ndarray, context: MetricContext, settings: Settings, progress: Progress | None,
               breakdown: list[Segment]) -> Estimates:
    """One pass over the bootstrap replicates serves the experiment's metrics, the descriptive ones and every
    segment whose matching is the experiment's restricted to it (exact or CEM strata that the segment's
    column splits); other segments draw their own replicates."""
    main = Job([*metrics, *descriptive], panel, matching, weights)
    jobs: list[Job | str] = [main]
    for segment in breakdown:
        if isinstance(segment.matching, str):
            jobs.append(segment.matching)
            continue
        shared = segment.rows is not None and matching.restricts_to(segment.matching, segment.rows)
        jobs.append(Job(metrics, segment.panel, segment.matching, segment.matching.weights(),
                        segment.rows if shared else None, segment.label))
    runnable = [job for job in jobs if isinstance(job, Job)]
    for job in runnable:
        prepare(job, context)
    compare(runnable, settings, progress)

    overall, warnings = job_results(main, settings)
    results, described = overall[:len(metrics)], overall[len(metrics):]
    comparisons = _comparisons(main)[:len(metrics)]
    warnings = [warning for found in warnings[:len(metrics)] for warning in found]  # the funnel's: descriptive
    for segment, job in zip(breakdown, jobs[1:]):
        if isinstance(job, str):
            results += [MetricResult(metric=metric.name, params=metric.param_values(), label=metric.label,
                                     direction=metric.direction, unit=metric.unit, n_unit=metric.counted,
                                     status=Status.UNAVAILABLE, reason=job, segment=segment.label,
                                     reason_code=Unavailability.SEGMENT_UNMATCHED)
                        for metric in metrics]
            comparisons += [(None, None)] * len(metrics)
        else:
            results += [replace(result, segment=segment.label) for result in job_results(job, settings)[0]]
            comparisons += _comparisons(job)
    results, unresolved = infer(results, [comparison for comparison, _ in comparisons], settings)
    return Estimates(results, comparisons, described, warnings + unresolved, main.prepared)


def _comparisons(job: Job) -> list[tuple[Comparison | None, Inference | None]]:
    """The comparison behind each of the job's metrics with its method ((None, None) where unavailable)."""
    return [job.comparisons.get(metric.key, (None, None)) for metric in job.metrics]


def _distribution(comparison: Comparison | None, method: Inference | None) -> ReplicateSummary | None:
    if comparison is None:
        return None
    values = comparison.replicate_values[0]
    if method is Inference.BOOTSTRAP:
        if values is None or not len(values):
            return None
        # the quantiles as the intervals read them: the i-th of B replicates at level i/(B + 1)
        quantiles = ReplicateDistribution.of(values).quantile(np.array(QUANTILES))
        return ReplicateSummary(method, len(values), comparison.undefined, float(np.mean(values)),
                                float(np.std(values, ddof=1)) if len(values) > 1 else float("nan"),
                                dict(zip(QUANTILES, map(float, quantiles))))
    spread = comparison.standard_error
    return ReplicateSummary(Inference.ANALYTIC, 0, 0, comparison.delta, spread,
                            {level: float(comparison.delta + spread * norm.ppf(level)) for level in QUANTILES})


FUNNEL_METRICS = ("cac", "cost_per", "conversion", "velocity")


def funnel_metrics(metrics: list[Metric], context: MetricContext) -> list[Metric]:
    """Per journey stage the cost per account reaching it, and per step the conversion: the funnel table's
    metrics, when the experiment asks for an acquisition metric and the journey has stages."""
    stages = context.journey.stages
    if len(stages) < 2 or not any(metric.name in FUNNEL_METRICS for metric in metrics):
        return []
    costs = [CostPer(CostPerParams(stage=stage)) for stage in stages]
    conversions = [Conversion(Conversion.with_defaults(StepParams.model_validate({"from": start, "to": end}),
                                                       context.economics, context.journey))
                   for start, end in zip(stages, stages[1:])]
    return [*costs, *conversions]


def _funnel(results: list[MetricResult], panel: Panel, stages: list[str]) -> tuple[FunnelStage, ...]:
    """Per journey stage: accounts reaching it, conversion from the stage before and cost per account
    reaching it, compared with the same replicates as the metrics (descriptive: outside the p-value
    family)."""
    if not results:
        return ()
    cost_results, conversion_results = results[:len(stages)], [None, *results[len(stages):]]
    entrants = panel.window_elapsed
    funnel = []
    for index, stage in enumerate(stages):
        reached = panel.reached[:, index] & entrants
        counts = {"treatment": int(np.sum(reached & panel.treated)), "baseline": int(np.sum(reached & ~panel.treated))}
        funnel.append(FunnelStage(stage, counts, conversion_results[index], cost_results[index]))
    return tuple(funnel)


def _cohorts(panel: Panel, weights: np.ndarray, filters: list[CohortFilter], dropped_treated: int
             ) -> dict[str, CohortSummary]:
    cohorts = {}
    for cohort in filters:
        rows = panel.treated if cohort.name == "treatment" else ~panel.treated
        dropped = dropped_treated if cohort.name == "treatment" else None
        cohorts[cohort.name] = CohortSummary(
            accounts=int(rows.sum()), customers=int(np.sum(rows & panel.won)),
            effective_size=effective_size(weights[rows]), where=cohort.description,
            entered=(cohort.start, cohort.end), dropped_unmatched=dropped,
        )
    return cohorts
