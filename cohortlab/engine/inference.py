"""Inferences: the estimates' p-values adjusted across the whole family (metrics × segments), each verdict,
the intervals at the level the verdict is read at, the minimum detectable effects, and a warning where the
bootstrap replicates do not resolve a verdict."""

from __future__ import annotations

import math
from dataclasses import replace

from cohortlab.codes import Correction, Status, Verdict, WarningCode
from cohortlab.engine.records import MetricResult, ReportWarning, Settings
from cohortlab.stats.inference import (RESOLVING_REPLICATES, Comparison, adjust_p_values, adjusted_level, unresolved,
                                      verdict)
from cohortlab.stats.power import minimum_detectable_effect


def infer(results: list[MetricResult], comparisons: list[Comparison | None], settings: Settings
          ) -> tuple[list[MetricResult], list[ReportWarning]]:
    """The results with adjusted p-values, verdicts, adjusted intervals and minimum detectable effects (the
    comparison behind each result at the same position; None where it is unavailable), and the warning of
    verdicts the replicates do not resolve."""
    results = list(results)
    ok = [index for index, result in enumerate(results) if result.status is Status.OK]
    adjusted = adjust_p_values([results[index].p_value for index in ok], settings.correction)
    # the family: the comparisons with a p-value (an analytic one without spread has none)
    tests = 1 if settings.correction is Correction.NONE else sum(math.isfinite(results[index].p_value) for index in ok)
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
    return results, _unresolved(results, comparisons, settings)


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
    return [ReportWarning(WarningCode.REPLICATES_TOO_FEW, (
        f"{settings.replicates:,} bootstrap replicates do not resolve the verdict of {', '.join(found)}: fewer "
        f"than {RESOLVING_REPLICATES} replicates lie beyond 0 and beyond the end of the interval, so the verdict "
        f"rests on the normal tail the replicates are extended with; --replicates {needed} or more resolves it"))]
