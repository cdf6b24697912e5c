"""Bootstrap resampling, Kaplan–Meier and inference against independent values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cohortlab.codes import Verdict
from cohortlab.stats.bootstrap import replicate_counts
from cohortlab.stats.inference import (adjust_p_values, adjusted_level, bootstrap_comparison, bootstrap_p_value,
                                      verdict)
from cohortlab.stats.survival import event_matrices, kaplan_meier


def test_replicates_resample_each_cohort_to_its_size():
    cohort = np.array([1] * 5 + [0] * 7)
    chunks = list(replicate_counts(cohort, replicates=600, seed=3, chunk_size=250))
    assert [len(chunk) for chunk in chunks] == [1, 250, 250, 100]
    np.testing.assert_array_equal(chunks[0], np.ones((1, 12)))
    counts = np.vstack(chunks[1:])
    np.testing.assert_array_equal(counts[:, :5].sum(axis=1), 5)
    np.testing.assert_array_equal(counts[:, 5:].sum(axis=1), 7)
    # each account is drawn on average once
    assert counts.mean() == pytest.approx(1.0, abs=0.03)


def test_replicates_are_reproducible_for_a_seed():
    cohort = np.array([1] * 50 + [0] * 80)
    first = np.vstack(list(replicate_counts(cohort, 300, seed=11)))
    again = np.vstack(list(replicate_counts(cohort, 300, seed=11)))
    other = np.vstack(list(replicate_counts(cohort, 300, seed=12)))
    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, other)


def test_resampled_counts_are_multinomial():
    """Each resample draws `size` members with replacement: every column sums to `size`, and a member's count
    has the multinomial(n, 1/n) moments: mean 1, variance 1 − 1/n, covariance −1/n between two members."""
    from cohortlab.stats.bootstrap import resample_counts

    n, rows = 5, 200_000
    counts = resample_counts(np.random.default_rng(2), n, rows).T
    assert counts.shape == (n, rows)
    np.testing.assert_array_equal(counts.sum(axis=0), n)
    np.testing.assert_allclose(counts.mean(axis=1), 1.0, atol=0.01)
    np.testing.assert_allclose(counts.var(axis=1), 1 - 1 / n, atol=0.01)
    assert np.cov(counts[0], counts[1])[0, 1] == pytest.approx(-1 / n, abs=0.01)
    # P(member drawn k times) is binomial(n, 1/n): P(0) = (1 − 1/n)^n
    assert np.mean(counts[0] == 0) == pytest.approx((1 - 1 / n) ** n, abs=0.005)


def test_code_totals_by_hand():
    from cohortlab.stats.survival import code_totals

    weights = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [0.5, 0.0, 1.0, 0.0, 2.0]])
    codes = np.array([2, 0, -1, 2, 1])  # account 2 counts nowhere
    np.testing.assert_array_equal(code_totals(weights, codes, 4), [[2.0, 5.0, 5.0, 0.0], [0.0, 2.0, 0.5, 0.0]])
    # column-major weights (as bootstrap chunks are) give the same
    np.testing.assert_array_equal(code_totals(np.asfortranarray(weights), codes, 4), code_totals(weights, codes, 4))


def test_batched_sums_equal_one_product_per_metric():
    """estimate_replicates sums all metrics' per-account vectors on a block in one product; each metric's
    replicates equal its own products (to rounding), equal vectors of two metrics included."""
    from cohortlab.metrics.acquisition import CAC
    from cohortlab.metrics.base import Inputs
    from cohortlab.engine.replicates import estimate_replicates
    from cohortlab.metrics.funnel import Conversion, StepParams

    rng = np.random.default_rng(8)
    n = 400
    treated = np.r_[np.ones(150, bool), np.zeros(250, bool)]
    cost, won = rng.gamma(2.0, 50.0, n), (rng.random(n) < 0.3).astype(float)
    entered, converted = (rng.random(n) < 0.8).astype(float), (rng.random(n) < 0.4).astype(float)
    cac = CAC(CAC.Params())
    conversion = Conversion(StepParams.model_validate({"from": "lead", "to": "customer", "days": 90}))
    metrics = {"cac": (cac, {"cost": cost, "reached": won}),
               "cac_copy": (cac, {"cost": cost.copy(), "reached": won.copy()}),  # equal vectors, other arrays
               "conversion": (conversion, {"from": entered, "to": converted})}
    sides = {"treatment": slice(0, 150), "baseline": slice(150, n)}
    entries = {key: (metric, {side: (Inputs(arrays, np.ones(n, bool)).take(rows), rows)
                              for side, rows in sides.items()}) for key, (metric, arrays) in metrics.items()}
    counts = list(replicate_counts(treated.astype(int), 120, seed=4))
    found = estimate_replicates(entries, lambda chunk: chunk, counts, 121)
    stacked = np.vstack(counts)
    for key, (_, arrays) in metrics.items():
        first, second = ("cost", "reached") if key.startswith("cac") else ("to", "from")
        for side, rows in sides.items():
            expected = (stacked[:, rows] @ arrays[first][rows]) / (stacked[:, rows] @ arrays[second][rows])
            np.testing.assert_allclose(getattr(found[key], side), expected, rtol=1e-12)


def test_kaplan_meier_by_hand():
    # times with events (1) or censoring (0): 1, 2+, 2, 3, 3+, 4 ; at risk 6,5,3,1
    time = np.array([1, 2, 2, 3, 3, 4])
    event = np.array([True, False, True, True, False, True])
    events, at_risk = event_matrices(time, event, horizon=3)
    survival = kaplan_meier(events.sum(axis=0)[None], at_risk.sum(axis=0)[None])[0]
    # S(3) = (1 - 1/6)(1 - 1/5)(1 - 1/3)
    assert survival == pytest.approx((5 / 6) * (4 / 5) * (2 / 3))


def test_kaplan_meier_matches_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(5)
    churn = rng.geometric(0.15, size=400)
    censor = rng.integers(1, 20, size=400)
    time = np.minimum(churn, censor)
    event = churn <= censor
    events, at_risk = event_matrices(time, event, horizon=8)
    ours = kaplan_meier(events.sum(axis=0)[None], at_risk.sum(axis=0)[None])[0]
    reference = SurvfuncRight(time, event.astype(int))
    expected = reference.surv_prob[reference.surv_times <= 8][-1]
    assert ours == pytest.approx(expected, rel=1e-12)


def test_survival_undefined_past_the_last_at_risk_time():
    # both accounts are censored (at 0 and 1) while surviving: nothing is known at t = 2 or 3
    events, at_risk = event_matrices(np.array([0, 1]), np.array([False, False]), horizon=3)
    assert np.isnan(kaplan_meier(events.sum(0)[None], at_risk.sum(0)[None])[0])


def test_p_value_inverts_the_percentile_interval():
    """The i-th of B sorted replicates sits at level i/(B + 1); 0 between two replicates is interpolated: with
    replicates −1, 1, 2, 3 (levels 0.2, 0.4, …), 0 sits at 0.3 and p = 2 · 0.3."""
    assert bootstrap_p_value(np.array([-1.0, 1.0, 2.0, 3.0])) == pytest.approx(0.6)
    # ties at 0 count on both sides: 0, 0 at levels 1/5 and 2/5 among 0, 0, 1, 2 → p = 2 · 2/5
    assert bootstrap_p_value(np.array([0.0, 0.0, 1.0, 2.0])) == pytest.approx(0.8)


def test_p_value_has_no_replicate_count_floor():
    """Beyond the smallest replicate the distribution goes on as a normal tail scaled by its own side's spread.
    Replicates 1…999 (B = 999) sit at levels i/1000, so the quantile function is Q(u) = 1000u; the lower side's
    scale is Q(0.5) − Q(Φ(−1)) = 500 − 1000·Φ(−1); 0 is one unit below the smallest, at level
    Φ(Φ⁻¹(1/1000) − 1/scale). The old floor, (0 + 1)/(B + 1) on each side, was 0.002."""
    scale = 500 - 1000 * stats.norm.cdf(-1)
    level = stats.norm.cdf(stats.norm.ppf(1 / 1000) - 1 / scale)
    assert bootstrap_p_value(np.arange(1.0, 1000.0)) == pytest.approx(2 * level, rel=1e-9)
    # 100 replicates of a normal 4 SDs from 0: the two-sided p is about 2Φ(−4) = 6.3e-5, far below 2/101
    draws = stats.norm.ppf((np.arange(1, 101) / 101)) + 4.0
    assert bootstrap_p_value(draws) == pytest.approx(2 * stats.norm.sf(4.0), rel=0.35)


def test_interval_and_p_value_agree_at_every_level():
    """The interval at level 1 − p has 0 at its end, whichever tail 0 is in (inside the replicates or beyond)."""
    rng = np.random.default_rng(3)
    for shift in (1.0, 2.5, 4.0):
        replicates = np.r_[shift, rng.normal(shift, 1.0, 200)]
        comparison = bootstrap_comparison(np.zeros(len(replicates)), replicates, 0.95)
        low, _ = comparison.intervals_at(1 - comparison.p_value)[0]
        assert low == pytest.approx(0.0, abs=1e-9)


def test_adjusted_level_is_the_level_of_the_adjusted_test():
    """Holm on p = 0.001, 0.012, 0.04 gives 0.003, 0.024, 0.04: all rejected at α = 0.05, each at its step's level,
    1 − α/3, 1 − α/2 and 1 − α/1 (α·p/p_adjusted). A comparison not rejected is shown at the family's strictest
    level, 1 − α/m: Holm on 0.01, 0.04, 0.03 rejects only the first (0.03); the others (0.06) get 1 − 0.05/3, whose
    interval contains 0 as p ≥ α/m."""
    p_values = [0.001, 0.012, 0.04]
    adjusted = adjust_p_values(p_values, "holm")
    assert adjusted == pytest.approx([0.003, 0.024, 0.04])
    levels = [adjusted_level(p, q, 0.95, 3, decided=True) for p, q in zip(p_values, adjusted)]
    assert levels == pytest.approx([1 - 0.05 / 3, 1 - 0.05 / 2, 1 - 0.05])
    p_values = [0.01, 0.04, 0.03]
    levels = [adjusted_level(p, q, 0.95, 3, decided=q < 0.05)
              for p, q in zip(p_values, adjust_p_values(p_values, "holm"))]
    assert levels == pytest.approx([1 - 0.05 / 3] * 3)
    assert all(p >= 1 - level for p, level in zip(p_values[1:], levels[1:]))  # their intervals contain 0
    assert adjusted_level(0.02, 0.02, 0.95, 1, decided=True) == pytest.approx(0.95)  # no correction: the confidence
    assert adjusted_level(0.0, 0.0, 0.95, 4, decided=True) == pytest.approx(1 - 0.05 / 4)  # p = 0: Bonferroni's


def test_holm_and_bh_by_hand():
    # Holm: sorted 0.01*3=0.03, 0.03*2=0.06, 0.04*1 -> max with previous 0.06
    assert adjust_p_values([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    # BH: 0.04*3/3=0.04, 0.03*3/2=0.045 -> min from the top: 0.04, 0.04, 0.03
    assert adjust_p_values([0.01, 0.04, 0.03], "bh") == pytest.approx([0.03, 0.04, 0.04])
    assert adjust_p_values([0.01, float("nan")], "holm")[0] == pytest.approx(0.01)


def test_verdicts_follow_the_direction():
    assert verdict(0.01, -5.0, "decrease", 0.95) is Verdict.BETTER
    assert verdict(0.01, -5.0, "increase", 0.95) is Verdict.WORSE
    assert verdict(0.2, 5.0, "increase", 0.95) is Verdict.INCONCLUSIVE
    assert verdict(float("nan"), 5.0, "increase", 0.95) is Verdict.UNAVAILABLE


def test_bootstrap_interval_of_a_mean_difference_matches_theory():
    """Percentile interval width of a difference in means vs 2·1.96·sqrt(σ²/n1 + σ²/n2)."""
    rng = np.random.default_rng(0)
    treatment, baseline = rng.normal(10.5, 2.0, 400), rng.normal(10.0, 2.0, 600)
    values = np.r_[treatment, baseline]
    cohort = np.r_[np.ones(400), np.zeros(600)]
    counts = np.vstack(list(replicate_counts(cohort, 4000, seed=1)))
    means = {side: counts[:, cohort == side] @ values[cohort == side] / (cohort == side).sum() for side in (0, 1)}
    comparison = bootstrap_comparison(means[0], means[1], 0.95)
    expected_width = 2 * 1.959964 * np.sqrt(treatment.var(ddof=1) / 400 + baseline.var(ddof=1) / 600)
    assert comparison.ci[1] - comparison.ci[0] == pytest.approx(expected_width, rel=0.05)
    assert comparison.delta == pytest.approx(treatment.mean() - baseline.mean())
    assert comparison.undefined == 0


def test_survival_is_zero_once_everyone_has_churned():
    # everyone churns by t = 2; nobody is at risk at t = 3, but the curve is known to be 0 there
    events, at_risk = event_matrices(np.array([0, 1, 1, 2]), np.array([True, True, True, True]), horizon=3)
    assert kaplan_meier(events.sum(0)[None], at_risk.sum(0)[None])[0] == 0.0


def test_a_zero_baseline_keeps_the_absolute_interval():
    """Replicates without a relative delta (baseline 0) still count for the absolute one."""
    baseline = np.r_[1.0, np.tile([0.0, 1.0, 2.0], 100)]
    treatment = np.r_[3.0, np.tile([8.0, 3.0, 4.0], 100)]
    comparison = bootstrap_comparison(baseline, treatment, 0.95)
    assert comparison.ci == (2.0, 8.0)
    assert comparison.undefined == 0
    # every delta is 2 or 8: 0 lies below the smallest (level 1/301), on a tail scaled by the replicates' SD (the
    # lower side's own spread is 0: 2 is both its median and its 15.9% quantile)
    spread = np.std(np.r_[np.full(200, 2.0), np.full(100, 8.0)], ddof=1)
    assert comparison.p_value == pytest.approx(2 * stats.norm.cdf(stats.norm.ppf(1 / 301) - 2 / spread))


def test_bca_matches_scipy_on_a_skewed_mean():
    """One-sample BCa through the two-sample code (a baseline of zeros): the mean of 40 exponential draws
    with 20,000 replicates; each account is its own jackknife block, as in scipy's BCa, so the endpoints agree
    within the Monte Carlo error of two independent bootstraps (1.5% of the width); the percentile interval,
    shifted less to the right, is measurably different."""
    from scipy import stats as scipy_stats

    from cohortlab.stats.bootstrap import jackknife_counts, replicate_counts
    from cohortlab.stats.inference import bootstrap_comparison

    values = np.random.default_rng(4).exponential(10.0, 40)
    cohort = np.zeros(40, dtype=int)
    counts = np.vstack(list(replicate_counts(cohort, 20_000, seed=9)))
    estimates = counts @ values / 40
    left_out = jackknife_counts(cohort, seed=9)
    jackknife = (np.zeros(40), left_out @ values / left_out.sum(axis=1))
    bca = bootstrap_comparison(np.zeros(len(estimates)), estimates, 0.95, jackknife)
    percentile = bootstrap_comparison(np.zeros(len(estimates)), estimates, 0.95)
    reference = scipy_stats.bootstrap((values,), np.mean, n_resamples=20_000, method="BCa",
                                      random_state=np.random.default_rng(1)).confidence_interval
    width = reference.high - reference.low
    assert bca.ci == pytest.approx((reference.low, reference.high), abs=0.015 * width)
    assert bca.ci[1] - percentile.ci[1] > 0.03 * width
    # the p-value inverts the BCa interval: at the interval's lower end it is 0.05
    shifted = bootstrap_comparison(np.full(len(estimates), bca.ci[0]), estimates, 0.95,
                                   (np.full(40, bca.ci[0]), jackknife[1]))
    assert shifted.p_value == pytest.approx(0.05, abs=0.004)


def test_p_values_beyond_the_replicates_are_calibrated():
    """Under no effect, with a normal statistic (estimate ~ N(0, 1), its 100 replicates ~ N(estimate, 1)), p is
    uniform: of 4,000 simulations about 40 fall below 0.01 and 8 below 0.002, where with 100 replicates an
    empirical count could give none (its smallest p-value is 2/101). Bounds: binomial, about ±3 SD
    (benchmarks/p_value_calibration.py runs 20,000 simulations)."""
    rng = np.random.default_rng(11)
    p_values = np.array([bootstrap_p_value(estimate + rng.standard_normal(100))
                         for estimate in rng.standard_normal(4000)])
    assert 22 <= np.sum(p_values < 0.01) <= 60
    assert 1 <= np.sum(p_values < 0.002) <= 18
    assert 170 <= np.sum(p_values < 0.05) <= 230


def test_ties_at_zero_across_the_median_give_p_one():
    """120 replicates at exactly 0 and 80 above: the interval's lower end is 0 at every level, so no interval
    excludes 0 and p = 1; likewise when every replicate is 0."""
    replicates = np.r_[np.zeros(120), np.linspace(0.01, 1.0, 80)]
    assert bootstrap_p_value(replicates) == 1.0
    comparison = bootstrap_comparison(np.zeros(201), np.r_[0.3, replicates], 0.95)
    assert comparison.intervals_at(0.2)[0][0] == 0.0
    assert bootstrap_p_value(np.zeros(100)) == 1.0


def test_the_verdicts_p_value_is_the_larger_of_the_delta_and_the_relative_delta():
    """A treatment of 2 against a baseline near 1 that is often close to 0: the relative delta (÷ each replicate's
    baseline) is far less certain than the delta, and the verdict waits for both."""
    rng = np.random.default_rng(5)
    baseline = np.r_[1.0, np.abs(rng.normal(1.0, 0.6, 400))]
    treatment = np.r_[2.0, rng.normal(2.0, 0.3, 400)]
    comparison = bootstrap_comparison(baseline, treatment, 0.95)
    assert comparison.p_value_relative > comparison.p_value
    assert comparison.p_verdict == comparison.p_value_relative
    level = 1 - comparison.p_verdict
    (low, _), (low_relative, _) = comparison.intervals_at(level)
    assert low > 0 and low_relative == pytest.approx(0.0, abs=1e-9)
