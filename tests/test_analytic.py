"""Delta-method variances of ratio metrics, against hand arithmetic, Welch's t-test and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cohortlab.stats.analytic import RatioEstimate, compare_ratios, ratio_estimate


def test_ratio_of_sums_by_hand():
    """y = (1, 2, 3), x = (1, 1, 2): R = 6/4 = 1.5; residuals y − 1.5x = (−0.5, 0.5, 0), Σ² = 0.5;
    Var = 3/2 · 0.5 / 4² = 0.046875. With weights (1, 2, 1): R = 8/5 = 1.6, weighted residuals
    (−0.6, 0.8, −0.2), Σ² = 1.04, Var = 3/2 · 1.04 / 5² = 0.0624."""
    y, x = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0])
    plain = ratio_estimate(y, x, np.ones(3))
    assert (plain.value, plain.variance) == pytest.approx((1.5, 0.046875))
    weighted = ratio_estimate(y, x, np.array([1.0, 2.0, 1.0]))
    assert (weighted.value, weighted.variance) == pytest.approx((1.6, 0.0624))
    assert np.isnan(ratio_estimate(y, x, np.array([1.0, 0.0, 0.0])).variance)  # one weighted account: no variance


def test_a_difference_of_means_is_welchs_t_test():
    """With x = 1 the ratio is a mean and Var = s²/n, so delta / SE is Welch's t statistic (scipy)."""
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2.0, 50.0, 40), rng.gamma(2.0, 40.0, 65)
    comparison = compare_ratios(ratio_estimate(a, np.ones(40), np.ones(40)),
                                ratio_estimate(b, np.ones(65), np.ones(65)), 0.95)
    welch = stats.ttest_ind(a, b, equal_var=False)
    standard_error = (comparison.ci[1] - comparison.ci[0]) / (2 * stats.norm.ppf(0.975))
    assert comparison.delta / standard_error == pytest.approx(welch.statistic, rel=1e-12)


def test_the_relative_delta_carries_the_baselines_uncertainty():
    """R_T = 2 (Var 0.01), R_B = 1 (Var 0.04): Var(r) = 0.01/1 + 2²·0.04/1⁴ = 0.17."""
    comparison = compare_ratios(RatioEstimate(2.0, 0.01), RatioEstimate(1.0, 0.04), 0.95)
    z = stats.norm.ppf(0.975)
    assert comparison.delta_relative == pytest.approx(1.0)
    assert comparison.ci_relative == pytest.approx((1 - z * np.sqrt(0.17), 1 + z * np.sqrt(0.17)))
    assert comparison.ci == pytest.approx((1 - z * np.sqrt(0.05), 1 + z * np.sqrt(0.05)))
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(1 / np.sqrt(0.05)))


def test_the_ratio_variance_matches_simulation():
    """Cost over conversions for 400 accounts (cost ~ Gamma, won ~ Bernoulli(0.3) dependent on cost):
    the mean delta-method variance is within 10% of the variance of R across 4,000 samples."""
    rng = np.random.default_rng(11)
    estimates, variances = [], []
    for _ in range(4000):
        cost = rng.gamma(2.0, 100.0, 400)
        won = (rng.random(400) < 0.15 + 0.3 * (cost > 200)).astype(float)
        estimate = ratio_estimate(cost, won, np.ones(400))
        estimates.append(estimate.value)
        variances.append(estimate.variance)
    assert np.mean(variances) == pytest.approx(np.var(estimates, ddof=1), rel=0.10)
