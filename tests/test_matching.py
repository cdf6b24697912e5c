"""Exact matching weights, their replicate re-run, and balance diagnostics, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from cohortlab.match.balance import balance_table
from cohortlab.match import effective_size, match
from cohortlab.spec.models import MatchSpec

# treated: strata A, A, B, C ; baseline: A, A, A, A, B, D, D, D
SEGMENT = np.array(["A", "A", "B", "C", "A", "A", "A", "A", "B", "D", "D", "D"], dtype=object)
TREATED = np.array([True] * 4 + [False] * 8)


@pytest.fixture
def matching():
    return match(MatchSpec(method="exact", on=["segment"]), TREATED, {"segment": SEGMENT})


def test_att_weights_by_hand(matching):
    # A: 2 treated / 4 baseline -> 0.5 each; B: 1/1 -> 1; C has no baseline -> treated dropped; D has no treated -> 0
    expected = [1, 1, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0, 0]
    np.testing.assert_allclose(matching.weights(), expected)
    # the weighted baseline sums to the supported treated count
    assert matching.weights()[~TREATED].sum() == pytest.approx(3.0)


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


def test_no_matching_keeps_counts():
    none = match(MatchSpec(method="none"), TREATED, {})
    counts = np.arange(24, dtype=float).reshape(2, 12)
    np.testing.assert_array_equal(none.replicate_weights(counts), counts)


def test_balance_by_hand(matching):
    rows = {row.covariate: row for row in balance_table({"segment": SEGMENT}, TREATED, matching.weights())}
    assert list(rows) == ["segment=A", "segment=B", "segment=C", "segment=D"]
    # B: p_T = 1/4, p_B = 1/8, SD of the unmatched treated sqrt(.25 * .75)
    assert rows["segment=B"].smd_before == pytest.approx((0.25 - 0.125) / np.sqrt(0.25 * 0.75))
    # after: treated weights (1,1,1,0) -> p_T = 1/3; baseline weights (0.5 x4, 1) -> p_B = 1/3
    assert rows["segment=B"].smd_after == pytest.approx(0.0, abs=1e-12)
    assert rows["segment=C"].smd_before == pytest.approx(0.25 / np.sqrt(0.25 * 0.75))
    # D: treated SD is 0, so the pooled SD sqrt((0 + 3/8 * 5/8) / 2) is the denominator
    assert rows["segment=D"].smd_before == pytest.approx(-0.375 / np.sqrt(0.375 * 0.625 / 2))
    assert rows["segment=A"].smd_before == pytest.approx(0.0)
    # variance ratio after matching for B: (1/3 * 2/3) / (1/3 * 2/3)
    assert rows["segment=B"].variance_ratio == pytest.approx(1.0)
    assert rows["segment=B"].ecdf_max == pytest.approx(0.0, abs=1e-12)


def test_balance_of_a_numeric_covariate():
    values = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 2.0, 2.0])
    treated = np.array([True] * 4 + [False] * 4)
    row = balance_table({"employees": values}, treated, np.ones(8))[0]
    # treated mean 2.5, SD sqrt(1.25) (population); baseline mean 1.5
    assert row.smd_before == pytest.approx(1.0 / np.sqrt(1.25))
    # variance ratio 1.25 / 0.25
    assert row.variance_ratio == pytest.approx(5.0)
    # eCDFs at 2: treated 0.5, baseline 1.0
    assert row.ecdf_max == pytest.approx(0.5)
