"""`compare`: from an experiment file to a Report.

The stages in order: load the experiment and its config, open and check the data,
select the cohorts into a per-account panel, match, estimate every metric for the
point estimate and each bootstrap replicate, and turn replicates into conclusions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cohortlab.codes import Status, WarningCode
from cohortlab.data.contract import CheckedData, check_contract
from cohortlab.data.panel import Panel, build_panel
from cohortlab.data.source import open_database
from cohortlab.errors import DataError
from cohortlab.match import Matching, MatchingError, effective_size, match
from cohortlab.match.balance import balance_table
from cohortlab.metrics.acquisition import CostPer, CostPerParams
from cohortlab.metrics.base import Inputs, Metric, MetricContext, Unavailable
from cohortlab.metrics.estimation import estimate_replicates
from cohortlab.metrics.funnel import Conversion, StepParams
from cohortlab.metrics.registry import resolve_all
from cohortlab.report.model import (AccountWeights, CohortSummary, ExperimentInfo, FunnelStage, MatchingSummary,
                                    MetricResult, Report, ReportWarning, Settings)
from cohortlab.spec.cohorts import CohortFilter, cohort_filters
from cohortlab.spec.load import find_config, load_config, load_experiment
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.yamlio import LoadedYaml
from cohortlab.stats.bootstrap import replicate_counts
from cohortlab.stats.inference import adjust_p_values, bootstrap_comparison, verdict

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that take precedence over the config's defaults."""

    replicates: int | None = None
    seed: int | None = None


def compare(path: str | Path, config: str | Path | None = None, *, replicates: int | None = None,
            seed: int | None = None, progress: Progress | None = None) -> Report:
    """Compare an experiment's treatment cohort with its matched baseline.

    Parameters
    ----------
    path
        The experiment YAML file.
    config
        The project config; by default ``configs/cohortlab.yaml`` in the experiment's folder or a parent.
    replicates, seed
        Override the config's bootstrap defaults.
    progress
        Called with (replicates done, total) as the bootstrap runs.
    """
    experiment, loaded = load_experiment(Path(path))
    config_model, _ = load_config(Path(config) if config else find_config(Path(path)))
    return run(experiment, config_model, loaded, Overrides(replicates, seed), progress)


def run(experiment: Experiment, config: Config, loaded: LoadedYaml | None = None,
        overrides: Overrides = Overrides(), progress: Progress | None = None,
        data: CheckedData | None = None) -> Report:
    """Build the report for already-loaded models; ``data``, when given, is the config's source already
    opened and checked (several experiments of one project share it)."""
    defaults = config.defaults
    settings = Settings(confidence=defaults.confidence, ci=defaults.ci,
                        replicates=overrides.replicates or defaults.replicates,
                        seed=defaults.seed if overrides.seed is None else overrides.seed,
                        correction=defaults.correction)
    metrics = resolve_all(experiment, config.journey, config.economics, loaded)
    if data is None:
        data = check_contract(open_database(config), config.journey, config.as_of)
    column_types = data.db.tables["accounts"].columns
    filters = cohort_filters(experiment, column_types, loaded)
    milestones = sorted({metric.params.milestone for metric in metrics if hasattr(metric.params, "milestone")})
    panel, data_warnings = build_panel(data, filters, config.journey, config.economics, config.attribution,
                                       experiment.match.column_names(), milestones)
    warnings = [ReportWarning(str(warning.code), warning.message) for warning in (*data.warnings, *data_warnings)]
    matching = match_panel(experiment, panel)
    weights = matching.weights()
    context = MetricContext(config.economics, config.journey, defaults.min_cohort, data.as_of, defaults.confidence,
                            config.attribution)

    results, metric_warnings = _estimate(metrics, panel, matching, weights, context, settings, progress)
    funnel = _funnel(metrics, panel, matching, weights, context, settings)
    warnings += [ReportWarning(str(WarningCode.METRIC_UNAVAILABLE), f"{result.label}: {result.reason}")
                 for result in results if result.status is Status.UNAVAILABLE]
    warnings += metric_warnings
    summary = _matching_summary(panel, matching, weights, defaults.max_smd)
    warnings += _matching_warnings(summary, panel)
    return Report(
        experiment=ExperimentInfo(experiment.name, experiment.title, str(experiment.file), experiment.owner,
                                  experiment.hypothesis, experiment.primary),
        as_of=data.as_of, settings=settings, cohorts=_cohorts(panel, weights, filters, summary.dropped),
        matching=summary,
        results=tuple(results), funnel=funnel, warnings=tuple(warnings),
        accounts=AccountWeights(panel.account_id, panel.treated, weights, matching.subclass),
    )


def _estimate(metrics: list[Metric], panel: Panel, matching: Matching, weights: np.ndarray, context: MetricContext,
              settings: Settings, progress: Progress | None) -> tuple[list[MetricResult], list[ReportWarning]]:
    """Every metric's result, unavailable ones with their reason, p-values adjusted across the family; and
    the warnings the results raise."""
    results, warnings = _compare_metrics(metrics, panel, matching, weights, context, settings, progress)
    ok = [index for index, result in enumerate(results) if result.status is Status.OK]
    adjusted = adjust_p_values([results[index].p_value for index in ok], settings.correction)
    for index, p_adjusted in zip(ok, adjusted):
        result = results[index]
        results[index] = replace(result, p_adjusted=p_adjusted, verdict=verdict(
            p_adjusted, result.delta, result.direction, settings.confidence))
    return results, warnings


def _compare_metrics(metrics: list[Metric], panel: Panel, matching: Matching, weights: np.ndarray,
                     context: MetricContext, settings: Settings, progress: Progress | None
                     ) -> tuple[list[MetricResult], list[ReportWarning]]:
    """Every metric's comparison (p-values not yet adjusted, no verdicts), and the warnings they raise."""
    treated = panel.treated
    prepared: dict[str, tuple[Metric, Inputs]] = {}
    unavailable: dict[str, str] = {}
    empty = _empty_cohort(treated, weights)
    for metric in metrics:
        inputs = metric.prepare(panel, context)
        if not isinstance(inputs, Unavailable):
            if empty:
                inputs = Unavailable(empty)
            else:
                inputs = metric.availability(inputs.take(treated), inputs.take(~treated), context) or inputs
        if isinstance(inputs, Unavailable):
            unavailable[metric.key] = inputs.reason
        else:
            prepared[metric.key] = (metric, inputs)

    # resample within each cohort's matching strata (SPEC §7), so every replicate keeps each stratum's support
    counts = replicate_counts(matching.groups, settings.replicates, settings.seed)
    replicates = estimate_replicates(prepared, treated, matching.replicate_weights, counts, settings.replicates + 1,
                                     progress)
    comparisons = {key: bootstrap_comparison(reps.baseline, reps.treatment, settings.confidence)
                   for key, reps in replicates.items()}

    results, warnings = [], []
    for metric in metrics:
        common = dict(metric=metric.name, params=metric.param_values(), label=metric.label,
                      direction=metric.direction, unit=metric.unit)
        if metric.key in unavailable:
            results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=unavailable[metric.key]))
            continue
        comparison, (_, inputs) = comparisons[metric.key], prepared[metric.key]
        undefined = [side for side in ("treatment", "baseline") if not np.isfinite(getattr(comparison, side))]
        if undefined:
            results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=(
                f"undefined for the {' and '.join(undefined)} cohort: {metric.undefined_meaning}")))
            continue
        sides = {"treatment": treated, "baseline": ~treated}
        details = {side: metric.details(inputs.take(mask), weights[mask]) for side, mask in sides.items()}
        warnings += [ReportWarning(str(code), message) for code, message in metric.warnings(details)]
        if comparison.undefined:
            details["undefined_replicates"] = comparison.undefined
            total = comparison.undefined + comparison.replicates
            warnings.append(ReportWarning(str(WarningCode.DEGENERATE_REPLICATES), (
                f"{metric.label}: undefined in {comparison.undefined:,} of {total:,} bootstrap replicates "
                f"({comparison.undefined / total:.1%}; {metric.undefined_meaning}); its interval uses the rest")))
        contributing = {side: inputs.contributing & mask & (weights > 0) for side, mask in sides.items()}
        results.append(MetricResult(
            **common, status=Status.OK, baseline=comparison.baseline, treatment=comparison.treatment,
            delta=comparison.delta, ci=comparison.ci, delta_relative=comparison.delta_relative,
            ci_relative=comparison.ci_relative, p_value=comparison.p_value,
            n={side: int(rows.sum()) for side, rows in contributing.items()},
            effective_n={side: effective_size(weights[rows]) for side, rows in contributing.items()},
            details=details,
        ))
    return results, warnings


FUNNEL_METRICS = ("cac", "cost_per", "conversion", "velocity")


def _funnel(metrics: list[Metric], panel: Panel, matching: Matching, weights: np.ndarray, context: MetricContext,
            settings: Settings) -> tuple[FunnelStage, ...]:
    """Per journey stage: accounts reaching it, conversion from the stage before and cost per account
    reaching it, compared with the same replicates as the metrics (descriptive: outside the p-value
    family). Shown when the experiment asks for an acquisition metric and the journey has stages."""
    stages = context.journey.stages
    if len(stages) < 2 or not any(metric.name in FUNNEL_METRICS for metric in metrics):
        return ()
    costs = [CostPer(CostPerParams(stage=stage)) for stage in stages]
    conversions = [Conversion(Conversion.with_defaults(StepParams.model_validate({"from": start, "to": end}),
                                                       context.economics, context.journey))
                   for start, end in zip(stages, stages[1:])]
    results, _ = _compare_metrics(costs + conversions, panel, matching, weights, context, settings, None)
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
