"""The cells of the report's tables, shared by the text and markdown renderers."""

from __future__ import annotations

from cohortlab.codes import Status
from cohortlab.report import format as fmt
from cohortlab.report.model import MetricResult, Report

METRIC_HEADER = ("metric", "baseline", "treatment", "delta [CI]", "relative [CI]", "p", "p adj.", "verdict")
COHORT_HEADER = ("cohort", "where", "entered", "accounts", "customers", "effective n", "dropped")
BALANCE_HEADER = ("covariate", "SMD before", "SMD after", "variance ratio")


def metric_cells(report: Report, result: MetricResult) -> tuple[str, ...]:
    star = "★ " if report.experiment.primary == result.metric else ""
    if result.status is Status.UNAVAILABLE:
        return (star + result.label, "–", "–", "–", "–", "–", "–", fmt.VERDICT_SYMBOLS[result.verdict])
    return (
        star + result.label,
        fmt.value(result.baseline, result.unit),
        fmt.value(result.treatment, result.unit),
        f"{fmt.value(result.delta, result.unit, signed=True)} {fmt.interval(result.ci, result.unit)}",
        f"{fmt.relative(result.delta_relative)} {fmt.interval(result.ci_relative, None)}",
        fmt.p_value(result.p_value),
        fmt.p_value(result.p_adjusted),
        fmt.VERDICT_SYMBOLS[result.verdict],
    )


def cohort_cells(report: Report) -> list[tuple[str, ...]]:
    rows = []
    for name, cohort in report.cohorts.items():
        dropped = "" if cohort.dropped_unmatched is None else fmt.number(cohort.dropped_unmatched)
        rows.append((name, cohort.where, f"{cohort.entered[0]} → {cohort.entered[1]}", fmt.number(cohort.accounts),
                     fmt.number(cohort.customers), fmt.number(cohort.effective_size, 1), dropped))
    return rows


def balance_cells(report: Report) -> list[tuple[str, ...]]:
    def smd(value: float) -> str:
        return "–" if value != value else f"{value:+.3f}"

    return [(row.covariate, smd(row.smd_before), smd(row.smd_after), fmt.number(row.variance_ratio, 2))
            for row in report.matching.balance]


def matching_line(report: Report) -> str:
    matching = report.matching
    if matching.method == "none":
        return "none: the baseline is not matched (a naive comparison)"
    head = f"{matching.method} on {', '.join(matching.on)} · {matching.strata} strata · "
    if matching.balanced is None:
        return head + "balance unknown (a cohort is empty)"
    worst = max(abs(row.smd_after) for row in matching.balance if row.smd_after == row.smd_after)
    verdict = "balanced ✓" if matching.balanced else "NOT balanced ✗"
    return head + f"{verdict} (max |SMD| after {worst:.3f}, limit {matching.max_smd})"


def settings_line(report: Report) -> str:
    settings = report.settings
    return (f"{settings.confidence:.0%} intervals · {settings.ci} ({fmt.number(settings.replicates)} replicates, "
            f"seed {settings.seed}) · p adjusted: {settings.correction}")
