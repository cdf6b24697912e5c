"""Covariate balance before and after matching (docs/matching.md).

Conventions (those of R's cobalt):

- A text or boolean covariate becomes one binary row per level (``segment=SMB``); a
  number whose values are all 0 or 1 is binary too. A number with nulls gets a row over
  its non-null values plus a ``name=<null>`` row.
- The standardized mean difference divides the difference of (weighted) means by one
  denominator for before and after: the *unmatched* treatment cohort's standard
  deviation — the sample SD (n − 1) for numbers, √(p(1−p)) for binaries — or, when that
  is 0, the same quantity pooled over both cohorts, √((s²_T + s²_B) / 2); when that is 0
  too (both cohorts constant), the SMD is 0 for equal constants and ±inf otherwise.
- The variance ratio (numbers only) is treated over baseline, after matching, each a
  weighted variance with the unbiased correction Σw / ((Σw)² − Σw²).
- The eCDF maximum is the largest distance between the weighted cumulative
  distributions of the two cohorts after matching (for a binary: the difference of
  proportions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.match.core import NULL_LEVEL, factorize, is_numeric


@dataclass(frozen=True)
class BalanceRow:
    covariate: str
    smd_before: float
    smd_after: float
    variance_ratio: float       # NaN for binaries
    ecdf_max: float
    kind: str = "numeric"       # or "binary"


def balance_table(covariates: dict[str, np.ndarray], treated: np.ndarray, weights: np.ndarray) -> list[BalanceRow]:
    """Balance rows for every covariate (per level for text and booleans), in covariate then level order."""
    rows = []
    for name, values in covariates.items():
        if is_numeric(values):
            values = values.astype(float)
            missing = np.isnan(values)
            if not missing.all():
                present = ~missing
                rows.append(_row(name, values[present], treated[present], weights[present]))
            if missing.any():
                rows.append(_row(f"{name}={NULL_LEVEL}", missing.astype(float), treated, weights))
            continue
        codes, levels = factorize(values)
        for code, level in enumerate(levels):
            rows.append(_row(f"{name}={level}", (codes == code).astype(float), treated, weights))
    return rows


def _row(name: str, values: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> BalanceRow:
    binary = bool(np.isin(values, (0.0, 1.0)).all())
    ones = np.ones_like(weights)
    mean_t, mean_b = _mean(values[treated], ones[treated]), _mean(values[~treated], ones[~treated])
    spread_t = _spread(values[treated], binary)
    scale = spread_t if spread_t > 0 else np.sqrt((spread_t**2 + _spread(values[~treated], binary) ** 2) / 2)
    after_t, after_b = _mean(values[treated], weights[treated]), _mean(values[~treated], weights[~treated])

    def standardized(difference: float) -> float:
        if np.isnan(difference):
            return np.nan
        if scale > 0:
            return float(difference / scale)
        # both cohorts constant: equal constants are balanced, different ones infinitely far apart
        return 0.0 if difference == 0 else float(np.copysign(np.inf, difference))

    ratio = np.nan
    if not binary:
        variance_t, variance_b = _variance(values[treated], weights[treated]), _variance(values[~treated],
                                                                                           weights[~treated])
        if variance_b > 0:
            ratio = variance_t / variance_b
        elif variance_b == 0 and not np.isnan(variance_t):
            ratio = 1.0 if variance_t == 0 else np.inf
    return BalanceRow(name, standardized(mean_t - mean_b), standardized(after_t - after_b), float(ratio),
                      _ecdf_max(values, treated, weights), "binary" if binary else "numeric")


def _mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float(weights @ values / total) if total > 0 else np.nan


def _spread(values: np.ndarray, binary: bool) -> float:
    """The unweighted SD: √(p(1−p)) for a binary, the sample SD otherwise (0 when it cannot be computed)."""
    if values.size == 0:
        return 0.0
    if binary:
        share = values.mean()
        return float(np.sqrt(share * (1 - share)))
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def _variance(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted variance with the unbiased (reliability weights) correction; NaN without two weighted values."""
    total, squares = weights.sum(), (weights**2).sum()
    if total <= 0 or total**2 - squares <= 0:
        return np.nan
    mean = weights @ values / total
    return float(weights @ (values - mean) ** 2 * total / (total**2 - squares))


def _ecdf_max(values: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> float:
    grid = np.unique(values)
    distances = []
    for mask in (treated, ~treated):
        order = np.argsort(values[mask], kind="stable")
        cumulative = np.cumsum(weights[mask][order])
        if cumulative.size == 0 or cumulative[-1] <= 0:
            return np.nan
        positions = np.searchsorted(values[mask][order], grid, side="right")
        distances.append(np.where(positions > 0, cumulative[np.maximum(positions - 1, 0)], 0.0) / cumulative[-1])
    gap = float(np.max(np.abs(distances[0] - distances[1])))
    return gap if gap > 1e-12 else 0.0  # equal distributions up to rounding
