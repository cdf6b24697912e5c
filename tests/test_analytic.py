"""Analytic inference: linearization variances against hand arithmetic, a published t-test example,
Greenwood's formula, numerical derivatives of the metrics themselves, and simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cohortlab.data.contract import check_contract
from cohortlab.data.panel import build_panel
from cohortlab.data.source import open_database
from cohortlab.metrics.base import MetricContext, Unavailable
from cohortlab.metrics.registry import resolve_all
from cohortlab.engine.matching import match_panel
from cohortlab.spec.cohorts import cohort_filters
from cohortlab.spec.load import load_config, load_experiment
from cohortlab.stats.analytic import (Estimate, km_influence, normal_comparison, ratio_estimate,
                                      stratified_variance)
from cohortlab.stats.power import minimum_detectable_effect, power_to_detect
from cohortlab.stats.survival import greenwood

ROOT = Path(__file__).resolve().parents[1]


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


def test_stratified_variance_by_hand():
    """Groups {a: 1, 2, 6} and {b: 4, 4}: group a's deviations from its mean 3 are (−2, −1, 3), Σ² = 14,
    times 3/2 = 21; group b has no spread. Unstratified, the mean is 3.4: deviations
    (−2.4, −1.4, 2.6, 0.6, 0.6), Σ² = 15.2, times 5/4 = 19."""
    influence = np.array([1.0, 2.0, 6.0, 4.0, 4.0])
    assert stratified_variance(influence, np.array([0, 0, 0, 1, 1])) == pytest.approx(21.0)
    assert stratified_variance(influence) == pytest.approx(19.0)
    assert stratified_variance(influence, np.arange(5)) != stratified_variance(influence, np.arange(5))  # NaN


def _standardized(n: int, mean: float, sd: float, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).normal(size=n)
    return mean + sd * (values - values.mean()) / values.std(ddof=1)


def test_the_published_two_sample_t_test():
    """NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.5.3 (AUTO83B.DAT, miles per gallon):
    US cars n = 249, mean 20.14458, sd 6.41470; Japanese cars n = 79, mean 30.48101, sd 6.10771.
    With unequal variances the handbook gives T = −12.94627. A mean is a ratio with x = 1, and its
    linearization variance is s²/n, so delta / SE must reproduce it."""
    us, japan = _standardized(249, 20.14458, 6.41470, 1), _standardized(79, 30.48101, 6.10771, 2)
    comparison = normal_comparison(ratio_estimate(us, np.ones(249), np.ones(249)),
                                   ratio_estimate(japan, np.ones(79), np.ones(79)), 0.95)
    assert comparison.delta / comparison.standard_error == pytest.approx(-12.94627, abs=5e-5)
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(12.94627), rel=1e-3)


def test_a_difference_of_means_is_welchs_t_test():
    """With x = 1 the ratio is a mean and Var = s²/n, so delta / SE is Welch's t statistic (scipy)."""
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2.0, 50.0, 40), rng.gamma(2.0, 40.0, 65)
    comparison = normal_comparison(ratio_estimate(a, np.ones(40), np.ones(40)),
                                   ratio_estimate(b, np.ones(65), np.ones(65)), 0.95)
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert comparison.delta / comparison.standard_error == pytest.approx(welch.statistic, rel=1e-12)


def test_the_relative_delta_carries_the_baselines_uncertainty():
    """R_T = 2 (Var 0.01), R_B = 1 (Var 0.04): Var(r) = 0.01/1 + 2²·0.04/1⁴ = 0.17."""
    comparison = normal_comparison(Estimate(2.0, 0.01), Estimate(1.0, 0.04), 0.95)
    z = stats.norm.ppf(0.975)
    assert comparison.delta_relative == pytest.approx(1.0)
    assert comparison.ci_relative == pytest.approx((1 - z * np.sqrt(0.17), 1 + z * np.sqrt(0.17)))
    assert comparison.ci == pytest.approx((1 - z * np.sqrt(0.05), 1 + z * np.sqrt(0.05)))
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(1 / np.sqrt(0.05)))


def test_kaplan_meier_influence_is_greenwood():
    """10 accounts: at t1 all 10 at risk, 1 event; one censored; at t2 8 at risk, 2 events.
    S = 9/10 · 6/8 = 0.675; Greenwood: S²·(1/(10·9) + 2/(8·6)) = 0.455625 · 0.0527778 = 0.0240469."""
    events = np.zeros((10, 2))
    at_risk = np.zeros((10, 2))
    at_risk[:, 0] = 1
    events[0, 0] = 1                      # account 0: event at t1
    at_risk[2:, 1] = 1                    # account 1: censored after t1; accounts 2–9 at risk at t2
    events[2:4, 1] = 1                    # accounts 2, 3: events at t2
    survival, influence = km_influence(events, at_risk, np.ones(10))
    assert survival == pytest.approx(0.675)
    assert float(influence @ influence) == pytest.approx(0.0240469, rel=1e-5)
    _, standard_error, _, _ = greenwood(events.sum(axis=0), at_risk.sum(axis=0), 0.95)
    assert float(influence @ influence) == pytest.approx(standard_error**2, rel=1e-12)
    assert stratified_variance(influence) == pytest.approx(10 / 9 * 0.0240469, rel=1e-5)


@pytest.fixture(scope="module")
def demo_panels():
    """The demo's two experiments as panels with their matching weights and metrics."""
    config, _ = load_config(ROOT / "configs" / "cohortlab.yaml")
    data = check_contract(open_database(config), config.journey, config.as_of)
    panels = []
    for name in ("onboarding-v2", "orchestrated-journey"):
        experiment, loaded = load_experiment(ROOT / "experiments" / f"{name}.yaml")
        metrics = resolve_all(experiment, config.journey, config.economics, loaded)
        filters = cohort_filters(experiment, data.db.tables["accounts"].columns, loaded)
        panel, _ = build_panel(data, filters, config.journey, config.economics, config.attribution,
                               experiment.match.column_names(), [])
        context = MetricContext(config.economics, config.journey, 30, data.as_of, 0.95, config.attribution)
        panels.append((panel, match_panel(experiment, panel).weights(), metrics, context))
    return panels


def test_each_influence_is_the_derivative_of_the_metric(demo_panels):
    """φᵢ = wᵢ·∂θ/∂wᵢ, checked by central differences of the metric's own estimate on 40 accounts of each
    cohort, for every metric with an analytic form; and the influence's value is the point estimate."""
    checked = set()
    rng = np.random.default_rng(5)
    for panel, weights, metrics, context in demo_panels:
        for metric in metrics:
            inputs = metric.prepare(panel, context)
            if isinstance(inputs, Unavailable):
                continue
            for mask in (panel.treated, ~panel.treated):
                side, side_weights = inputs.take(mask), weights[mask]
                linearized = metric.influence(side, side_weights)
                if linearized is None:
                    continue
                value, influence = linearized
                assert value == pytest.approx(metric.estimate(side, side_weights[None, :])[0], rel=1e-12)
                picked = rng.choice(np.flatnonzero(side_weights > 0), 40, replace=False)
                step = 1e-4
                rows = np.repeat(side_weights[None, :], 2 * len(picked), axis=0)
                rows[np.arange(len(picked)), picked] *= 1 + step
                rows[len(picked) + np.arange(len(picked)), picked] *= 1 - step
                estimates = metric.estimate(side, rows)
                numeric = (estimates[:len(picked)] - estimates[len(picked):]) / (2 * step)
                scale = np.abs(influence[picked]).max()
                assert np.abs(numeric - influence[picked]).max() <= 1e-5 * scale, metric.key
                checked.add(metric.name)
    assert checked == {"ltv", "retention", "nrr", "cac", "cost_per", "conversion"}


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


def test_minimum_detectable_effect_by_hand():
    """SE 0.1 at 95%: (1.959964 + 0.841621) × 0.1; at 90%: (1.644854 + 0.841621) × 0.1; among four tests
    (Bonferroni, Holm's strictest step): z = 2.497705. At the MDE the power is 80% (plus the far tail)."""
    assert minimum_detectable_effect(0.1, 0.95) == pytest.approx(0.2801585, rel=1e-6)
    assert minimum_detectable_effect(0.1, 0.90) == pytest.approx(0.2486475, rel=1e-6)
    assert minimum_detectable_effect(0.1, 0.95, tests=4) == pytest.approx(0.3339326, rel=1e-6)
    assert power_to_detect(0.2801585, 0.1, 0.95) == pytest.approx(0.80 + stats.norm.cdf(-2.801585 - 1.959964),
                                                                    rel=1e-6)
    assert power_to_detect(0.0, 0.1, 0.95) == pytest.approx(0.05)


ANALYTIC = {"ltv:earned", "retention", "nrr", "grr", "cac", "cost_per", "conversion", "early_churn"}


@pytest.mark.parametrize("name", ["onboarding-v2", "orchestrated-journey"])
def test_analytic_and_bootstrap_widths_agree_on_the_demo(name):
    """Acceptance (SPEC §7): on the demo experiments every analytic interval is within 10% of the
    bootstrap's width (2,000 replicates; metrics without an analytic form left out)."""
    from cohortlab.report.build import Overrides, run

    config, _ = load_config(ROOT / "configs" / "cohortlab.yaml")
    experiment, _ = load_experiment(ROOT / "experiments" / f"{name}.yaml")
    kept = [request for request in experiment.metrics
            if request.metric in ANALYTIC or f"{request.metric}:{request.params.get('basis')}" in ANALYTIC]
    experiment = experiment.model_copy(update={"metrics": kept, "primary": None})
    bootstrap = run(experiment, config, overrides=Overrides(replicates=2000))
    analytic = run(experiment, config, overrides=Overrides(ci="analytic"))
    assert len(analytic.results) == {"onboarding-v2": 4, "orchestrated-journey": 5}[name]
    for resampled, linearized in zip(bootstrap.results, analytic.results):
        assert linearized.method == "analytic"
        ratio = (linearized.ci[1] - linearized.ci[0]) / (resampled.ci[1] - resampled.ci[0])
        assert 0.9 <= ratio <= 1.1, (linearized.label, ratio)
        assert linearized.delta == pytest.approx(resampled.delta, rel=1e-9)
