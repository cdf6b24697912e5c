"""Matching: the panel's baseline matched to its treatment cohort, each breakdown segment matched within
itself, and the matching's summary with its balance table and warnings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.codes import WarningCode
from cohortlab.data.panel import Panel
from cohortlab.engine.records import MatchingSummary, ReportWarning
from cohortlab.errors import DataError
from cohortlab.match import Matching, MatchingError, match
from cohortlab.match.balance import balance_table
from cohortlab.match.core import factorize
from cohortlab.spec.models import Experiment


def match_panel(experiment: Experiment, panel: Panel) -> Matching:
    """Match the panel's baseline to its treatment cohort; a propensity model that cannot be fitted is a
    DataError naming the experiment's covariates."""
    try:
        return match(experiment.match, panel.treated, panel.covariates)
    except MatchingError as error:
        raise DataError(f"{experiment.file}: match: {error}", hint=error.hint) from None


def row_order(experiment: Experiment) -> list[str]:
    """The columns to order each cohort's panel rows by: for exact and coarsened exact matching, the matched
    columns (a stratum is a combination of their values, or of bins of ordered values, so its rows come out
    contiguous), a breakdown column among them first (its segments too)."""
    exact, binned = experiment.match.strata()
    return list(dict.fromkeys([*(name for name in experiment.breakdown if name in exact), *exact, *binned]))


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


def matching_summary(panel: Panel, matching: Matching, weights: np.ndarray, max_smd: float) -> MatchingSummary:
    """What matching did: the method, its estimand, the treatment accounts it dropped and the balance table."""
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


def matching_warnings(summary: MatchingSummary, panel: Panel) -> list[ReportWarning]:
    warnings = []
    treated = int(panel.treated.sum())
    if summary.dropped:
        warnings.append(ReportWarning(WarningCode.UNMATCHED_TREATED,
                                      f"{summary.dropped:,} of {treated:,} treatment accounts "
                                      f"({summary.dropped / treated:.1%}) have no baseline account to match and "
                                      "were dropped; results are for the supported treatment accounts (ATT)"))
    if summary.settings.get("converged") is False:
        warnings.append(ReportWarning(WarningCode.SCORE_NOT_CONVERGED,
                                      "the propensity model did not converge: some covariate (often a level seen "
                                      "in one cohort only) separates the cohorts, so its accounts get scores near "
                                      "0 or 1; match on it exactly with `exact:` or leave it out"))
    if summary.balanced is False:
        worst = max(summary.balance, key=lambda row: 0.0 if np.isnan(row.smd_after) else abs(row.smd_after))
        warnings.append(ReportWarning(WarningCode.UNBALANCED,
                                      f"covariates are not balanced after matching: {worst.covariate} has SMD "
                                      f"{worst.smd_after:+.3f} (max_smd is {summary.max_smd})"))
    return warnings
