"""Analytic inference (``ci: analytic``): linearization variances and normal-theory comparisons.

A metric with an analytic form gives each account an influence value φᵢ: the first-order
change in the estimate per unit change in the account's resampling count, with its
matching weight as a fixed multiplier. The variance is that of Σ φᵢ under the
bootstrap's own sampling design, resampling within each cohort × matching stratum:

    Var = Σ_g n_g/(n_g − 1) · Σ_{i∈g} (φᵢ − φ̄_g)²,

the stratified linearization ("Taylor series") variance. For a ratio R = Σ w·y / Σ w·x the
influence is φᵢ = wᵢ·(yᵢ − R·xᵢ) / Σ w·x, so one unweighted cohort gets
n/(n − 1) · Σ (y − R·x)² / (Σ x)², which for a plain mean is s²/n, the variance in
Welch's two-sample t-test. For Kaplan–Meier survival the influence values' sum of squares
is exactly Greenwood's variance (:func:`km_influence`).

Cohorts are independent, so the delta's variance is the sum of theirs. The relative delta
r = (T − B)/|B| divides by the baseline, whose uncertainty enters through
Var(r) = Var(T)/B² + T²·Var(B)/B⁴.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.stats.inference import Comparison, relative


@dataclass(frozen=True)
class Estimate:
    """One cohort's estimate and its variance."""

    value: float
    variance: float


def ratio_influence(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """R = Σ w·y / Σ w·x and each account's influence wᵢ·(yᵢ − R·xᵢ) / Σ w·x (NaN R when Σ w·x = 0)."""
    denominator = float(weights @ x)
    if denominator == 0:
        return float("nan"), np.full(len(weights), np.nan)
    value = float(weights @ y) / denominator
    return value, weights * (y - value * x) / denominator


def km_influence(events: np.ndarray, at_risk: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaplan–Meier survival past the last time and each account's influence on it.

    ``events`` and ``at_risk`` are accounts × times indicators. With weighted counts
    d_t = Σ w·e_t, n_t = Σ w·r_t and h_t = d_t/n_t, S = Π (1 − h_t) and

        φᵢ = −S · wᵢ · Σ_t (e_it − h_t·r_it) / (n_t − d_t).

    The increments are orthogonal across times and Σᵢ (e_it − h_t·r_it)² = d_t(n_t − d_t)/n_t
    for unit weights, so Σ φᵢ² = S² Σ_t d_t / (n_t(n_t − d_t)): Greenwood's formula.
    Times with nobody at risk contribute nothing; the influence is NaN once S reaches 0.
    """
    d, n = weights @ events, weights @ at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(n > 0, d / np.where(n > 0, n, 1.0), 0.0)
        survivors = n - d
        if np.any((n > 0) & (survivors <= 0)):
            return 0.0, np.full(len(weights), np.nan)
        scale = np.where(n > 0, 1.0 / np.where(survivors > 0, survivors, 1.0), 0.0)
    survival = float(np.prod(1.0 - hazard))
    residual = (events - hazard * at_risk) @ scale
    return survival, -survival * weights * residual


def stratified_variance(influence: np.ndarray, groups: np.ndarray | None = None) -> float:
    """Σ_g n_g/(n_g − 1) · Σ_{i∈g} (φᵢ − φ̄_g)²; NaN when any influence is NaN or no group has 2 accounts.

    ``groups`` labels each account's resampling group (one group when None); a group of
    one account is never resampled differently and adds nothing.
    """
    influence = np.asarray(influence, dtype=float)
    if influence.size == 0 or np.isnan(influence).any():
        return float("nan")
    if groups is None:
        groups = np.zeros(len(influence), dtype=np.int64)
    _, codes, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    codes = codes.reshape(-1)
    if sizes.max() < 2:
        return float("nan")
    means = np.bincount(codes, weights=influence) / sizes
    squares = np.bincount(codes, weights=(influence - means[codes]) ** 2)
    factor = np.where(sizes > 1, sizes / np.maximum(sizes - 1, 1), 0.0)
    return float(factor @ squares)


def linearized_estimate(value: float, influence: np.ndarray, weights: np.ndarray, groups: np.ndarray | None = None
                        ) -> Estimate:
    """An estimate with its stratified linearization variance; NaN variance when fewer than two accounts
    carry weight."""
    if np.count_nonzero(weights) < 2:
        return Estimate(value, float("nan"))
    return Estimate(value, stratified_variance(influence, groups))


def ratio_estimate(y: np.ndarray, x: np.ndarray, weights: np.ndarray, groups: np.ndarray | None = None
                   ) -> Estimate:
    """Σ w·y / Σ w·x and its linearization variance."""
    weights = np.asarray(weights, dtype=float)
    value, influence = ratio_influence(np.asarray(y, dtype=float), np.asarray(x, dtype=float), weights)
    return linearized_estimate(value, influence, weights, groups)


def normal_comparison(treatment: Estimate, baseline: Estimate, confidence: float) -> Comparison:
    """Normal-theory intervals for the delta and relative delta, and the two-sided p-value of "delta = 0"."""
    from scipy.stats import norm

    delta = treatment.value - baseline.value
    spread = float(np.sqrt(treatment.variance + baseline.variance))
    delta_relative = float(relative(delta, baseline.value))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_spread = float(np.sqrt(treatment.variance / baseline.value**2
                                        + treatment.value**2 * baseline.variance / baseline.value**4))
    p_value, p_value_relative = (_normal_p_value(estimate, error)
                                 for estimate, error in ((delta, spread), (delta_relative, relative_spread)))

    def intervals_at(level: float) -> tuple[tuple[float, float], tuple[float, float]]:
        z = norm.ppf(1 - (1 - level) / 2)
        return ((delta - z * spread, delta + z * spread),
                (delta_relative - z * relative_spread, delta_relative + z * relative_spread))

    ci, ci_relative = intervals_at(confidence)
    return Comparison(
        baseline=baseline.value, treatment=treatment.value, delta=delta, ci=ci, delta_relative=delta_relative,
        ci_relative=ci_relative, p_value=p_value, p_value_relative=p_value_relative, replicates=0, undefined=0,
        standard_error=spread, standard_error_relative=relative_spread, intervals_at=intervals_at,
    )


def _normal_p_value(estimate: float, standard_error: float) -> float:
    """2Φ(−|estimate|/SE); 0 for a nonzero estimate without spread, NaN when nothing is known."""
    from scipy.stats import norm

    if standard_error > 0:
        return float(2 * norm.sf(abs(estimate) / standard_error))
    return float("nan") if not np.isfinite(standard_error) or not np.isfinite(estimate) or estimate == 0 else 0.0
