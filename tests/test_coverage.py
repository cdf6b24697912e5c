"""A small version of benchmarks/coverage.py: every metric's matched 95% interval on confounded, censored cohorts.

The closed-form truth (the ATT on the treatment cohort's segment counts) is checked against an
uncensored Monte Carlo of the generator; the matched percentile intervals of both scenarios cover
the true delta; and the naive comparison does not where the segment confounds the metric, while it
still does where the segment changes nothing (retention).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from studies import load_study

SIMULATIONS = 30
REPLICATES = 100
ACCOUNTS = 1500
# a 95% interval (about 93% with 100 replicates) covers fewer than 23 of 30 with probability < 0.001
COVERED = 23


study = load_study("coverage.py", "coverage_study")


@pytest.fixture(scope="module")
def matched():
    return {scenario: study.run(scenario, SIMULATIONS, REPLICATES, ACCOUNTS, methods=("percentile",),
                                first_seed=1000)
            for scenario in study.SCENARIOS}


def test_the_binomial_bound_is_what_it_says():
    assert stats.binom.cdf(COVERED - 1, SIMULATIONS, 0.93) < 0.001


@pytest.mark.parametrize("name", ["BASELINE", "EFFECT"])
def test_the_truth_matches_a_monte_carlo_of_the_generator(name):
    generator = getattr(study, name)
    counts = np.array([300_000, 150_000, 50_000])
    exact = study.truth(generator, counts)
    simulated = study.monte_carlo(np.random.default_rng(7), generator, counts)
    assert exact.keys() == simulated.keys() == study.METRICS.keys()
    for key, value in exact.items():
        assert simulated[key] == pytest.approx(value, rel=0.03), key


def test_the_null_has_no_effect_and_the_effect_scenario_changes_every_metric():
    counts = np.array([1800, 900, 300])
    assert all(delta == 0 for delta in study.true_delta("null", counts).values())
    baseline = study.truth(study.BASELINE, counts)
    for key, delta in study.true_delta("effect", counts).items():
        assert abs(delta) > 0.05 * abs(baseline[key]), key


def test_the_truth_is_the_att_on_the_treatment_segment_counts():
    """The same generator mixed by other segment counts gives other values where the segment matters."""
    treatment_mix, baseline_mix = (np.array(study.MIX[side]) * 3000 for side in ("treatment", "baseline"))
    as_treated, as_baseline = study.truth(study.BASELINE, treatment_mix), study.truth(study.BASELINE, baseline_mix)
    assert as_treated["cac"] < 0.8 * as_baseline["cac"]
    assert as_treated["retention:12"] == as_baseline["retention:12"]


@pytest.mark.parametrize("scenario", ["null", "effect"])
def test_every_matched_interval_covers_the_true_delta(matched, scenario):
    result = matched[scenario]
    for metric in result.metrics:
        cell = study.summarize(result, "percentile", metric)
        assert cell.missing == 0, metric
        assert cell.coverage * SIMULATIONS >= COVERED, (metric, cell.coverage)
        assert abs(cell.mean_error) < 0.2 * cell.width, (metric, cell.mean_error, cell.width)


def test_the_naive_comparison_is_confounded_where_the_segment_matters():
    metrics = ("cac", "ltv:earned:12", "retention:12")
    naive = study.run("null", SIMULATIONS, REPLICATES, ACCOUNTS, methods=("naive",), metrics=metrics,
                      first_seed=1000)
    coverage = {metric: study.summarize(naive, "naive", metric).coverage for metric in metrics}
    assert coverage["cac"] < 0.2 and coverage["ltv:earned:12"] < 0.2, coverage
    assert coverage["retention:12"] * SIMULATIONS >= COVERED, coverage
