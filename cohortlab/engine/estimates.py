"""Estimates: every metric's comparison of the cohorts, overall and in each breakdown segment.

A :class:`Job` is the metrics to compare on one panel with its matching: the experiment's,
or a breakdown segment's. Each metric's inputs are prepared on the job's panel (or it is
unavailable, with the reason), then compared: analytically where asked for and the metric
has an analytic form (its moments), else from the bootstrap (the point estimate with its
replicates). One pass over the bootstrap replicates serves the experiment's metrics, the
funnel's and every segment whose matching is the experiment's restricted to it (exact or
CEM strata that the segment's column splits); other segments draw their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cohortlab.codes import Inference, Interval, Status, Unavailability, WarningCode
from cohortlab.data.panel import Panel
from cohortlab.engine.records import MetricResult, ReportWarning, Settings
from cohortlab.engine.replicates import estimate_replicates, rows_of
from cohortlab.engine.settings import REPLICATES, Progress, quiet
from cohortlab.match import Matching, effective_size
from cohortlab.metrics.base import Inputs, Memo, Metric, MetricContext, Unavailable
from cohortlab.stats.analytic import Estimate, linearized_estimate, normal_comparison
from cohortlab.stats.bootstrap import contiguous, jackknife_counts, replicate_counts
from cohortlab.stats.inference import RESOLVING_REPLICATES, Comparison, bootstrap_comparison

# a bootstrap comparison needs at least this many replicates where its delta is defined
MIN_DEFINED_REPLICATES = 2 * RESOLVING_REPLICATES


@dataclass
class Job:
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
    unavailable: dict[str, Unavailable] = field(default_factory=dict)
    comparisons: dict[str, tuple[Comparison, Inference]] = field(default_factory=dict)

    def sides(self) -> dict[str, slice | np.ndarray]:
        """Each cohort's rows in the job's panel (slices when contiguous, as the panel puts treatment first)."""
        return {"treatment": rows_of(self.panel.treated), "baseline": rows_of(~self.panel.treated)}

    def comparison_list(self) -> list[Comparison | None]:
        """The comparison behind each metric (None where it is unavailable), in the metrics' order."""
        return [self.comparisons[metric.key][0] if metric.key in self.comparisons else None
                for metric in self.metrics]


def prepare(job: Job, context: MetricContext) -> None:
    """Each metric's inputs on the job's panel, or why it is unavailable."""
    empty = _empty_cohort(job.panel.treated, job.weights)
    sides = job.sides()
    shared = Memo()  # what several metrics derive alike from this panel (the modeled value curve's arrays)
    for metric in job.metrics:
        if metric.key in job.prepared or metric.key in job.unavailable:
            continue  # the same metric twice (a funnel stage the experiment also asks for) is computed once
        missing = job.panel.missing(metric.needs(context.journey))
        inputs = Unavailable(Unavailability.NO_DATA, missing) if missing else metric.prepare(job.panel, context, shared)
        if not isinstance(inputs, Unavailable):
            if empty:
                inputs = Unavailable(Unavailability.EMPTY_COHORT, empty)
            else:
                inputs = metric.availability(*(inputs.take(rows) for rows in sides.values()), context) or inputs
        if isinstance(inputs, Unavailable):
            job.unavailable[metric.key] = inputs
        else:
            job.prepared[metric.key] = (metric, inputs)


def compare(jobs: list[Job], settings: Settings, progress: Progress | None) -> None:
    """Every prepared metric's comparison in each job: analytic where asked for and the metric has an analytic
    form, else from the bootstrap (percentile or BCa intervals). The first job is the experiment's."""
    if settings.ci is Inference.ANALYTIC:
        for job in jobs:
            sides = job.sides().values()
            for key, (metric, inputs) in job.prepared.items():
                estimates = [_analytic_estimate(metric, inputs.take(rows), job.weights[rows], job.matching.groups[rows])
                             for rows in sides]
                if None not in estimates:
                    job.comparisons[key] = (normal_comparison(*estimates, settings.confidence), Inference.ANALYTIC)
    host, *others = jobs
    passes = [(host, [host, *(job for job in others if job.within is not None)])]
    passes += [(job, [job]) for job in others if job.within is None]
    for owner, members in passes:
        _bootstrap(owner, members, settings, progress or quiet)


def _bootstrap(owner: Job, members: list[Job], settings: Settings, progress: Progress) -> None:
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
    if settings.interval is Interval.BCA:
        blocks = jackknife_counts(matching.groups, settings.seed)
        left_out = estimate_replicates(entries, matching.replicate_weights, [blocks], len(blocks))
    for (index, key), reps in replicates.items():
        jackknife = (left_out[index, key].baseline, left_out[index, key].treatment) if left_out else None
        members[index].comparisons[key] = (
            bootstrap_comparison(reps.baseline, reps.treatment, settings.confidence, jackknife), Inference.BOOTSTRAP)


def _analytic_estimate(metric: Metric, inputs: Inputs, weights: np.ndarray, groups: np.ndarray) -> Estimate | None:
    """One cohort's estimate with its stratified linearization variance; None without an analytic form."""
    linearized = metric.influence(inputs, weights)
    if linearized is None:
        return None
    return linearized_estimate(*linearized, weights, groups)


def results(job: Job, settings: Settings) -> tuple[list[MetricResult], list[list[ReportWarning]]]:
    """Each metric's result (p-values not yet adjusted, no verdicts), and the warnings each raises."""
    treated, weights = job.panel.treated, job.weights
    sides = job.sides()
    found_results, warnings = [], []
    for metric in job.metrics:
        common = dict(metric=metric.name, params=metric.param_values(), label=metric.label,
                      direction=metric.direction, unit=metric.unit, n_unit=metric.counted)
        found: list[ReportWarning] = []
        warnings.append(found)
        if metric.key in job.unavailable:
            why = job.unavailable[metric.key]
            found_results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason=why.reason,
                                              reason_code=why.kind))
            continue
        (comparison, method), (_, inputs) = job.comparisons[metric.key], job.prepared[metric.key]
        undefined = [side for side in ("treatment", "baseline") if not np.isfinite(getattr(comparison, side))]
        if undefined:
            found_results.append(MetricResult(**common, status=Status.UNAVAILABLE, reason_code=Unavailability.UNDEFINED,
                                              reason=f"undefined for the {' and '.join(undefined)} cohort: {metric.undefined_meaning}"))
            continue
        if method is Inference.BOOTSTRAP and comparison.replicates < MIN_DEFINED_REPLICATES:
            found_results.append(MetricResult(
                **common, status=Status.UNAVAILABLE, reason_code=Unavailability.TOO_FEW_REPLICATES, reason=(
                f"defined in only {comparison.replicates} of {comparison.replicates + comparison.undefined} "
                f"bootstrap replicates ({metric.undefined_meaning}): too few for an interval")))
            continue
        details = {side: metric.details(inputs.take(rows), weights[rows]) for side, rows in sides.items()}
        found += [ReportWarning(code, message) for code, message in metric.warnings(details)]
        if comparison.undefined:
            details["undefined_replicates"] = comparison.undefined
            total = comparison.undefined + comparison.replicates
            found.append(ReportWarning(WarningCode.DEGENERATE_REPLICATES, (
                f"{metric.label}: undefined in {comparison.undefined:,} of {total:,} bootstrap replicates "
                f"({comparison.undefined / total:.1%}; {metric.undefined_meaning}); its interval uses the rest")))
        contributing = {side: inputs.contributing & mask & (weights > 0)
                        for side, mask in (("treatment", treated), ("baseline", ~treated))}
        found_results.append(MetricResult(
            **common, status=Status.OK, baseline=comparison.baseline, treatment=comparison.treatment,
            delta=comparison.delta, ci=comparison.ci, delta_relative=comparison.delta_relative,
            ci_relative=comparison.ci_relative, p_value=comparison.p_verdict, method=method,
            interval=Interval.NORMAL if method is Inference.ANALYTIC else settings.interval,
            standard_error=comparison.standard_error, standard_error_relative=comparison.standard_error_relative,
            n={side: int(rows.sum()) for side, rows in contributing.items()},
            effective_n={side: effective_size(weights[rows]) for side, rows in contributing.items()},
            details=details,
        ))
    return found_results, warnings


def _empty_cohort(treated: np.ndarray, weights: np.ndarray) -> str | None:
    """Why no comparison is possible at all, or None."""
    if not treated.any() or treated.all():
        return f"the {'treatment' if not treated.any() else 'baseline'} cohort has no accounts"
    if not (weights[treated] > 0).any():
        return "every treatment account was dropped by matching: no baseline account shares its stratum"
    return None
