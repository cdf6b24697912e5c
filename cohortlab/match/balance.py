"""Covariate balance before and after matching (SPEC §6).

Conventions: categorical covariates are expanded to one binary indicator per level
(``segment=SMB``); the standardized mean difference divides by the SD of the
*unmatched* treatment group (binaries √(p(1−p))), falling back to the pooled SD when
that is 0, so "before" and "after" share one denominator; the variance ratio and
eCDF maximum compare the weighted treatment and baseline groups after matching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.match.weights import NULL_LEVEL, _as_labels


@dataclass(frozen=True)
class BalanceRow:
    covariate: str
    smd_before: float
    smd_after: float
    variance_ratio: float
    ecdf_max: float


def _weighted_moments(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    total = weights.sum()
    if total <= 0:
        return np.nan, np.nan
    mean = float(weights @ values / total)
    return mean, float(weights @ (values - mean) ** 2 / total)


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
    return float(np.max(np.abs(distances[0] - distances[1])))


def _row(name: str, values: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> BalanceRow:
    ones = np.ones_like(weights)
    mean_t, var_t = _weighted_moments(values[treated], ones[treated])
    mean_b, var_b = _weighted_moments(values[~treated], ones[~treated])
    scale = np.sqrt(var_t) if var_t > 0 else np.sqrt((var_t + var_b) / 2)
    after_t, after_var_t = _weighted_moments(values[treated], weights[treated])
    after_b, after_var_b = _weighted_moments(values[~treated], weights[~treated])

    def standardized(difference: float) -> float:
        if np.isnan(difference):
            return np.nan
        return float(difference / scale) if scale > 0 else 0.0

    if after_var_b > 0:
        ratio = after_var_t / after_var_b
    else:
        ratio = 1.0 if after_var_t == 0 else np.inf
    return BalanceRow(name, standardized(mean_t - mean_b), standardized(after_t - after_b), float(ratio),
                      _ecdf_max(values, treated, weights))


def balance_table(covariates: dict[str, np.ndarray], treated: np.ndarray, weights: np.ndarray) -> list[BalanceRow]:
    """Balance rows for every covariate (per level for categoricals), in covariate then level order."""
    rows = []
    for name, values in covariates.items():
        if values.dtype.kind in "biuf":
            rows.append(_row(name, values.astype(float), treated, weights))
            continue
        labels = np.array(_as_labels(values), dtype=object)
        levels = sorted(set(labels) - {NULL_LEVEL}) + ([NULL_LEVEL] if NULL_LEVEL in set(labels) else [])
        for level in levels:
            rows.append(_row(f"{name}={level}", (labels == level).astype(float), treated, weights))
    return rows
