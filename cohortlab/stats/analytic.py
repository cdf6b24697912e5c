"""Analytic (delta-method) inference for ratio metrics: the groundwork of ``--ci analytic``.

A ratio metric is R = Σ w·y / Σ w·x over one cohort's accounts (a mean when x = 1). With the
weights held fixed (the treatment's 1s; the baseline's matching weights, given the strata),
its linearization is R − R₀ ≈ Σ w·(y − R₀x) / Σ w·x, so

    Var(R) = n/(n − 1) · Σ w²·(y − R·x)² / (Σ w·x)²,

the influence-function variance with the usual n/(n − 1) correction; for a plain mean it
is s²/n, the variance in Welch's two-sample t-test. Cohorts are independent, so the
delta's variance is the sum of theirs. The relative delta r = R_T/R_B − 1 divides by
the baseline, whose uncertainty enters through Var(r) = Var(R_T)/R_B² + R_T²·Var(R_B)/R_B⁴.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class RatioEstimate:
    value: float
    variance: float


def ratio_estimate(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> RatioEstimate:
    """Σ w·y / Σ w·x and its delta-method variance, over the accounts with positive weight."""
    keep = weights > 0
    y, x, w = (np.asarray(values, dtype=float)[keep] for values in (y, x, weights))
    n = len(w)
    denominator = float(w @ x)
    if n < 2 or denominator == 0:
        return RatioEstimate(float("nan"), float("nan"))
    value = float(w @ y) / denominator
    residual = w * (y - value * x)
    return RatioEstimate(value, n / (n - 1) * float(residual @ residual) / denominator**2)


@dataclass(frozen=True)
class AnalyticComparison:
    delta: float
    ci: tuple[float, float]
    delta_relative: float
    ci_relative: tuple[float, float]
    p_value: float


def compare_ratios(treatment: RatioEstimate, baseline: RatioEstimate, confidence: float) -> AnalyticComparison:
    """Normal-theory intervals and the two-sided p-value of "delta = 0" for two independent estimates."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    delta = treatment.value - baseline.value
    spread = np.sqrt(treatment.variance + baseline.variance)
    if baseline.value:
        relative = delta / abs(baseline.value)
        relative_spread = np.sqrt(treatment.variance / baseline.value**2
                                  + treatment.value**2 * baseline.variance / baseline.value**4)
    else:
        relative = relative_spread = float("nan")
    p_value = float(2 * norm.sf(abs(delta) / spread)) if spread > 0 else float("nan")
    return AnalyticComparison(delta, (delta - z * spread, delta + z * spread), relative,
                              (relative - z * relative_spread, relative + z * relative_spread), p_value)
