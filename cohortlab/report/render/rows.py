"""The cells of the report's tables, shared by the text and markdown renderers."""

from __future__ import annotations

from dataclasses import dataclass

from cohortlab.codes import Status, Unavailability
from cohortlab.report import format as fmt
from cohortlab.report.model import MetricResult, Report

COHORT_HEADER = ("cohort", "where", "entered", "accounts", "customers", "effective n", "dropped")
BALANCE_HEADER = ("covariate", "SMD before", "SMD after", "variance ratio", "eCDF max")
BUILDUP_HEADER = ("", "baseline", "treatment")
FUNNEL_HEADER = ("stage", "reached", "conversion", "Δ conversion [CI]", "cost per account", "Δ cost [CI]")
# a treatment cohort losing more than this share of its accounts to matching is flagged loudly
DROPPED_ALERT = 0.10


@dataclass(frozen=True)
class MetricCells:
    """One result's cells, each a string; the renderers lay them out for the width they have."""

    label: str
    n: str              # "463 · 230 customers": baseline · treatment, and what is counted
    effective: str      # the effective numbers after matching's weights: "312 · 230"
    baseline: str
    treatment: str
    delta: str
    ci: str             # at the comparison's adjusted level: the verdict reads from it
    relative: str
    ci_relative: str
    p: str
    p_adjusted: str
    mde: str            # relative, with the declared mde when the experiment declares one
    level: str          # the intervals' confidence level
    verdict: str
    available: bool


METRIC_HEADER = ("metric", "n baseline · treatment", "effective n", "baseline", "treatment", "delta [CI]",
                 "relative [CI]", "CI level", "p", "p adj.", "MDE", "verdict")


def metric_cells(report: Report, result: MetricResult) -> MetricCells:
    star = "★ " if result is report.primary_result else ""
    fallback = " †" if report.settings.ci == "analytic" and result.method == "bootstrap" else ""
    label = star + result.label + fallback
    verdict = fmt.VERDICT_SYMBOLS[result.verdict]
    if result.status is Status.UNAVAILABLE:
        return MetricCells(star + result.label, "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–",
                           verdict, False)
    declared = report.experiment.mde.get(result.metric) if result.segment is None else None
    mde = fmt.relative(result.mde_relative, signed=False)
    if declared is not None and result.mde_relative == result.mde_relative:
        mde += f" {'>' if result.mde_relative > declared else '≤'} {fmt.share(declared)}"
    return MetricCells(
        label=label, n=counts(result), effective=effective_counts(result),
        baseline=fmt.value(result.baseline, result.unit), treatment=fmt.value(result.treatment, result.unit),
        delta=fmt.value(result.delta, result.unit, signed=True), ci=fmt.interval(result.ci_adjusted, result.unit),
        relative=fmt.relative(result.delta_relative), ci_relative=fmt.interval(result.ci_relative_adjusted, None),
        p=fmt.p_value(result.p_value), p_adjusted=fmt.p_value(result.p_adjusted), mde=mde,
        level=fmt.level(result.confidence_adjusted), verdict=verdict,
        available=True)


def metric_row(cells: MetricCells) -> tuple[str, ...]:
    """The cells of METRIC_HEADER, one line each."""
    return (cells.label, cells.n, cells.effective, cells.baseline, cells.treatment, f"{cells.delta} {cells.ci}",
            f"{cells.relative} {cells.ci_relative}", cells.level, cells.p, cells.p_adjusted, cells.mde, cells.verdict)


def counts(result: MetricResult) -> str:
    """What the result's n counts, baseline · treatment: "463 · 230 customers"."""
    return f"{fmt.number(result.n['baseline'])} · {fmt.number(result.n['treatment'])} {result.n_unit}"


def effective_counts(result: MetricResult) -> str:
    return " · ".join(fmt.number(result.effective_n.get(side), 0) for side in ("baseline", "treatment"))


def unavailable_notes(results: tuple[MetricResult, ...]) -> list[str]:
    """The unavailable results, each reason once with the metrics and segments it holds for."""
    grouped: dict[tuple[str, str, bool], list[str]] = {}
    for result in results:
        if result.status is Status.UNAVAILABLE:
            applies = result.reason_code is not Unavailability.NOT_APPLICABLE
            grouped.setdefault((result.label, result.reason or "", applies), []).append(result.segment or "")
    notes = []
    for (label, reason, applies), where in grouped.items():
        segments = [segment for segment in where if segment]
        place = f" in {_segments(segments)}" if segments else ""
        notes.append(f"{label}{place} – unavailable: {reason}" if applies else f"{label}{place}: {reason}")
    return notes


def _segments(segments: list[str]) -> str:
    """segment=SMB, segment=Mid-Market → segment=SMB, Mid-Market."""
    by_column: dict[str, list[str]] = {}
    for segment in segments:
        column, _, value = segment.partition("=")
        by_column.setdefault(column, []).append(value)
    return "; ".join(f"{column}={', '.join(values)}" for column, values in by_column.items())


def breakdown_title(report: Report) -> str:
    columns = list(dict.fromkeys(result.segment.partition("=")[0] for result in report.breakdown))
    return (f"Breakdown by {', '.join(columns)} — each segment matched within itself; intervals at the adjusted "
            "level across metrics × segments")


BREAKDOWN_HEADER = ("segment", "metric", "n baseline · treatment", "baseline · treatment", "delta [CI]",
                    "relative", "CI level", "p adj.", "verdict")


def breakdown_cells(report: Report) -> list[tuple[MetricResult, MetricCells]]:
    """Per segment and metric with a comparison: its cells (the unavailable ones are :func:`unavailable_notes`)."""
    return [(result, metric_cells(report, result)) for result in report.breakdown if result.status is Status.OK]


def breakdown_row(result: MetricResult, cells: MetricCells) -> tuple[str, ...]:
    return (result.segment.partition("=")[2], cells.label, cells.n, f"{cells.baseline} · {cells.treatment}",
            f"{cells.delta} {cells.ci}", cells.relative, cells.level, cells.p_adjusted, cells.verdict)


def cohort_cells(report: Report) -> list[tuple[str, ...]]:
    rows = []
    for name, cohort in report.cohorts.items():
        dropped = "" if cohort.dropped_unmatched is None else fmt.number(cohort.dropped_unmatched)
        rows.append((name, cohort.where, f"{cohort.entered[0]} → {cohort.entered[1]}", fmt.number(cohort.accounts),
                     fmt.number(cohort.customers), fmt.number(cohort.effective_size, 1), dropped))
    return rows


def unbalanced(report: Report) -> list[bool]:
    """Per balance row: whether its SMD after matching is above max_smd."""
    return [abs(row.smd_after) > report.matching.max_smd for row in report.matching.balance]


def balance_cells(report: Report) -> list[tuple[str, ...]]:
    """Per covariate; an SMD after matching above max_smd is marked ✗."""
    def smd(value: float) -> str:
        if value != value:
            return "–"
        return "0.000" if round(value, 3) == 0 else fmt.MINUS * (value < 0) + f"{'+' * (value > 0)}{abs(value):.3f}"

    return [(row.covariate, smd(row.smd_before), smd(row.smd_after) + (" ✗" if over else ""),
             "–" if row.variance_ratio != row.variance_ratio else fmt.number(row.variance_ratio, 2),
             "–" if row.ecdf_max != row.ecdf_max else f"{row.ecdf_max:.3f}")
            for row, over in zip(report.matching.balance, unbalanced(report))]


def matching_line(report: Report) -> str:
    matching = report.matching
    if matching.method == "none":
        return "none: the baseline is not matched (a naive comparison)"
    method = {"exact": "exact", "cem": "coarsened exact"}.get(matching.method)
    if matching.method == "propensity":
        method = f"propensity score ({'odds weighting' if matching.settings['weighting'] == 'odds' else 'nearest'})"
    head = f"{method} on {', '.join(matching.covariates)} · "
    if matching.settings.get("weighting") != "odds":
        unit = "matched sets" if matching.method == "propensity" else "strata"
        head += f"{fmt.number(matching.subclasses)} {unit} · "
    if matching.balanced is None:
        return head + "balance unknown (a cohort is empty)"
    worst = max(abs(row.smd_after) for row in matching.balance if row.smd_after == row.smd_after)
    verdict = "balanced ✓" if matching.balanced else "NOT balanced ✗"
    return head + f"{verdict} (max |SMD| after {worst:.3f}, limit {matching.max_smd})"


def matching_details(report: Report) -> list[str]:
    """The method's settings and the estimand, one line each."""
    matching, settings = report.matching, report.matching.settings
    lines = []
    if matching.method == "cem":
        lines += [f"{name} cut at {', '.join(f'{point:g}' for point in points) or '(no cutpoints: one bin)'}"
                  for name, points in settings["cutpoints"].items()]
    if matching.method == "propensity":
        lines.append(f"score: logistic on {', '.join(settings['terms']) or 'an intercept only'}"
                     + ("" if settings["converged"] else " (did not converge)"))
        if settings["weighting"] == "nearest":
            caliper = ("no caliper" if settings["caliper_sd"] is None else
                       f"caliper {settings['caliper_sd']:g} SD = {settings['caliper_logit']:.3f} on the logit")
            lines.append(f"1:{settings['ratio']} {'with' if settings['replace'] else 'without'} replacement · "
                         f"{caliper} · {fmt.number(settings['matched_baseline'])} baseline accounts matched")
        elif settings.get("trim") is not None:
            lines.append(f"accounts with a score above {1 - settings['trim']:g} dropped (trim {settings['trim']:g})")
    lines.append(f"estimand: {matching.estimand}")
    return lines


def matching_alerts(report: Report) -> list[str]:
    """What must not be missed: an unbalanced comparison, or many treatment accounts dropped."""
    matching, alerts = report.matching, []
    treated = report.cohorts["treatment"].accounts
    if matching.balanced is False:
        over = [row.covariate for row in matching.balance if abs(row.smd_after) > matching.max_smd]
        alerts.append(f"NOT BALANCED: {len(over)} covariate{'s' * (len(over) != 1)} above max_smd "
                      f"{matching.max_smd} after matching ({', '.join(over[:5])}{', …' * (len(over) > 5)}); "
                      "differences may come from who is in each cohort, not from the change")
    if treated and matching.dropped / treated > DROPPED_ALERT:
        alerts.append(f"{matching.dropped / treated:.0%} OF TREATMENT ACCOUNTS DROPPED ({fmt.number(matching.dropped)}"
                      f" of {fmt.number(treated)}) for lack of a comparable baseline account; results describe "
                      "only the rest")
    return alerts


INTERVALS = {"percentile": "bootstrap percentile", "bca": "bootstrap BCa"}


def settings_line(report: Report) -> str:
    settings = report.settings
    bootstrap = f"{INTERVALS[settings.interval]}, {fmt.number(settings.replicates)} replicates, seed {settings.seed}"
    if settings.ci == "analytic":
        method = "analytic" + (f" († {bootstrap})" if _fallbacks(report) else "")
    else:
        method = bootstrap
    return f"{intervals_phrase(report)} · {method}"


def intervals_phrase(report: Report) -> str:
    """What the intervals' level is: 95%, or each comparison's adjusted level."""
    settings = report.settings
    family = sum(result.status is Status.OK for result in report.results)
    if settings.correction == "none" or family < 2:
        return f"{fmt.level(settings.confidence)} intervals"
    name = {"holm": "Holm", "bh": "Benjamini–Hochberg"}[settings.correction]
    rate = "family-wise" if settings.correction == "holm" else "false discovery rate"
    return (f"intervals at the level each verdict is read at, {name}-adjusted (CI level; "
            f"{fmt.level(settings.confidence)} {rate} over {family} comparisons)")


def _fallbacks(report: Report) -> bool:
    """Whether an analytic report has metrics whose interval came from the bootstrap."""
    return report.settings.ci == "analytic" and any(result.method == "bootstrap" and result.status is Status.OK
                                                    for result in report.results)


def metrics_legend(report: Report) -> str:
    legend = ("★ primary metric · ▲ better ▼ worse: the interval excludes 0 (adjusted p below "
              f"{1 - report.settings.confidence:g}) · ○ inconclusive · – unavailable · n: what the metric counts, "
              "baseline · treatment · MDE: relative effect detectable with 80% power (> or ≤ the declared mde)")
    if report.settings.correction != "none":
        legend += ("\nCI level: a better or worse verdict's intervals are at the level its adjusted test rejects at; "
                   "an inconclusive one's at the family's strictest, 1 − α/m · unadjusted "
                   f"{fmt.level(report.settings.confidence)} intervals: ci and ci_relative in --format json")
    if _fallbacks(report):
        legend += "\n† no analytic form: the bootstrap's interval"
    return legend


def buildup_title(result: MetricResult) -> str:
    return f"LTV build-up — {result.label}, per customer"


def buildup_cells(result: MetricResult) -> list[tuple[str, ...]]:
    """Per quantity, baseline and treatment: where the modeled LTV comes from (observed vs extrapolated,
    retention vs expansion)."""
    parts = {side: result.details[side] for side in ("baseline", "treatment")}

    def line(name: str, cell) -> tuple[str, ...]:
        return (name, *(cell(part) for part in parts.values()))

    def sbg(part) -> str:
        fit = part["sbg"]
        return f"{fit['alpha']:.3g}, {fit['beta']:.3g}" + ("" if fit["converged"] else " (not converged)")

    return [
        line("observed", lambda part: f"{part['observed_months']} of {part['horizon_months']} months"),
        line("earned", lambda part: fmt.value(part["earned"], "currency")),
        line("extrapolated", lambda part: f"{fmt.value(part['extrapolated'], 'currency')} "
                                          f"({fmt.number(100 * part['extrapolated_share'])}%)"),
        line("retention-driven", lambda part: fmt.value(part["retention_driven"], "currency")),
        line("expansion-driven", lambda part: f"{fmt.value(part['expansion_driven'], 'currency')} "
                                              f"({fmt.number(100 * part['expansion_share'])}%)"),
        line("margin LTV", lambda part: fmt.value(part["margin_ltv"], "currency")),
        line("revenue LTV", lambda part: fmt.value(part["revenue_ltv"], "currency")),
        line("sBG α, β", sbg),
    ]


BUILDUP_NOTE = ("earned: margin in the observed months · extrapolated: the months beyond, by the renewal model\n"
                "retention-driven: each customer's first-month margin for as long as it stays · expansion-driven: "
                "the rest")


def funnel_title(report: Report) -> str:
    days = next((stage.conversion.params["days"] for stage in report.funnel if stage.conversion is not None), None)
    return (f"Funnel — baseline · treatment; accounts reaching each stage; conversion within {days} days of the "
            f"stage before; cost per account reaching the stage; {fmt.level(report.settings.confidence)} intervals "
            "(descriptive: no adjustment, no verdict)")


def funnel_cells(report: Report, between: str = " ") -> list[tuple[str, ...]]:
    """Per stage: accounts reaching it, conversion from the stage before and cost per account reaching it; each
    delta and its interval, and each baseline · treatment pair, joined by ``between`` (a space, or a line
    break for two-line rows)."""
    def pair(result: MetricResult | None) -> tuple[str, str]:
        if result is None:
            return "", ""
        if result.status is Status.UNAVAILABLE:
            return "–", "–"
        return (f"{fmt.value(result.baseline, result.unit)} ·{between}{fmt.value(result.treatment, result.unit)}",
                f"{fmt.value(result.delta, result.unit, signed=True)}{between}{fmt.interval(result.ci, result.unit)}")

    rows = []
    for stage in report.funnel:
        reached = f"{fmt.number(stage.reached['baseline'])} · {fmt.number(stage.reached['treatment'])}"
        rows.append((stage.stage.replace("_", " "), reached, *pair(stage.conversion), *pair(stage.cost_per)))
    return rows
