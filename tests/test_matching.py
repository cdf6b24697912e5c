"""Matching weights, their replicate re-runs, and balance diagnostics, against values computed by hand."""

from __future__ import annotations

import typing

import numpy as np
import pytest
from pydantic import ValidationError

from cohortlab.match import METHODS, effective_size, match
from cohortlab.match.balance import balance_table
from cohortlab.match.propensity import design_matrix, fit_score, greedy, nearest, pooled_sd
from cohortlab.match.strata import coarsen
from cohortlab.spec.matching import AnyMatchSpec, CemMatch, ExactMatch, NoMatch, PropensityMatch

# treated: strata A, A, B, C ; baseline: A, A, A, A, B, D, D, D
SEGMENT = np.array(["A", "A", "B", "C", "A", "A", "A", "A", "B", "D", "D", "D"], dtype=object)
TREATED = np.array([True] * 4 + [False] * 8)


@pytest.fixture
def matching():
    return match(ExactMatch(method="exact", on=["segment"]), TREATED, {"segment": SEGMENT})


# ------------------------------------------------------------------------------------------- exact


def test_att_weights_by_hand(matching):
    # A: 2 treated / 4 baseline -> 0.5 each; B: 1/1 -> 1; C has no baseline -> treated dropped; D has no treated -> 0
    expected = [1, 1, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0, 0]
    np.testing.assert_allclose(matching.weights(), expected)
    # the weighted baseline sums to the supported treated count
    assert matching.weights()[~TREATED].sum() == pytest.approx(3.0)
    assert matching.dropped().tolist() == [False, False, False, True] + [False] * 8
    assert matching.subclass.tolist() == [0, 0, 1, 2, 0, 0, 0, 0, 1, 3, 3, 3]
    assert matching.labels == ("A", "B", "C", "D")
    assert matching.subclasses() == 2  # strata with a supported treated account: A and B


def test_effective_size_by_hand(matching):
    # baseline weights 0.5 x4 and 1: (3)^2 / (4 * 0.25 + 1) = 4.5
    assert effective_size(matching.weights()[~TREATED]) == pytest.approx(4.5)
    assert effective_size(np.ones(7)) == pytest.approx(7.0)


def test_matching_is_rerun_on_resampled_counts(matching):
    counts = np.array([
        [0, 2, 1, 1, 2, 0, 1, 1, 0, 1, 1, 1],  # B has no baseline draw in this replicate: its treated drop out
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ], dtype=float)
    weights = matching.replicate_weights(counts)
    # row 0, stratum A: 2 treated draws over 4 baseline draws -> 0.5 per baseline draw
    np.testing.assert_allclose(weights[0], [0, 2, 0, 0, 1.0, 0, 0.5, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(weights[1], matching.weights())


def test_bootstrap_weights_rerun_matching_in_the_shortcut(matching):
    """Counts drawn within the (stratum, side) groups keep every stratum's totals, so the bootstrap's shortcut
    (counts times the point weights) gives what re-running matching gives, bit for bit."""
    from cohortlab.stats.bootstrap import replicate_counts

    for counts in list(replicate_counts(matching.groups, 300, seed=5))[1:]:
        np.testing.assert_array_equal(matching.bootstrap_weights(counts), matching.replicate_weights(counts))
    # a count row that does not keep the totals (a stratum's baseline draws moved elsewhere) differs
    moved = np.ones((1, 12))
    moved[0, 4], moved[0, 9] = 0.0, 2.0
    assert not np.array_equal(matching.bootstrap_weights(moved), matching.replicate_weights(moved))


def test_no_matching_keeps_counts():
    none = match(NoMatch(), TREATED, {})
    counts = np.arange(24, dtype=float).reshape(2, 12)
    np.testing.assert_array_equal(none.replicate_weights(counts), counts)


def test_exact_strata_of_two_columns_with_nulls():
    plan = np.array(["x", None, "x", None, "x", "y"], dtype=object)
    tier = np.array([1.0, 2.0, 1.0, 2.0, np.nan, 1.0])
    treated = np.array([True, True, False, False, False, False])
    result = match(ExactMatch(method="exact", on=["plan", "tier"]), treated, {"plan": plan, "tier": tier})
    # strata: x/1 {t0, b2}, <null>/2 {t1, b3}, x/<null> {b4}, y/1 {b5}: NULL is a level of its own
    np.testing.assert_allclose(result.weights(), [1, 1, 1, 1, 0, 0])
    assert set(result.labels) == {"x / 1", "x / <null>", "y / 1", "<null> / 2"}


# --------------------------------------------------------------------------------------------- cem


def test_cem_with_given_cutpoints_by_hand():
    employees = np.array([5, 20, 60, 300, 8, 9, 30, 40, 45, 500, 700, 1000], dtype=float)
    segment = np.array(["s"] * 12, dtype=object)
    treated = np.array([True] * 4 + [False] * 8)
    result = match(CemMatch(method="cem", on=["segment"], coarsen={"employees": [10, 50, 250]}), treated,
                   {"employees": employees, "segment": segment})
    # bins [-inf,10) [10,50) [50,250) [250,inf): treated 0,1,2,3; baseline 0,0,1,1,1,3,3,3
    # bin 0: 1 treated / 2 baseline; bin 1: 1/3; bin 2 has no baseline (its treated is dropped); bin 3: 1/3
    np.testing.assert_allclose(result.weights(), [1, 1, 0, 1, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert result.facts["cutpoints"] == {"employees": [10.0, 50.0, 250.0]}
    assert "s / [10, 50)" in result.labels


def test_quantile_bins_cut_at_the_pooled_quantiles():
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, np.nan], dtype=float)
    (codes, labels), cutpoints = coarsen(values, 2)
    assert cutpoints == [4.5]  # the median of 1..8, both cohorts together
    assert codes.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert labels == ["[-inf, 4.5)", "[4.5, inf)", "<null>"]
    # quartiles of 1..8 (linear interpolation): 2.75, 4.5, 6.25
    assert coarsen(values, 4)[1] == [2.75, 4.5, 6.25]
    # repeated quantiles collapse: a column that is mostly one value has fewer bins
    assert coarsen(np.array([1.0] * 9 + [2.0]), 4)[1] == [1.0]


# -------------------------------------------------------------------------------------- propensity

# eta_b: positions 0..4; equal scores at positions 1 and 2
ETA_B = np.array([0.0, 1.0, 1.0, 3.0, 5.0])
ETA_T = np.array([1.0, 0.9, 4.2])


def test_greedy_matching_without_replacement_by_hand():
    # order by decreasing score: t2 (4.2) takes 5.0 (0.8 away, nearer than 3.0); t0 (1.0) takes position 1 (the
    # first of the tied 1.0s); t1 (0.9) takes position 2, the nearest still free
    assert [chosen.tolist() for chosen in greedy(ETA_T, ETA_B, 1, None)] == [[1], [2], [4]]
    # a second round: t2 takes 3.0, t0 takes 0.0, nothing is left for t1
    assert [chosen.tolist() for chosen in greedy(ETA_T, ETA_B, 2, None)] == [[1, 0], [2], [4, 3]]
    # a caliper of 0.5: nothing is within reach of t2, which is dropped
    assert [chosen.tolist() for chosen in greedy(ETA_T, ETA_B, 1, 0.5)] == [[1], [2], []]


def test_ties_go_to_the_first_account_in_input_order():
    # 2.0 is as far from 1.0 as from 3.0: the earlier position wins, whichever side it is on
    assert greedy(np.array([2.0]), np.array([1.0, 3.0]), 1, None)[0].tolist() == [0]
    assert greedy(np.array([2.0]), np.array([3.0, 1.0]), 1, None)[0].tolist() == [0]
    assert nearest(np.array([2.0]), np.array([3.0, 1.0]), 1, None).tolist() == [[0]]
    # treated with equal scores are served in input order
    assert [c.tolist() for c in greedy(np.array([1.0, 1.0]), np.array([1.0, 1.1]), 1, None)] == [[0], [1]]


def test_nearest_with_replacement_by_hand():
    found = nearest(ETA_T, ETA_B, 3, None)
    # t0 (1.0): distances 1, 0, 0, 2, 4 -> positions 1, 2 (tied, input order), then 0
    # t1 (0.9): 0.9, 0.1, 0.1, 2.1, 4.1 -> 1, 2, 0 ; t2 (4.2): 4.2, 3.2, 3.2, 1.2, 0.8 -> 4, 3, 1
    assert found.tolist() == [[1, 2, 0], [1, 2, 0], [4, 3, 1]]
    assert nearest(ETA_T, ETA_B, 2, 0.95).tolist() == [[1, 2], [1, 2], [4, -1]]


def _binary_table():
    """Segment a: treated 0, 1; baseline 3, 4. Segment b: treated 2; baseline 5, 6, 7.

    A logistic model on one binary covariate is saturated: the score is each segment's treated share,
    e_a = 2/4 (logit 0) and e_b = 1/4 (logit -ln 3).
    """
    treated = np.array([True, True, True, False, False, False, False, False])
    segment = np.array(["a", "a", "b", "a", "a", "b", "b", "b"], dtype=object)
    return segment, treated


def test_the_score_is_the_maximum_likelihood_logit():
    segment, treated = _binary_table()
    score = fit_score({"segment": segment}, treated)
    np.testing.assert_allclose(score.logit, np.where(segment == "a", 0.0, -np.log(3)), atol=1e-8)
    assert score.terms == ("(intercept)", "segment=b")
    assert score.converged


def test_nearest_neighbour_matching_end_to_end_by_hand():
    segment, treated = _binary_table()
    spec = PropensityMatch(method="propensity", covariates=["segment"])
    result = match(spec, treated, {"segment": segment})
    # t0, t1 (logit 0) take baseline 3 and 4 in input order; t2 (logit -ln 3) takes 5, the first b
    np.testing.assert_allclose(result.weights(), [1, 1, 1, 1, 1, 1, 0, 0])
    assert result.subclass.tolist() == [0, 1, 2, 0, 1, 2, -1, -1]
    # 1:2 without replacement: round 1 as above; in round 2 segment a is used up, so t0 and t1 reach to the
    # b accounts 6 and 7, and t2, last in order, finds nothing left: t0 and t1 have two matches, t2 one
    two = match(PropensityMatch(method="propensity", covariates=["segment"], ratio=2), treated, {"segment": segment})
    np.testing.assert_allclose(two.weights(), [1, 1, 1, 0.5, 0.5, 1, 0.5, 0.5])
    # 1:2 with replacement: each a-treated takes 3 and 4 (1/2 each), t2 takes 5 and 6
    again = match(PropensityMatch(method="propensity", covariates=["segment"], ratio=2, replace=True), treated,
                  {"segment": segment})
    np.testing.assert_allclose(again.weights(), [1, 1, 1, 1, 1, 0.5, 0.5, 0])


def test_caliper_is_in_pooled_sds_of_the_logit():
    segment, treated = _binary_table()
    logit = np.where(segment == "a", 0.0, -np.log(3))
    # treated logits 0, 0, -ln3; baseline 0, 0, -ln3 x3: sample variances by hand
    var_t = np.var([0, 0, -np.log(3)], ddof=1)
    var_b = np.var([0, 0, -np.log(3), -np.log(3), -np.log(3)], ddof=1)
    assert pooled_sd(logit, treated) == pytest.approx(np.sqrt((var_t + var_b) / 2))
    result = match(PropensityMatch(method="propensity", covariates=["segment"], caliper=0.2), treated,
                   {"segment": segment})
    assert result.facts["caliper_logit"] == pytest.approx(0.2 * np.sqrt((var_t + var_b) / 2))


def test_exact_strata_keep_matches_inside():
    # one numeric covariate; plan must agree: t0 (plan x) is nearest to b2 in score but b2 is plan y
    x = np.array([0.0, 3.0, 0.1, 2.0, 3.1, 0.2])
    plan = np.array(["x", "y", "y", "x", "x", "x"], dtype=object)
    treated = np.array([True, True, False, False, False, False])
    spec = PropensityMatch(method="propensity", covariates=["x"], exact=["plan"])
    result = match(spec, treated, {"x": x, "plan": plan})
    weights = result.weights()
    # t0 (plan x, x=0) must take b5 (plan x, x=0.2), not b2 (plan y, x=0.1); t1 (plan y) can only take b2
    np.testing.assert_allclose(weights, [1, 1, 1, 0, 0, 1])


def test_replicates_rematch_with_replacement_among_drawn_accounts():
    segment, treated = _binary_table()
    result = match(PropensityMatch(method="propensity", covariates=["segment"], replace=True), treated,
                   {"segment": segment})
    np.testing.assert_allclose(result.weights(), [1, 1, 1, 2, 0, 1, 0, 0])  # both a-treated take 3, t2 takes 5
    counts = np.array([
        [1, 2, 0, 0, 1, 0, 0, 1],  # 3 undrawn: the a-treated (1 + 2 draws) take 4; t2 undrawn
        [1, 0, 1, 0, 0, 0, 0, 0],  # no a-baseline drawn: t0 has no support; no b-baseline drawn: t2 neither
        [0, 0, 1, 0, 0, 0, 2, 1],  # t2 takes 6, drawn twice, as one match (the first 1 unit of 6)
    ], dtype=float)
    np.testing.assert_allclose(result.replicate_weights(counts), [
        [1, 2, 0, 0, 3, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0, 1, 0],
    ])


def test_replicates_resample_matched_sets_without_replacement():
    segment, treated = _binary_table()
    result = match(PropensityMatch(method="propensity", covariates=["segment"]), treated, {"segment": segment})
    counts = np.array([[2, 0, 1, 5, 5, 5, 5, 5]], dtype=float)  # baseline counts play no part
    # t0 twice brings its match 3 twice; t1 undrawn leaves 4 out; t2 brings 5
    np.testing.assert_allclose(result.replicate_weights(counts), [[2, 0, 1, 2, 0, 1, 0, 0]])


def test_odds_weighting_with_a_saturated_score_is_exact_matching():
    segment, treated = _binary_table()
    result = match(PropensityMatch(method="propensity", covariates=["segment"], weighting="odds"), treated,
                   {"segment": segment})
    # odds: a 1, b 1/3; the baseline sums to 2 + 1 = 3, the treated count, so no rescaling
    np.testing.assert_allclose(result.weights(), [1, 1, 1, 1, 1, 1 / 3, 1 / 3, 1 / 3], atol=1e-8)
    exact = match(ExactMatch(method="exact", on=["segment"]), treated, {"segment": segment})
    np.testing.assert_allclose(result.weights(), exact.weights(), atol=1e-8)


def test_trim_drops_accounts_whose_score_is_near_one():
    segment = np.array(["a", "a", "c", "c", "c", "a", "a", "c"], dtype=object)
    treated = np.array([True, True, True, True, True, False, False, False])
    # e_a = 2/4, e_c = 3/4: with trim 0.3 every account with e > 0.7 goes, treated ones as unsupported
    result = match(PropensityMatch(method="propensity", covariates=["segment"], weighting="odds", trim=0.3), treated,
                   {"segment": segment})
    np.testing.assert_allclose(result.weights(), [1, 1, 0, 0, 0, 1, 1, 0], atol=1e-8)
    assert result.dropped().sum() == 3


def test_odds_replicates_take_one_newton_step_towards_the_refit():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(size=n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(0.5 * x - 0.7)))
    result = match(PropensityMatch(method="propensity", covariates=["x"], weighting="odds"), treated, {"x": x})
    counts = rng.multinomial(n, np.full(n, 1 / n), size=1).astype(float)
    design = np.column_stack([np.ones(n), (x - x.mean()) / x.std()])
    refit = sm.GLM(treated.astype(float), design, family=sm.families.Binomial(), freq_weights=counts[0]).fit()
    odds = np.exp(design @ refit.params)
    expected = np.where(treated, counts[0], counts[0] * odds)
    expected[~treated] *= expected[treated].sum() / expected[~treated].sum()
    # one Newton step from the full-data fit lands within 1% of the full refit's weights
    np.testing.assert_allclose(result.replicate_weights(counts)[0], expected, rtol=0.01)


def test_design_matrix_drops_dependent_columns_and_flags_nulls():
    a = np.array([1.0, 2.0, np.nan, 4.0])
    twin = np.array(["p", "q", "p", "q"], dtype=object)
    copy = np.array(["p", "q", "p", "q"], dtype=object)
    design, terms = design_matrix({"a": a, "plan": twin, "again": copy})
    assert terms == ("(intercept)", "a", "a=<null>", "plan=q")  # again=q repeats plan=q
    # a standardized over its present values (mean 7/3, population SD), its null at 0
    present = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(design[:, 1], np.r_[(present[:2] - 7 / 3) / present.std(), 0.0,
                                                   (4.0 - 7 / 3) / present.std()])


def test_matching_is_deterministic():
    rng = np.random.default_rng(11)
    n = 500
    covariates = {"x": rng.normal(size=n), "plan": rng.choice(np.array(["p", "q"], dtype=object), n)}
    treated = rng.random(n) < 0.3
    for spec in (PropensityMatch(method="propensity", covariates=["x", "plan"], caliper=0.2),
                 PropensityMatch(method="propensity", covariates=["x"], exact=["plan"], replace=True, ratio=3),
                 CemMatch(method="cem", coarsen={"x": 5}, on=["plan"])):
        first, second = match(spec, treated, covariates), match(spec, treated, covariates)
        assert first.weights().tobytes() == second.weights().tobytes()
        assert first.subclass.tobytes() == second.subclass.tobytes()


# ----------------------------------------------------------------------------------------- balance


def test_balance_by_hand(matching):
    rows = {row.covariate: row for row in balance_table({"segment": SEGMENT}, TREATED, matching.weights())}
    assert list(rows) == ["segment=A", "segment=B", "segment=C", "segment=D"]
    # B: p_T = 1/4, p_B = 1/8, SD of the unmatched treated sqrt(.25 * .75)
    assert rows["segment=B"].smd_before == pytest.approx((0.25 - 0.125) / np.sqrt(0.25 * 0.75))
    # after: treated weights (1,1,1,0) -> p_T = 1/3; baseline weights (0.5 x4, 1) -> p_B = 1/3
    assert rows["segment=B"].smd_after == pytest.approx(0.0, abs=1e-12)
    assert rows["segment=C"].smd_before == pytest.approx(0.25 / np.sqrt(0.25 * 0.75))
    # D: treated SD is 0, so the pooled sqrt((0 + 3/8 * 5/8) / 2) is the denominator
    assert rows["segment=D"].smd_before == pytest.approx(-0.375 / np.sqrt(0.375 * 0.625 / 2))
    assert rows["segment=A"].smd_before == pytest.approx(0.0)
    # binaries have no variance ratio; their eCDF maximum is the difference of proportions
    assert np.isnan(rows["segment=B"].variance_ratio) and rows["segment=B"].kind == "binary"
    assert rows["segment=B"].ecdf_max == pytest.approx(0.0, abs=1e-12)
    assert rows["segment=C"].ecdf_max == pytest.approx(0.0, abs=1e-12)  # the dropped treated no longer counts


def test_balance_of_a_numeric_covariate():
    values = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 2.0, 2.0])
    treated = np.array([True] * 4 + [False] * 4)
    row = balance_table({"employees": values}, treated, np.ones(8))[0]
    # treated mean 2.5, sample SD sqrt(5/3); baseline mean 1.5
    assert row.smd_before == pytest.approx(1.0 / np.sqrt(5 / 3))
    # sample variances 5/3 and 1/3
    assert row.variance_ratio == pytest.approx(5.0)
    # eCDFs at 2: treated 0.5, baseline 1.0
    assert row.ecdf_max == pytest.approx(0.5)
    assert row.kind == "numeric"


def test_weighted_balance_after_matching_by_hand():
    values = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 2.0, 2.0])
    treated = np.array([True] * 4 + [False] * 4)
    weights = np.array([1, 1, 1, 1, 2, 1, 1, 0], dtype=float)
    row = balance_table({"employees": values}, treated, weights)[0]
    # baseline after: mean (2 + 1 + 2) / 4 = 1.25; SMD after (2.5 - 1.25) / sqrt(5/3)
    assert row.smd_after == pytest.approx(1.25 / np.sqrt(5 / 3))
    # weighted variance: sum w (x - 1.25)^2 = 2(.0625) + .0625 + .5625 = .75, times 4 / (16 - 6) = 0.3
    assert row.variance_ratio == pytest.approx((5 / 3) / 0.3)
    # eCDF at 1: treated .25, baseline 3/4; at 2: .5 vs 1
    assert row.ecdf_max == pytest.approx(0.5)


def test_a_number_with_nulls_gets_a_null_row():
    values = np.array([1.0, np.nan, 3.0, 1.0, 1.0, np.nan])
    treated = np.array([True, True, True, False, False, False])
    rows = balance_table({"employees": values}, treated, np.ones(6))
    assert [row.covariate for row in rows] == ["employees", "employees=<null>"]
    # present values: treated 1, 3 (mean 2, SD sqrt 2); baseline 1, 1
    assert rows[0].smd_before == pytest.approx(1 / np.sqrt(2))
    # null shares 1/3 in both cohorts
    assert rows[1].smd_before == pytest.approx(0.0)


def test_cohorts_constant_at_different_values_are_not_balanced():
    treated = np.array([True, True, True, False, False, False, False])
    plan = np.array([10.0, 10, 10, 20, 20, 20, 20])
    row = balance_table({"plan": plan}, treated, np.ones(7))[0]
    # both SDs are 0: no finite SMD describes a difference of 10, and the distributions do not overlap
    assert row.smd_before == -np.inf and row.ecdf_max == pytest.approx(1.0)
    assert balance_table({"plan": np.full(7, 3.0)}, treated, np.ones(7))[0].smd_before == 0.0


def test_variance_ratio_needs_two_weighted_accounts_in_each_cohort():
    treated = np.array([True, False, False, False])
    values = np.array([1.0, 5.0, 5.0, 9.0])
    weights = np.array([1.0, 0.5, 0.5, 0.0])  # baseline variance 0, treated undefined (one account)
    assert np.isnan(balance_table({"y": values}, treated, weights)[0].variance_ratio)


@pytest.mark.parametrize("spec", [ExactMatch(method="exact", on=["s"]), CemMatch(method="cem", coarsen={"x": 3}),
                                  PropensityMatch(method="propensity", covariates=["x"])])
def test_no_accounts_at_all(spec):
    result = match(spec, np.zeros(0, dtype=bool), {"s": np.zeros(0, dtype=object), "x": np.zeros(0)})
    assert result.weights().shape == (0,)
    assert result.replicate_weights(np.ones((3, 0))).shape == (3, 0)


# ---------------------------------------------------------------------------------------- registry


def test_every_method_has_a_spec_model_and_a_matcher():
    variants = typing.get_args(typing.get_args(AnyMatchSpec)[0])
    tags = [typing.get_args(variant.model_fields["method"].annotation)[0] for variant in variants]
    assert tags == list(METHODS) == ["none", "exact", "cem", "propensity"]


def test_a_method_model_rejects_the_keys_of_other_methods():
    with pytest.raises(ValidationError) as error:
        ExactMatch(method="exact", on=["segment"], caliper=0.2)
    assert [(item["type"], item["loc"]) for item in error.value.errors()] == [("extra_forbidden", ("caliper",))]
