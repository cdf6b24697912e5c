"""`compare`: from an experiment file to a Report.

The stages in order: load the experiment and its config, open and check the data,
select the cohorts into a per-account panel, match, estimate every metric for the
point estimate and each bootstrap replicate, and turn replicates into conclusions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cohortlab.codes import Status, Verdict, WarningCode
from cohortlab.data.base import Source
from cohortlab.data.panel import Panel
from cohortlab.data.registry import open_source
from cohortlab.data.source import reserved_name, source_files
from cohortlab.errors import DataError, InputError
from cohortlab.outputs import refuse_inputs
from cohortlab.match import Matching, MatchingError, effective_size, match
from cohortlab.match.core import factorize
from cohortlab.match.balance import balance_table
from cohortlab.metrics.acquisition import CostPer, CostPerParams
from cohortlab.metrics.base import Inputs, Metric, MetricContext, Unavailable, end_pass
from cohortlab.metrics.estimation import estimate_replicates, rows_of
from cohortlab.metrics.funnel import Conversion, StepParams
from cohortlab.metrics.registry import resolve_all
from cohortlab.report.model import (AccountWeights, CohortSummary, ExperimentInfo, FunnelStage, MatchingSummary,
                                    MetricResult, Report, ReportWarning, Settings)
from cohortlab.report.notebook import notebook_values
from cohortlab.spec.cohorts import CohortFilter, cohort_filters, match_problems
from cohortlab.spec.load import find_config, load_config, load_experiment
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import did_you_mean
from cohortlab.spec.yamlio import LoadedYaml
from cohortlab.stats.analytic import Estimate, linearized_estimate, normal_comparison
from cohortlab.stats.bootstrap import contiguous, jackknife_counts, replicate_counts
from cohortlab.stats.inference import (RESOLVING_REPLICATES, Comparison, adjust_p_values, adjusted_level,
                                      bootstrap_comparison, unresolved, verdict)
from cohortlab.stats.power import minimum_detectable_effect

# told each stage as it starts (done and total None), and the replicates as they are done (count, total)
Progress = Callable[[str, int | None, int | None], None]
LOADING, SELECTING, MATCHING, REPLICATES = "loading data", "selecting cohorts", "matching", "bootstrap replicates"


def _quiet(stage: str, done: int | None = None, total: int | None = None) -> None:
    return None


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that take precedence over the config's defaults."""

    replicates: int | None = None
    seed: int | None = None
    ci: str | None = None          # bootstrap or analytic
    interval: str | None = None    # percentile or bca
    breakdown: tuple[str, ...] | None = None   # accounts columns to break every metric down by, instead of the
                                               # experiment's own


def compare(path: str | Path, config: str | Path | None = None, *, replicates: int | None = None,
            seed: int | None = None, ci: str | None = None, interval: str | None = None,
            breakdown: list[str] | None = None, progress: Progress | None = None) -> Report:
    """Compare an experiment's treatment cohort with its matched baseline.

    Parameters
    ----------
    path
        The experiment YAML file.
    config
        The project config; by default ``configs/cohortlab.yaml`` in the experiment's folder or a parent.
    replicates, seed, ci, interval
        Override the config's inference defaults.
    breakdown
        Accounts columns to break every metric down by, instead of the experiment's ``breakdown``.
    progress
        Called with (stage, None, None) as each stage starts (loading data, selecting cohorts, matching, bootstrap
        replicates, a breakdown segment's own replicates) and with (stage, replicates done, replicates) as the
        bootstrap runs.
    """
    experiment, loaded = load_experiment(Path(path))
    config_model, _ = load_config(Path(config) if config else find_config(Path(path)))
    overrides = Overrides(replicates, seed, ci, interval, None if breakdown is None else tuple(breakdown))
    return run(experiment, config_model, loaded, overrides, progress)


def refuse_inputs_as_outputs(outputs: dict[str, Path], experiments: list[Path],
                             config: str | Path | None = None) -> None:
    """Raise :class:`InputError` when an output of comparing ``experiments`` would land on what the comparison
    reads (an experiment, its config, the source's data files, a name the data folder keeps for a table) or
    on another output of the run (:func:`cohortlab.outputs.refuse_inputs`)."""
    inputs, configs = [], []
    for path in experiments:
        config_path = Path(config) if config else find_config(Path(path))
        config_model, _ = load_config(config_path)
        configs.append(config_model)
        inputs += [("the experiment being compared", Path(path)), ("the project config", config_path),
                   *source_files(config_model)]
    refuse_inputs(outputs, inputs, lambda target: next(
        (what for model in configs if (what := reserved_name(model, target))), None))


def run(experiment: Experiment, config: Config, loaded: LoadedYaml | None = None,
        overrides: Overrides = Overrides(), progress: Progress | None = None,
        source: Source | None = None) -> Report:
    """Build the report for already-loaded models; ``source``, when given, is the config's source already
    opened and checked (several experiments of one project share it)."""
    defaults = config.defaults
    settings = Settings(confidence=defaults.confidence, ci=overrides.ci or defaults.ci,
                        replicates=overrides.replicates or defaults.replicates,
                        seed=defaults.seed if overrides.seed is None else overrides.seed,
                        correction=defaults.correction, interval=overrides.interval or defaults.interval)
    metrics = resolve_all(experiment, config.journey, config.economics, loaded)
    progress = progress or _quiet
    owned = source is None
    if owned:
        progress(LOADING, None, None)
        source = open_source(config)
    try:
        data = source.check(config.journey, config.as_of) if owned else source.checked
        progress(SELECTING, None, None)
        column_types = source.account_columns()
        if overrides.breakdown is not None:
            experiment = _with_breakdown(experiment, overrides.breakdown, column_types)
        filters = cohort_filters(experiment, column_types, loaded)
        milestones = sorted({metric.params.milestone for metric in metrics if hasattr(metric.params, "milestone")})
        columns = list(dict.fromkeys([*experiment.match.column_names(), *experiment.breakdown]))
        panel, data_warnings = source.build_panel(filters, config.journey, config.economics, config.attribution,
                                                  columns, milestones, row_order(experiment))
    finally:  # the panel holds all this experiment needs: free the database (its checked tables) for the stats,
        if owned:  # and on failure too (a notebook keeps the error, and with it whatever it refers to)
            source.close()
    warnings = [ReportWarning(str(warning.code), warning.message) for warning in (*data.warnings, *data_warnings)]
    progress(MATCHING, None, None)
    matching = match_panel(experiment, panel)
    weights = matching.weights()
    context = MetricContext(config.economics, config.journey, defaults.min_cohort, data.as_of, defaults.confidence,
                            config.attribution)

    results, described, metric_warnings, prepared = _estimate(
        metrics, _funnel_metrics(metrics, context), panel, matching, weights, context, settings, progress,
        segments(experiment, panel))
    funnel = _funnel(described, panel, config.journey.stages)
    warnings += [ReportWarning(str(WarningCode.METRIC_UNAVAILABLE), f"{result.label}: {result.reason}")
                 for result in results if result.status is Status.UNAVAILABLE and result.segment is None]
    warnings += metric_warnings
    summary = _matching_summary(panel, matching, weights, defaults.max_smd)
    warnings += _matching_warnings(summary, panel)
    curves, account_inputs = notebook_values(metrics, results, prepared, panel, weights)
    del prepared
    return Report(
        experiment=ExperimentInfo(experiment.name, experiment.title, str(experiment.file), experiment.owner,
                                  experiment.hypothesis, experiment.primary, dict(experiment.mde)),
        as_of=data.as_of, as_of_basis=data.as_of_basis, settings=settings,
        cohorts=_cohorts(panel, weights, filters, summary.dropped),
        matching=summary,
        results=tuple(results), funnel=funnel, warnings=tuple(warnings),
        accounts=AccountWeights(panel.account_id, panel.treated, weights, matching.subclass),
        curve_tables=curves, account_inputs=account_inputs,
    )


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


def row_order(experiment: Experiment) -> list[str]:
    """The columns to order each cohort's panel rows by: for exact and coarsened exact matching, the matched
    columns (a stratum is a combination of their values, or of bins of ordered values, so its rows come out
    contiguous), a breakdown column among them first (its segments too)."""
    spec = experiment.match
    if spec.method not in ("exact", "cem"):
        return []
    columns = [*spec.on, *spec.coarsen]
    return list(dict.fromkeys([*(name for name in experiment.breakdown if name in spec.on), *columns]))


@dataclass(frozen=True)
class Segment:
    """The accounts with one value of a breakdown column, matched within it (or why they could not be)."""

    label: str                        # column=value
    panel: Panel
    matching: Matching | str
    rows: np.ndarray | None = None    # the segment's rows in the experiment's panel


def segments(experiment: Experiment, panel: Panel) -> list[Segment]:
    """Every value of every breakdown column, in column order and each column's sorted level order."""
    found = []
    for column in experiment.breakdown:
        codes, levels = factorize(panel.covariates[column])
        for code, level in enumerate(levels):
            rows = np.flatnonzero(codes == code)
            part = panel.take(rows)
            try:
                matching: Matching | str = match(experiment.match, part.treated, part.covariates)
            except MatchingError as error:
                matching = f"matching within the segment failed: {error}"
            found.append(Segment(f"{column}={level}", part, matching, rows))
    return found


@dataclass
class _Job:
    """Metrics to compare on one panel with its matching: the experiment's own, or a breakdown segment's."""

    metrics: list[Metric]
    panel: Panel
    matching: Matching
    weights: np.ndarray
    # a segment's rows in the experiment's panel, when its matching is the experiment's restricted to it: it
    # then shares the experiment's bootstrap replicates
    within: np.ndarray | None = None
    label: str = ""   # the breakdown segment's, for the progress display
    prepared: dict[str, tuple[Metric, Inputs]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    comparisons: dict[str, tuple[Comparison, str]] = field(default_factory=dict)

    def sides(self) -> dict[str, slice | np.ndarray]:
        """Each cohort's rows in the job's panel (slices when contiguous, as the panel puts treatment first)."""
        return {"treatment": rows_of(self.panel.treated), "baseline": rows_of(~self.panel.treated)}


def estimate_metrics(metrics: list[Metric], panel: Panel, matching: Matching, weights: np.ndarray,
                     context: MetricContext, settings: Settings, progress: Progress | None = None,
                     breakdown: list[Segment] = ()) -> tuple[list[MetricResult], list[ReportWarning]]:
    """Every metric's result overall and in each breakdown segment, unavailable ones with their reason,
    p-values adjusted across the whole family (metrics × segments); and the warnings the results raise."""
    results, _, warnings, _ = _estimate(metrics, (), panel, matching, weights, context, settings, progress, breakdown)
    return results, warnings


def _estimate(metrics: list[Metric], descriptive: list[Metric], panel: Panel, matching: Matching,
              weights: np.ndarray, context: MetricContext, settings: Settings, progress: Progress | None,
              breakdown: list[Segment]
              ) -> tuple[list[MetricResult], list[MetricResult], list[ReportWarning], dict[str, tuple[Metric, Inputs]]]:
    """:func:`estimate_metrics`, the ``descriptive`` metrics' results overall (outside the p-value family), and
    each overall metric's inputs on the panel (for the report's curves and per-account values).

    One pass over the bootstrap replicates serves the experiment's metrics, the descriptive ones and every
    segment whose matching is the experiment's restricted to it (exact or CEM strata that the segment's
    column splits); other segments draw their own replicates.
    """
    main = _Job([*metrics, *descriptive], panel, matching, weights)
    jobs: list[_Job | str] = [main]
    for segment in breakdown:
        if isinstance(segment.matching, str):
            jobs.append(segment.matching)
            continue
        shared = segment.rows is not None and matching.restricts_to(segment.matching, segment.rows)
        jobs.append(_Job(metrics, segment.panel, segment.matching, segment.matching.weights(),
                         segment.rows if shared else None, segment.label))
    runnable = [job for job in jobs if isinstance(job, _Job)]
    for job in runnable:
        _prepare(job, context)
    _compare(runnable, settings, progress)

    overall, warnings = _results(main, settings)
    results, described = overall[:len(metrics)], overall[len(metrics):]
    comparisons = _comparisons(main)[:len(metrics)]
    warnings = [warning for found in warnings[:len(metrics)] for warning in found]  # the funnel's: descriptive
    for segment, job in zip(breakdown, jobs[1:]):
        if isinstance(job, str):
            results += [MetricResult(metric=metric.name, params=metric.param_values(), label=metric.label,
                                     direction=metric.direction, unit=metric.unit, n_unit=metric.counted,
                                     status=Status.UNAVAILABLE, reason=job, segment=segment.label)
                        for metric in metrics]
            comparisons += [None] * len(metrics)
        else:
            results += [replace(result, segment=segment.label) for result in _results(job, settings)[0]]
            comparisons += _comparisons(job)

    end_pass()  # the details above may have filled the pass caches
    ok = [index for index, result in enumerate(results) if result.status is Status.OK]
    adjusted = adjust_p_values([results[index].p_value for index in ok], settings.correction)
    # the family: the comparisons with a p-value (an analytic one without spread has none)
    tests = 1 if settings.correction == "none" else sum(math.isfinite(results[index].p_value) for index in ok)
    for index, p_adjusted in zip(ok, adjusted):
        result = results[index]
        found = verdict(p_adjusted, result.delta, result.direction, settings.confidence)
        level = adjusted_level(result.p_value, p_adjusted, settings.confidence, tests,
                               decided=found in (Verdict.BETTER, Verdict.WORSE))
        ci_adjusted, ci_relative_adjusted = comparisons[index].intervals_at(level)
        results[index] = replace(
            result, p_adjusted=p_adjusted, verdict=found,
            confidence_adjusted=level, ci_adjusted=ci_adjusted, ci_relative_adjusted=ci_relative_adjusted,
            mde=minimum_detectable_effect(result.standard_error, settings.confidence, tests),
            mde_relative=minimum_detectable_effect(result.standard_error_relative, settings.confidence, tests))
    warnings += _unresolved(results, comparisons, settings)
    return results, described, warnings, main.prepared


def _comparisons(job: _Job) -> list[Comparison | None]:
    """The comparison behind each of the job's results (None where the metric is unavailable), in their order."""
    return [job.comparisons[metric.key][0] if metric.key in job.comparisons else None for metric in job.metrics]


def _unresolved(results: list[MetricResult], comparisons: list[Comparison | None], settings: Settings
                ) -> list[ReportWarning]:
    """A warning when the verdict of a bootstrap comparison is decided beyond what its replicates resolve: fewer
    than RESOLVING_REPLICATES replicates lie beyond 0 and beyond the end of the interval at its level (of the
    delta or of the relative delta), so where 0 falls was read off the extrapolated tail; with the replicate
    count that would put that many beyond the interval's end."""
    found, needed = [], 0
    for result, comparison in zip(results, comparisons):
        if result.status is not Status.OK or comparison is None:
            continue
        delta, relative = comparison.replicate_values
        if (unresolved(delta, result.ci_adjusted, result.delta)
                or unresolved(relative, result.ci_relative_adjusted, result.delta_relative)):
            found.append(result.label + (f" ({result.segment})" if result.segment else ""))
            needed = max(needed, math.ceil(2 * RESOLVING_REPLICATES / (1 - result.confidence_adjusted)) - 1)
    if not found:
        return []
    return [ReportWarning(str(WarningCode.REPLICATES_TOO_FEW), (
        f"{settings.replicates:,} bootstrap replicates do not resolve the verdict of {', '.join(found)}: fewer "
        f"than {RESOLVING_REPLICATES} replicates lie beyond 0 and beyond the end of the interval, so the verdict "
        f"rests on the normal tail the replicates are extended with; --replicates {needed} or more resolves it"))]


def _prepare(job: _Job, context: MetricContext) -> None:
    """Each metric's inputs on the job's panel, or why it is unavailable."""
    empty = _empty_cohort(job.panel.treated, job.weights)
    sides = job.sides()
    for metric in job.metrics:
        if metric.key in job.prepared or metric.key in job.unavailable:
            continue  # the same metric twice (a funnel stage the experiment also asks for) is computed once
        missing = job.panel.missing(metric.needs(context.journey))
        inputs = Unavailable(missing) if missing else metric.prepare(job.panel, context)
        if not isinstance(inputs, Unavailable):
            if empty:
                inputs = Unavailable(empty)
            else:
                inputs = metric.availability(*(inputs.take(rows) for rows in sides.values()), context) or inputs
        if isinstance(inputs, Unavailable):
            job.unavailable[metric.key] = inputs.reason
        else:
            job.prepared[metric.key] = (metric, inputs)


# a bootstrap comparison needs at least this many replicates where its delta is defined
MIN_DEFINED_REPLICATES = 2 * RESOLVING_REPLICATES


def _results(job: _Job, settings: Settings) -> tuple[list[MetricResult], list[list[ReportWarning]]]:
    """Each metric's result (p-values not yet adjusted, no verdicts), and the warnings each raises."""
    treated, weights = job.panel.treated, job.weights
    sides = job.sides()
    results, warnings = [], []
    for metric in job.metrics:
        common = dict(metric=metric.name, params=metric.param_values(), label=metric.label,
                      direction=metric.direction, unit=metric.unit, n_unit=metric.counted)
        found: list[ReportWarning] = []
        warnings.append(found)
        if metric.key in job.unavailable:
            results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=job.unavailable[metric.key]))
            continue
        (comparison, method), (_, inputs) = job.comparisons[metric.key], job.prepared[metric.key]
        undefined = [side for side in ("treatment", "baseline") if not np.isfinite(getattr(comparison, side))]
        if undefined:
            results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=(
                f"undefined for the {' and '.join(undefined)} cohort: {metric.undefined_meaning}")))
            continue
        if method == "bootstrap" and comparison.replicates < MIN_DEFINED_REPLICATES:
            results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=(
                f"defined in only {comparison.replicates} of {comparison.replicates + comparison.undefined} "
                f"bootstrap replicates ({metric.undefined_meaning}): too few for an interval")))
            continue
        details = {side: metric.details(inputs.take(rows), weights[rows]) for side, rows in sides.items()}
        found += [ReportWarning(str(code), message) for code, message in metric.warnings(details)]
        if comparison.undefined:
            details["undefined_replicates"] = comparison.undefined
            total = comparison.undefined + comparison.replicates
            found.append(ReportWarning(str(WarningCode.DEGENERATE_REPLICATES), (
                f"{metric.label}: undefined in {comparison.undefined:,} of {total:,} bootstrap replicates "
                f"({comparison.undefined / total:.1%}; {metric.undefined_meaning}); its interval uses the rest")))
        contributing = {side: inputs.contributing & mask & (weights > 0)
                        for side, mask in (("treatment", treated), ("baseline", ~treated))}
        results.append(MetricResult(
            **common, status=Status.OK, baseline=comparison.baseline, treatment=comparison.treatment,
            delta=comparison.delta, ci=comparison.ci, delta_relative=comparison.delta_relative,
            ci_relative=comparison.ci_relative, p_value=comparison.p_verdict, method=method,
            interval="normal" if method == "analytic" else settings.interval,
            standard_error=comparison.standard_error, standard_error_relative=comparison.standard_error_relative,
            n={side: int(rows.sum()) for side, rows in contributing.items()},
            effective_n={side: effective_size(weights[rows]) for side, rows in contributing.items()},
            details=details,
        ))
    return results, warnings


def _compare(jobs: list[_Job], settings: Settings, progress: Progress | None) -> None:
    """Every prepared metric's comparison in each job: analytic where asked for and the metric has an analytic
    form, else from the bootstrap (percentile or BCa intervals)."""
    if settings.ci == "analytic":
        for job in jobs:
            sides = job.sides().values()
            for key, (metric, inputs) in job.prepared.items():
                estimates = [_analytic_estimate(metric, inputs.take(rows), job.weights[rows], job.matching.groups[rows])
                             for rows in sides]
                if None not in estimates:
                    job.comparisons[key] = (normal_comparison(*estimates, settings.confidence), "analytic")
    host, *others = jobs
    passes = [(host, [host, *(job for job in others if job.within is not None)])]
    passes += [(job, [job]) for job in others if job.within is None]
    for owner, members in passes:
        _bootstrap(owner, members, settings, progress or _quiet)


def _bootstrap(owner: _Job, members: list[_Job], settings: Settings, progress: Progress) -> None:
    """The bootstrap comparisons of ``members``' metrics without one yet, over replicates of ``owner``'s panel:
    resampled within its matching's groups, so every replicate keeps each stratum's support."""
    entries = {}
    for index, job in enumerate(members):
        for side, rows in job.sides().items():
            shared: dict[int, np.ndarray] = {}
            # the side's columns in the owner's weights: a slice when contiguous (rows ordered by the strata)
            columns = rows if job is owner else contiguous(job.within[rows])
            for key, (metric, inputs) in job.prepared.items():
                if key not in job.comparisons:
                    entries.setdefault((index, key), (metric, {}))[1][side] = (inputs.take(rows, shared), columns)
    if not entries:
        return
    matching = owner.matching
    stage = f"{owner.label}: {REPLICATES}" if owner.label else REPLICATES
    progress(stage, 0, settings.replicates)
    counts = replicate_counts(matching.groups, settings.replicates, settings.seed)
    replicates = estimate_replicates(entries, matching.bootstrap_weights, counts, settings.replicates + 1,
                                     lambda done, total: progress(stage, done - 1, total - 1))  # the point: row 0
    left_out = {}
    if settings.interval == "bca":
        blocks = jackknife_counts(matching.groups, settings.seed)
        left_out = estimate_replicates(entries, matching.replicate_weights, [blocks], len(blocks))
    for (index, key), reps in replicates.items():
        jackknife = (left_out[index, key].baseline, left_out[index, key].treatment) if left_out else None
        members[index].comparisons[key] = (
            bootstrap_comparison(reps.baseline, reps.treatment, settings.confidence, jackknife), "bootstrap")


def _analytic_estimate(metric: Metric, inputs: Inputs, weights: np.ndarray, groups: np.ndarray) -> Estimate | None:
    """One cohort's estimate with its stratified linearization variance; None without an analytic form."""
    linearized = metric.influence(inputs, weights)
    if linearized is None:
        return None
    return linearized_estimate(*linearized, weights, groups)


FUNNEL_METRICS = ("cac", "cost_per", "conversion", "velocity")


def _funnel_metrics(metrics: list[Metric], context: MetricContext) -> list[Metric]:
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


def _empty_cohort(treated: np.ndarray, weights: np.ndarray) -> str | None:
    """Why no comparison is possible at all, or None."""
    if not treated.any() or treated.all():
        return f"the {'treatment' if not treated.any() else 'baseline'} cohort has no accounts"
    if not (weights[treated] > 0).any():
        return "every treatment account was dropped by matching: no baseline account shares its stratum"
    return None


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


def match_panel(experiment: Experiment, panel: Panel) -> Matching:
    """Match the panel's baseline to its treatment cohort; a propensity model that cannot be fitted is a
    DataError naming the experiment's covariates."""
    try:
        return match(experiment.match, panel.treated, panel.covariates)
    except MatchingError as error:
        raise DataError(f"{experiment.file}: match: {error}", hint=error.hint) from None


def _matching_summary(panel: Panel, matching: Matching, weights: np.ndarray, max_smd: float) -> MatchingSummary:
    rows = balance_table({name: panel.covariates[name] for name in matching.columns}, panel.treated, weights)
    # an infinite SMD (cohorts constant at different values) counts; None: no covariates, or a cohort is empty
    worst = [abs(row.smd_after) for row in rows if not np.isnan(row.smd_after)]
    balanced = bool(max(worst) <= max_smd) if worst else None
    dropped = int(np.sum(matching.dropped(weights)))
    treated = int(panel.treated.sum())
    if matching.method == "none":
        estimand = "none: the unadjusted difference between the cohorts"
    elif dropped:
        estimand = f"ATT on the {treated - dropped:,} supported treatment accounts ({dropped:,} dropped)"
    else:
        estimand = f"ATT on all {treated:,} treatment accounts"
    return MatchingSummary(matching.method, matching.columns, balanced, max_smd, estimand, dropped,
                           matching.subclasses(weights), matching.facts, tuple(rows))


def _matching_warnings(summary: MatchingSummary, panel: Panel) -> list[ReportWarning]:
    warnings = []
    treated = int(panel.treated.sum())
    if summary.dropped:
        warnings.append(ReportWarning(str(WarningCode.UNMATCHED_TREATED),
                                      f"{summary.dropped:,} of {treated:,} treatment accounts "
                                      f"({summary.dropped / treated:.1%}) have no baseline account to match and "
                                      "were dropped; results are for the supported treatment accounts (ATT)"))
    if summary.settings.get("converged") is False:
        warnings.append(ReportWarning(str(WarningCode.SCORE_NOT_CONVERGED),
                                      "the propensity model did not converge: some covariate (often a level seen "
                                      "in one cohort only) separates the cohorts, so its accounts get scores near "
                                      "0 or 1; match on it exactly with `exact:` or leave it out"))
    if summary.balanced is False:
        worst = max(summary.balance, key=lambda row: 0.0 if np.isnan(row.smd_after) else abs(row.smd_after))
        warnings.append(ReportWarning(str(WarningCode.UNBALANCED),
                                      f"covariates are not balanced after matching: {worst.covariate} has SMD "
                                      f"{worst.smd_after:+.3f} (max_smd is {summary.max_smd})"))
    return warnings
