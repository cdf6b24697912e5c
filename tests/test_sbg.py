"""The shifted-beta-geometric retention model against Fader and Hardie's published estimates."""

from __future__ import annotations

import numpy as np
import pytest

from cohortlab.stats.sbg import SBG, fit_sbg, from_survivors

# Fader & Hardie (2007), "How to project customer retention", Journal of Interactive Marketing 21(1):
# customers alive at the start of years 0..7 out of 1,000 acquired, and the MLEs they report
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize("alive, alpha, beta", [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)],
                         ids=["regular", "high-end"])
def test_published_maximum_likelihood_estimates(alive, alpha, beta):
    fitted = fit_sbg(*from_survivors(alive))
    assert fitted.converged
    assert round(fitted.alpha, 3) == alpha
    assert round(fitted.beta, 3) == beta


def test_survival_matches_the_closed_form_recursion():
    model = SBG(0.704, 1.182)
    # S(0) = 1; S(t) = S(t-1) (beta + t - 1) / (alpha + beta + t - 1); P(T=t) = S(t-1) - S(t)
    expected = [1.0]
    for t in range(1, 13):
        expected.append(expected[-1] * (model.beta + t - 1) / (model.alpha + model.beta + t - 1))
    np.testing.assert_allclose(model.survival(np.arange(13)), expected, rtol=1e-12)
    np.testing.assert_allclose(model.churn_probability(np.arange(1, 13)), -np.diff(expected), rtol=1e-12)
    # P(T = 1) = alpha / (alpha + beta)
    assert model.churn_probability(1) == pytest.approx(0.704 / (0.704 + 1.182))


def test_weights_count_like_repeated_customers():
    periods, churned, weights = from_survivors(REGULAR)
    doubled = fit_sbg(np.r_[periods, periods], np.r_[churned, churned], np.r_[weights, weights])
    assert (doubled.alpha, doubled.beta) == pytest.approx((fit_sbg(periods, churned, 2 * weights).alpha,
                                                           fit_sbg(periods, churned, 2 * weights).beta))
    assert doubled.alpha == pytest.approx(0.704, abs=5e-4)


def test_recovers_known_parameters_under_censoring():
    """Simulated customers with theta ~ Beta(1.5, 4) and staggered start dates (observed 1 to 24 renewals)."""
    rng = np.random.default_rng(4)
    n = 40_000
    theta = rng.beta(1.5, 4.0, n)
    lifetime = rng.geometric(theta)            # the renewal at which each customer churns
    observed = rng.integers(1, 25, n)          # renewals each customer could have made so far
    churned = lifetime <= observed
    fitted = fit_sbg(np.where(churned, lifetime, observed), churned)
    assert fitted.alpha == pytest.approx(1.5, rel=0.08)
    assert fitted.beta == pytest.approx(4.0, rel=0.08)


def test_without_heterogeneity_the_fit_is_geometric():
    """Every customer churns with the same 3% a month (no heterogeneity): the likelihood rises towards the
    geometric limit (alpha, beta growing together) and is flat to rounding long before it; the fit stops
    there, converged, predicting the geometric survival (1 − θ̂)^t with θ̂ = churns / renewals at risk."""
    from cohortlab.stats.sbg import fit_sbg_counts

    rng = np.random.default_rng(11)
    n = 200_000
    lifetime = rng.geometric(0.03, n)
    observed = rng.integers(1, 37, n)
    churned = lifetime <= observed
    periods = np.where(churned, lifetime, observed)
    churn_counts = np.bincount(periods[churned], minlength=37)[None, :].astype(float)
    survive_counts = np.bincount(periods[~churned], minlength=37)[None, :].astype(float)
    fits = fit_sbg_counts(churn_counts, survive_counts)
    assert fits.converged[0]
    assert fits.alpha[0] > 100 and fits.beta[0] > 100
    # at risk at renewal t: customers with periods >= t; the geometric MLE is churns / renewals at risk
    theta = churned.sum() / periods.sum()
    np.testing.assert_allclose(fits.survival(np.arange(0, 37, 6))[0], (1 - theta) ** np.arange(0, 37, 6), rtol=1e-4)
