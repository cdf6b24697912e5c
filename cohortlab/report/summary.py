"""The report's bottom line: what changed on the primary metric, by how much, how sure, and whether the
comparison could have detected the effect the experiment declares it must (its ``mde``)."""

from __future__ import annotations

import math

from cohortlab.codes import Status, Verdict
from cohortlab.report import format as fmt
from cohortlab.report.model import MetricResult, Report


def bottom_line(report: Report) -> str:
    """One to three sentences for the top of the report."""
    primary = report.primary_result
    if primary is None:
        return _without_primary(report)
    if primary.status is Status.UNAVAILABLE:
        return f"{primary.label}, the primary metric, is unavailable: {primary.reason}."
    sentences = [_change(primary, "the primary metric"), _power(report, primary)]
    others = [result for result in report.overall if result is not primary and _underpowered(report, result)]
    if others:
        sentences.append("Also short of power for its declared mde: " + "; ".join(
            f"{result.label} (detects {fmt.relative(result.mde_relative, signed=False)}, declared "
            f"{fmt.share(report.experiment.mde[result.metric])})" for result in others) + ".")
    return " ".join(sentence for sentence in sentences if sentence)


def _change(result: MetricResult, role: str) -> str:
    """The change and how sure: the verdict read from the interval at the adjusted level."""
    direction = "higher" if result.delta > 0 else "lower" if result.delta < 0 else "unchanged"
    moved = (f"{fmt.relative(abs(result.delta_relative), signed=False)} {direction}"
             if math.isfinite(result.delta_relative) and result.delta else direction)
    head = (f"{result.label}, {role}, is {moved} in the treatment cohort ({fmt.value(result.treatment, result.unit)}"
            f" vs {fmt.value(result.baseline, result.unit)}; {fmt.value(result.delta, result.unit, signed=True)})")
    interval = fmt.interval(result.ci_relative_adjusted, None)
    level = fmt.level(result.confidence_adjusted)
    if result.verdict in (Verdict.BETTER, Verdict.WORSE):
        return f"{head}: {fmt.VERDICT_SYMBOLS[result.verdict]}, its {level} interval {interval} excludes 0."
    return f"{head}: {fmt.VERDICT_SYMBOLS[result.verdict]}, its {level} interval {interval} includes 0."


def _power(report: Report, result: MetricResult) -> str:
    declared = report.experiment.mde.get(result.metric)
    detectable = fmt.relative(result.mde_relative, signed=False)
    if not math.isfinite(result.mde_relative):
        return ""
    if declared is None:
        return f"These cohorts detect a change of {detectable} or more with 80% power."
    wanted = fmt.share(declared)
    if _underpowered(report, result):
        return (f"Underpowered: these cohorts detect a change of {detectable} or more with 80% power, not the "
                f"{wanted} the experiment declares (mde), so a {wanted} effect could be there unseen.")
    return f"The cohorts could detect the declared {wanted} (they detect {detectable} with 80% power)."


def _underpowered(report: Report, result: MetricResult) -> bool:
    declared = report.experiment.mde.get(result.metric)
    return (result.status is Status.OK and declared is not None and math.isfinite(result.mde_relative)
            and result.mde_relative > declared)


def _without_primary(report: Report) -> str:
    available = [result for result in report.overall if result.status is Status.OK]
    changed = [result for result in available if result.verdict in (Verdict.BETTER, Verdict.WORSE)]
    head = "No primary metric declared"
    if not available:
        return f"{head}, and no metric could be computed."
    if not changed:
        return f"{head}; none of the {len(available)} metrics computed changed beyond chance."
    listed = "; ".join(f"{result.label} {fmt.VERDICT_SYMBOLS[result.verdict]} "
                       f"({fmt.value(result.delta, result.unit, signed=True)})" for result in changed)
    return f"{head}; {len(changed)} of {len(available)} metrics changed beyond chance: {listed}."
