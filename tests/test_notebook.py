"""The notebook API on the two demo experiments: the results frame holds the JSON report's values, results
are found by metric name, and the curves and per-account inputs reproduce the results when recomputed by
hand from them."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cohortlab
from cohortlab.report.model import ResultLookupError

ROOT = Path(__file__).resolve().parents[1]
COHORTS = ("treatment", "baseline")


@pytest.fixture(scope="module")
def onboarding():
    return cohortlab.compare(ROOT / "experiments" / "onboarding-v2.yaml", replicates=200)


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """orchestrated-journey broken down by segment, compared from a copy of the demo project's files."""
    root = tmp_path_factory.mktemp("journey")
    shutil.copytree(ROOT / "configs", root / "configs")
    (root / "experiments").mkdir()
    path = root / "experiments" / "orchestrated-journey.yaml"
    path.write_text((ROOT / "experiments" / "orchestrated-journey.yaml").read_text() + "breakdown: [segment]\n")
    return cohortlab.compare(path, replicates=200)


def _same(frame_value, json_value) -> bool:
    """A frame cell holds the JSON's value, null as pandas' missing value (None, NaN or NA)."""
    if json_value is None or isinstance(frame_value, dict):
        return frame_value == json_value if json_value is not None else pd.isna(frame_value)
    return not pd.isna(frame_value) and frame_value == json_value


@pytest.mark.parametrize("name", ["onboarding", "journey"])
def test_to_frame_holds_the_json_results(name, request):
    report = request.getfixturevalue(name)
    results = report.to_dict()["results"]
    frame = report.to_frame()
    assert len(frame) == len(results) == len(report.results)
    # overall rows first, then the segments in report order
    segments = [None if pd.isna(segment) else segment for segment in frame["segment"]]
    assert segments == [None] * len(report.overall) + [result.segment for result in report.breakdown]
    if name == "journey":
        assert len(report.breakdown) == 3 * len(report.overall)  # Enterprise, Mid-Market, SMB
        assert "unavailable" in set(frame["status"])  # Enterprise's retention: its nulls are covered too
    expected_columns = ["key", "segment"]
    for field in results[0]:
        if field in ("ci", "ci_relative", "ci_adjusted", "ci_relative_adjusted"):
            expected_columns += [f"{field}_low", f"{field}_high"]
        elif field in ("n", "effective_n"):
            expected_columns += [f"{field}_treatment", f"{field}_baseline"]
        elif field != "segment":
            expected_columns.append(field)
    assert list(frame.columns) == expected_columns
    ordered = [*report.overall, *report.breakdown]
    for row, (result, json) in enumerate(zip(ordered, results)):
        assert json["segment"] == result.segment and json["metric"] == result.metric
        assert frame.at[row, "key"] == result.key
        for field, value in json.items():
            if field in ("ci", "ci_relative", "ci_adjusted", "ci_relative_adjusted"):
                pairs = zip((f"{field}_low", f"{field}_high"), value)
            elif field in ("n", "effective_n"):
                pairs = ((f"{field}_{side}", value.get(side)) for side in COHORTS)
            else:
                pairs = [(field, value)]
            for column, expected in pairs:
                assert _same(frame.at[row, column], expected), (result.key, result.segment, column)
    assert str(frame["n_treatment"].dtype) == "Int64"


def test_result_finds_a_metric_by_name_when_one_result_has_it(onboarding, journey):
    assert onboarding.result("retention") is onboarding.result("retention:3")
    assert onboarding.result("retention").params == {"months": 3}
    assert onboarding.result("nrr").key == "nrr:12"
    assert journey.result("cost_per").key == "cost_per:opportunity"
    # a full key wins over a name: `cac` is the CAC over all cost though `cac:paid` has the name too
    assert journey.result("cac").key == "cac" and journey.result("cac:paid").params == {"spend": "paid"}
    # the segment argument keeps working, with names too
    smb = journey.result("retention", "segment=SMB")
    assert smb.segment == "segment=SMB" and smb.key == "retention:3"
    assert journey.result("cost_per:opportunity", "segment=Enterprise").segment == "segment=Enterprise"


def test_an_ambiguous_name_lists_the_keys_to_pick_from(onboarding):
    with pytest.raises(KeyError) as error:
        onboarding.result("ltv")
    assert isinstance(error.value, ResultLookupError) and error.value.ambiguous
    assert error.value.candidates == ("ltv:modeled:36", "ltv:earned:12")
    assert str(error.value) == ("metric 'ltv' has 2 results: ltv:modeled:36, ltv:earned:12; pass one of these "
                                "keys, e.g. report.result('ltv:modeled:36')")
    assert onboarding.result("ltv:modeled:36").params == {"basis": "modeled", "months": 36}


def test_an_unknown_key_or_segment_lists_what_there_is(onboarding, journey):
    with pytest.raises(ResultLookupError) as error:
        onboarding.result("churn")
    assert not error.value.ambiguous
    assert error.value.candidates == tuple(result.key for result in onboarding.results)
    assert "no result for metric 'churn'; the keys are: ltv:modeled:36, ltv:earned:12, ltv_cac" in str(error.value)
    with pytest.raises(ResultLookupError, match="no segment 'segment=Startup'; the segments are: "
                       "segment=Enterprise, segment=Mid-Market, segment=SMB"):
        journey.result("cac", "segment=Startup")
    with pytest.raises(ResultLookupError, match="the experiment has no breakdown"):
        onboarding.result("cac", "segment=SMB")


def _at(curve, cohort: str, month: int, column: str = "value") -> float:
    rows = curve[(curve["cohort"] == cohort) & (curve["month"] == month)]
    assert len(rows) == 1
    return float(rows[column].iloc[0])


def test_the_retention_curve_is_kaplan_meier_with_greenwood_bounds(onboarding):
    result = onboarding.result("retention:3")
    curve = onboarding.curve("retention")
    assert list(curve.columns) == ["cohort", "month", "at_risk", "churned", "value", "standard_error", "ci_low",
                                   "ci_high"]
    assert list(curve["month"]) == [0, 1, 2, 3] * 2
    accounts = onboarding.accounts_frame()
    for side in COHORTS:
        assert _at(curve, side, 3) == pytest.approx(getattr(result, side), rel=1e-12)
        details = result.details[side]
        assert [_at(curve, side, 3, "ci_low"), _at(curve, side, 3, "ci_high")] == pytest.approx(
            details["greenwood_ci"], rel=1e-12)
        assert _at(curve, side, 3, "standard_error") == pytest.approx(details["greenwood_se"], rel=1e-12)
        # Kaplan–Meier by hand from each customer's churn month and months at risk, weighted by matching
        rows = accounts[(accounts["cohort"] == side) & accounts["retention:3.counted"]]
        weight, at_risk = rows["weight"].to_numpy(), rows["retention:3.months_at_risk"].to_numpy()
        churn = rows["retention:3.churn_month"].to_numpy()
        survival = 1.0
        for month in range(4):
            exposed = weight[at_risk > month].sum()
            churned = weight[churn == month].sum()
            survival *= 1.0 - churned / exposed
            assert _at(curve, side, month, "at_risk") == pytest.approx(exposed, rel=1e-12)
            assert _at(curve, side, month, "churned") == pytest.approx(churned, rel=1e-12, abs=1e-12)
            assert _at(curve, side, month) == pytest.approx(survival, rel=1e-12)
            # Greenwood's bounds bracket the curve, inside [0, 1]
            assert 0 <= _at(curve, side, month, "ci_low") <= survival <= _at(curve, side, month, "ci_high") <= 1


def test_the_earned_ltv_curve_cumulates_the_discounted_monthly_margin(onboarding):
    result = onboarding.result("ltv:earned:12")
    curve = onboarding.curve("ltv:earned:12")
    assert list(curve.columns) == ["cohort", "month", "customers", "margin", "value"]
    discount = 1.1 ** (-np.arange(12) / 12)  # the demo's 10% a year
    for side in COHORTS:
        assert _at(curve, side, 12) == pytest.approx(getattr(result, side), rel=1e-12)
        mine = curve[curve["cohort"] == side]
        assert list(mine["customers"]) == result.details[side]["customers_observed_by_month"]
        assert mine["value"].to_numpy() == pytest.approx(np.cumsum(mine["margin"].to_numpy() * discount), rel=1e-12)
    # the baseline's customers are all observed for 12 months: its earned LTV is the weighted mean of their
    # discounted margins
    accounts = onboarding.accounts_frame()
    baseline = accounts[(accounts["cohort"] == "baseline") & accounts["ltv:earned:12.customer"]]
    assert (baseline["ltv:earned:12.observed_months"] == 12).all()
    weight = baseline["weight"].to_numpy()
    assert weight @ baseline["ltv:earned:12.discounted_margin"].to_numpy() / weight.sum() == pytest.approx(
        result.baseline, rel=1e-12)


def test_the_modeled_ltv_curve_is_earned_then_extrapolated_to_the_horizon(onboarding):
    result = onboarding.result("ltv:modeled:36")
    curve = onboarding.curve("ltv:modeled:36")
    assert list(curve.columns) == ["cohort", "month", "customers", "margin", "extrapolated", "value"]
    discount = 1.1 ** (-np.arange(36) / 12)
    for side in COHORTS:
        details = result.details[side]
        mine = curve[curve["cohort"] == side]
        assert list(mine["month"]) == list(range(1, 37))
        assert _at(curve, side, 36) == pytest.approx(getattr(result, side), rel=1e-12)
        observed = details["observed_months"]
        assert list(mine["extrapolated"]) == [month > observed for month in range(1, 37)]
        assert _at(curve, side, observed) == pytest.approx(details["earned"], rel=1e-12)
        assert mine["value"].to_numpy() == pytest.approx(np.cumsum(mine["margin"].to_numpy() * discount), rel=1e-12)
        # the earned months agree with the earned LTV's curve where both are observed
        earned = onboarding.curve("ltv:earned:12")
        assert mine["margin"].to_numpy()[:12] == pytest.approx(
            earned[earned["cohort"] == side]["margin"].to_numpy(), rel=1e-12)


def test_the_payback_curve_reaches_cac_at_the_payback_month(onboarding):
    result, cac = onboarding.result("payback"), onboarding.result("cac")
    curve = onboarding.curve("payback")
    for side in COHORTS:
        mine = curve[curve["cohort"] == side]
        assert mine["cac"].to_numpy() == pytest.approx(np.full(36, getattr(cac, side)), rel=1e-12)
        cumulative, margin = mine["value"].to_numpy(), mine["margin"].to_numpy()
        assert cumulative == pytest.approx(np.cumsum(margin), rel=1e-12)
        month = int(np.argmax(cumulative >= getattr(cac, side)))  # 0-based: month + 1 reaches CAC
        before = cumulative[month - 1] if month else 0.0
        assert month + (getattr(cac, side) - before) / margin[month] == pytest.approx(getattr(result, side),
                                                                                   rel=1e-12)
    ltv_cac = onboarding.curve("ltv_cac")
    for side in COHORTS:
        assert _at(ltv_cac, side, 36) == pytest.approx(getattr(onboarding.result("ltv_cac"), side), rel=1e-12)
        assert _at(ltv_cac, side, 36, "ltv") == pytest.approx(getattr(onboarding.result("ltv:modeled:36"), side),
                                                              rel=1e-12)


def test_a_metric_without_a_curve_says_so(onboarding):
    assert sorted(onboarding.curves()) == sorted(["ltv:modeled:36", "ltv:earned:12", "ltv_cac", "payback",
                                                  "retention:3"])
    with pytest.raises(ResultLookupError, match="no curve for 'cac': CAC has no curve; the curves are: "
                       "ltv:modeled:36, ltv:earned:12, ltv_cac, payback, retention:3"):
        onboarding.curve("cac")


def test_accounts_frame_reproduces_the_results(onboarding):
    accounts = onboarding.accounts_frame()
    weights = onboarding.accounts.rows()
    assert list(accounts.columns[:4]) == ["account_id", "cohort", "weight", "subclass"]
    for column in ("account_id", "cohort", "weight", "subclass"):
        assert list(accounts[column]) == list(weights[column])
    for side in COHORTS:
        assert (accounts["cohort"] == side).sum() == onboarding.cohorts[side].accounts
    for result in onboarding.overall:
        counted = accounts[f"{result.key}.counted"]
        for side in COHORTS:
            assert int((counted & (accounts["cohort"] == side)).sum()) == result.n[side], result.key
    for side in COHORTS:
        rows = accounts[accounts["cohort"] == side]
        weight = rows["weight"].to_numpy()
        # CAC: each entrant's cost over the customers won, weighted by matching
        cac = weight @ rows["cac.cost"].to_numpy() / (weight @ rows["cac.won"].to_numpy())
        assert cac == pytest.approx(getattr(onboarding.result("cac"), side), rel=1e-12)
        # NRR: month-12 revenue over month-0 revenue of the customers observed at 12
        nrr = weight @ rows["nrr:12.ending"].to_numpy() / (weight @ rows["nrr:12.starting"].to_numpy())
        assert nrr == pytest.approx(getattr(onboarding.result("nrr"), side), rel=1e-12)
    treatment = accounts[accounts["cohort"] == "treatment"]
    assert (treatment["weight"] == 1).all()  # exact matching keeps every treatment account here
    customers = onboarding.result("cac").details["treatment"]["reached"]
    assert treatment["cac.cost"].sum() / customers == pytest.approx(onboarding.result("cac").treatment, rel=1e-12)


def test_funnel_metrics_reproduce_from_the_accounts_frame(journey):
    accounts = journey.accounts_frame()
    for side in COHORTS:
        rows = accounts[accounts["cohort"] == side]
        weight = rows["weight"].to_numpy()
        cost_per = weight @ rows["cost_per:opportunity.cost"].to_numpy() / (
            weight @ rows["cost_per:opportunity.reached"].to_numpy())
        assert cost_per == pytest.approx(getattr(journey.result("cost_per"), side), rel=1e-12)
        paid = weight @ rows["cac:paid.cost"].to_numpy() / (weight @ rows["cac:paid.won"].to_numpy())
        assert paid == pytest.approx(getattr(journey.result("cac:paid"), side), rel=1e-12)
        key = "conversion:qualified:opportunity:90"
        counted = rows[f"{key}.counted"].to_numpy()
        conversion = weight @ rows[f"{key}.converted"].to_numpy() / (weight @ counted)
        assert conversion == pytest.approx(getattr(journey.result("conversion"), side), rel=1e-12)


def test_the_velocity_curve_gives_the_median_days_to_convert(journey):
    """Velocity is the day at which the share converted reaches half its share at the window's end, the
    curve joined linearly from (0, 0)."""
    result = journey.result("velocity")
    curve = journey.curve("velocity")
    assert list(curve.columns) == ["cohort", "day", "value"]
    for side in COHORTS:
        mine = curve[curve["cohort"] == side]
        days = np.r_[0.0, mine["day"].to_numpy(dtype=float)]
        share = np.r_[0.0, mine["value"].to_numpy()]
        assert np.all(np.diff(share) >= 0) and share[-1] <= 1
        half = share[-1] / 2
        first = int(np.argmax(share >= half))
        median = days[first - 1] + (half - share[first - 1]) / (share[first] - share[first - 1]) * (
            days[first] - days[first - 1])
        assert median == pytest.approx(getattr(result, side), rel=1e-9)


def test_notebook_values_stay_out_of_the_json_and_the_segments(journey):
    assert set(journey.to_dict()) == {"schema_version", "experiment", "as_of", "as_of_basis", "bottom_line", "settings",
                                      "cohorts", "matching", "results", "funnel", "warnings"}
    assert "curve_tables" not in repr(journey) and "account_inputs" not in repr(journey)
    overall = {result.key for result in journey.overall}
    assert set(journey.account_inputs) == overall and set(journey.curve_tables) <= overall
    size = len(journey.accounts.account_id)
    for columns in journey.account_inputs.values():
        assert all(values.shape == (size,) for values in columns.values())
    for tables in journey.curve_tables.values():
        assert all(len(column) <= 400 for table in tables.values() for column in table.values())
    assert math.isfinite(journey.result("retention", "segment=SMB").treatment)


@pytest.fixture(scope="module")
def milestones(tmp_path_factory):
    """orchestrated-journey with time to first value and early churn in place of retention."""
    root = tmp_path_factory.mktemp("milestones")
    shutil.copytree(ROOT / "configs", root / "configs")
    (root / "experiments").mkdir()
    text = (ROOT / "experiments" / "orchestrated-journey.yaml").read_text()
    retention = "  - {metric: retention, months: 3}\n"
    assert retention in text
    path = root / "experiments" / "orchestrated-journey.yaml"
    path.write_text(text.replace(retention, "  - {metric: time_to_value, milestone: first_value}\n"
                                            "  - {metric: early_churn, months: 3}\n"))
    return cohortlab.compare(path, replicates=50)


def test_time_to_value_and_early_churn_curves(milestones):
    result = milestones.result("time_to_value")
    curve = milestones.curve("time_to_value")
    accounts = milestones.accounts_frame()
    for side in COHORTS:
        mine = curve[curve["cohort"] == side]
        days = np.r_[0.0, mine["day"].to_numpy(dtype=float)]
        share = np.r_[0.0, mine["value"].to_numpy()]
        first = int(np.argmax(share >= 0.5))  # the median: where the share reaching the milestone is one half
        median = days[first - 1] + (0.5 - share[first - 1]) / (share[first] - share[first - 1]) * (
            days[first] - days[first - 1])
        assert median == pytest.approx(getattr(result, side), rel=1e-9)
        rows = accounts[(accounts["cohort"] == side) & accounts["time_to_value:first_value:90.counted"]]
        assert rows["time_to_value:first_value:90.reached"].sum() == result.details[side]["reached"]
        assert rows["time_to_value:first_value:90.days"].notna().all()
    churn = milestones.result("early_churn")
    curve = milestones.curve("early_churn")
    for side in COHORTS:
        assert _at(curve, side, 3) == pytest.approx(getattr(churn, side), rel=1e-12)
        assert [_at(curve, side, 3, "ci_low"), _at(curve, side, 3, "ci_high")] == pytest.approx(
            churn.details[side]["early_churn_ci"], rel=1e-12)
