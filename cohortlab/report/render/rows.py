"""The cells of the report's tables, shared by the text and markdown renderers."""

from __future__ import annotations

from cohortlab.codes import Status
from cohortlab.report import format as fmt
from cohortlab.report.model import MetricResult, Report

METRIC_HEADER = ("metric", "baseline", "treatment", "delta [CI]", "relative [CI]", "MDE", "p", "p adj.", "verdict")
COHORT_HEADER = ("cohort", "where", "entered", "accounts", "customers", "effective n", "dropped")
BALANCE_HEADER = ("covariate", "SMD before", "SMD after", "variance ratio", "eCDF max", "")
BUILDUP_HEADER = ("cohort", "observed", "earned", "extrapolated", "retention-driven", "expansion-driven",
                  "margin LTV", "revenue LTV", "sBG α, β")
BREAKDOWN_HEADER = ("segment", "metric", "n", "baseline · treatment", "delta [CI]", "relative", "p adj.",
                    "verdict")
FUNNEL_HEADER = ("stage", "reached", "conversion", "Δ conversion [CI]", "cost per account", "Δ cost [CI]")
# a treatment cohort losing more than this share of its accounts to matching is flagged loudly
DROPPED_ALERT = 0.10


def metric_cells(report: Report, result: MetricResult) -> tuple[str, ...]:
    star = "★ " if result is report.primary_result else ""
    if result.status is Status.UNAVAILABLE:
        return (star + result.label, "–", "–", "–", "–", "–", "–", "–", fmt.VERDICT_SYMBOLS[result.verdict])
    fallback = " †" if report.settings.ci == "analytic" and result.method == "bootstrap" else ""
    return (
        star + result.label + fallback,
        fmt.value(result.baseline, result.unit),
        fmt.value(result.treatment, result.unit),
        f"{fmt.value(result.delta, result.unit, signed=True)} {fmt.interval(result.ci, result.unit)}",
        f"{fmt.relative(result.delta_relative)} {fmt.interval(result.ci_relative, None)}",
        fmt.relative(result.mde_relative, signed=False),
        fmt.p_value(result.p_value),
        fmt.p_value(result.p_adjusted),
        fmt.VERDICT_SYMBOLS[result.verdict],
    )


def breakdown_title(report: Report) -> str:
    columns = list(dict.fromkeys(result.segment.partition("=")[0] for result in report.breakdown))
    return (f"Breakdown by {', '.join(columns)} — each segment matched within itself; n: baseline · treatment; "
            "p adjusted across metrics × segments")


def breakdown_cells(report: Report) -> list[tuple[str, ...]]:
    """Per segment and metric: the comparison within the segment (unavailable ones with a dash)."""
    rows = []
    for result in report.breakdown:
        head = (result.segment.partition("=")[2], result.label)
        if result.status is Status.UNAVAILABLE:
            rows.append((*head, "–", "–", "–", "–", "–", fmt.VERDICT_SYMBOLS[result.verdict]))
            continue
        rows.append((*head, f"{fmt.number(result.n['baseline'])} · {fmt.number(result.n['treatment'])}",
                     f"{fmt.value(result.baseline, result.unit)} · {fmt.value(result.treatment, result.unit)}",
                     f"{fmt.value(result.delta, result.unit, signed=True)} {fmt.interval(result.ci, result.unit)}",
                     fmt.relative(result.delta_relative), fmt.p_value(result.p_adjusted),
                     fmt.VERDICT_SYMBOLS[result.verdict]))
    return rows


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

    limit = report.matching.max_smd
    return [(row.covariate, smd(row.smd_before), smd(row.smd_after),
             "–" if row.variance_ratio != row.variance_ratio else fmt.number(row.variance_ratio, 2),
             "–" if row.ecdf_max != row.ecdf_max else f"{row.ecdf_max:.3f}",
             "✗" if abs(row.smd_after) > limit else "")
            for row in report.matching.balance]


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
    return f"{settings.confidence:.0%} intervals · {method} · p adjusted: {settings.correction}"


def _fallbacks(report: Report) -> bool:
    """Whether an analytic report has metrics whose interval came from the bootstrap."""
    return report.settings.ci == "analytic" and any(result.method == "bootstrap" and result.status is Status.OK
                                                    for result in report.results)


def metrics_legend(report: Report) -> str:
    legend = ("★ primary metric · ▲ better  ▼ worse  ○ inconclusive  – unavailable (verdicts use adjusted p) · "
              "MDE: relative effect detectable with 80% power")
    if _fallbacks(report):
        legend += "\n† no analytic form: the bootstrap's interval"
    return legend


def buildup_title(result: MetricResult) -> str:
    return f"LTV build-up — {result.label}, per customer"


def buildup_cells(result: MetricResult) -> list[tuple[str, ...]]:
    """Per cohort: where the modeled LTV comes from (observed vs extrapolated, retention vs expansion)."""
    rows = []
    for side in ("treatment", "baseline"):
        parts = result.details[side]
        share = parts["extrapolated_share"]
        expansion = parts["expansion_share"]
        sbg = parts["sbg"]
        rows.append((
            side, f"{parts['observed_months']} of {parts['horizon_months']} months",
            fmt.value(parts["earned"], "currency"),
            f"{fmt.value(parts['extrapolated'], 'currency')} ({fmt.number(100 * share)}%)",
            fmt.value(parts["retention_driven"], "currency"),
            f"{fmt.value(parts['expansion_driven'], 'currency')} ({fmt.number(100 * expansion)}%)",
            fmt.value(parts["margin_ltv"], "currency"), fmt.value(parts["revenue_ltv"], "currency"),
            f"{sbg['alpha']:.3g}, {sbg['beta']:.3g}" + ("" if sbg["converged"] else " (not converged)"),
        ))
    return rows


BUILDUP_NOTE = ("earned: margin in the observed months · extrapolated: the months beyond, by the renewal model\n"
                "retention-driven: each customer's first-month margin for as long as it stays · expansion-driven: "
                "the rest")


def funnel_title(report: Report) -> str:
    days = next((stage.conversion.params["days"] for stage in report.funnel if stage.conversion is not None), None)
    return (f"Funnel — baseline · treatment; conversion within {days} days of the stage before; cost per account "
            "reaching the stage")


def funnel_cells(report: Report) -> list[tuple[str, ...]]:
    """Per stage: accounts reaching it, conversion from the stage before and cost per account reaching it."""
    def pair(result: MetricResult | None) -> tuple[str, str]:
        if result is None:
            return "", ""
        if result.status is Status.UNAVAILABLE:
            return "–", "–"
        return (f"{fmt.value(result.baseline, result.unit)} · {fmt.value(result.treatment, result.unit)}",
                f"{fmt.value(result.delta, result.unit, signed=True)} {fmt.interval(result.ci, result.unit)}")

    rows = []
    for stage in report.funnel:
        reached = f"{fmt.number(stage.reached['baseline'])} · {fmt.number(stage.reached['treatment'])}"
        rows.append((stage.stage.replace("_", " "), reached, *pair(stage.conversion), *pair(stage.cost_per)))
    return rows
