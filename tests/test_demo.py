"""The demo dataset: determinism, the data contract, the assignment rules, and its truth.

The truth is checked three ways: against the generated data where a cohort is fully
observed (tolerance: 4 standard errors of the sample), against closed forms built from
the generator's parameter tables (tolerance: well above the truth's Monte-Carlo error,
whose relative SD is 0.1-0.4% across truth seeds), and for the documented directions.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from cohortlab.data import demo
from cohortlab.data.demo import DEMO_AS_OF, generate
from cohortlab.data.demo_truth import DISCOUNT_RATE, GROSS_MARGIN, METRICS, Truth, true_values

AS_OF = pd.Timestamp(DEMO_AS_OF)
WINDOWS = {  # (experiment, arm) -> (column, value, entered from, entered to)
    ("onboarding-v2", "treatment"): ("onboarding_flow", "guided_v2", "2025-03-01", "2025-08-31"),
    ("onboarding-v2", "baseline"): ("onboarding_flow", "classic", "2024-09-01", "2025-02-28"),
    ("orchestrated-journey", "treatment"): ("journey", "orchestrated", "2025-10-01", "2026-03-31"),
    ("orchestrated-journey", "baseline"): ("journey", "standard", "2025-04-01", "2025-09-30"),
}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return generate(7)


@pytest.fixture(scope="module")
def panel(data) -> pd.DataFrame:
    """One row per account: won/opportunity flags, allocated cost, acquisition month."""
    accounts = data["accounts"].set_index("account_id")
    stages = data["stages"]
    touches, spend = data["touches"], data["spend"]
    per_day = touches.groupby(["campaign", "at"]).size().rename("n_touches").reset_index()
    cost = (touches.merge(per_day, on=["campaign", "at"])
            .merge(spend.rename(columns={"date": "at"})[["campaign", "at", "amount"]], on=["campaign", "at"]))
    cost["share"] = cost["amount"] / cost["n_touches"]
    accounts["cost"] = cost.groupby("account_id")["share"].sum().reindex(accounts.index, fill_value=0.0)
    for stage in ("opportunity", "customer"):
        at = stages[stages["stage"] == stage].set_index("account_id")["at"]
        accounts[f"{stage}_at"] = at.reindex(accounts.index)
    return accounts


def _cohort(panel: pd.DataFrame, experiment: str, arm: str) -> pd.DataFrame:
    column, value, start, end = WINDOWS[(experiment, arm)]
    entered = panel["created_at"].between(pd.Timestamp(start), pd.Timestamp(end))
    return panel[entered & (panel[column] == value)]


def _ratio(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Σnum/Σden with its delta-method standard error (accounts independent)."""
    r = num.sum() / den.sum()
    return r, float(np.sqrt(((num - r * den) ** 2).sum()) / den.sum())


def _month_index(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month


def _tenure_matrix(data, customers: pd.DataFrame, months: int) -> np.ndarray:
    """Revenue by tenure month 0..months-1 (0 after churn) for the given customers."""
    revenue = data["revenue"]
    revenue = revenue[revenue["account_id"].isin(customers.index)]
    won_month = _month_index(customers["customer_at"]).reindex(revenue["account_id"]).to_numpy()
    tenure = _month_index(revenue["month"]).to_numpy() - won_month
    row = customers.index.get_indexer(revenue["account_id"])
    out = np.zeros((len(customers), months))
    keep = tenure < months
    out[row[keep], tenure[keep]] = revenue["amount"].to_numpy()[keep]
    return out


# --- determinism and contract -------------------------------------------------------

def test_same_seed_gives_identical_tables_and_other_seed_differs(data):
    again = generate(7)
    assert set(data) == {"accounts", "stages", "revenue", "spend", "touches", "milestones"}
    for name in data:
        pd.testing.assert_frame_equal(data[name], again[name])
    other = generate(8, entrants=2_000)
    assert not other["accounts"].equals(data["accounts"].iloc[:2_000])


def test_contract(data):
    accounts = data["accounts"]
    ids = set(accounts["account_id"])
    assert accounts["account_id"].is_unique
    assert accounts["account_id"].str.fullmatch(r"A\d{6}").all()
    for name in ("stages", "revenue", "touches", "milestones"):
        assert data[name]["account_id"].isin(ids).all(), name
    for name, column in (("accounts", "created_at"), ("stages", "at"), ("revenue", "month"),
                         ("spend", "date"), ("touches", "at"), ("milestones", "at")):
        assert data[name][column].max() <= AS_OF, name
        assert data[name][column].notna().all(), name
    assert (data["revenue"]["amount"] > 0).all()
    assert (data["spend"]["amount"] >= 0).all()
    assert (data["revenue"]["month"].dt.day == 1).all()
    assert data["revenue"]["month"].max() == pd.Timestamp("2026-09-01")
    assert not data["revenue"].duplicated(["account_id", "month"]).any()
    assert set(accounts["segment"]) == set(demo.SEGMENTS)
    assert accounts["created_at"].min() >= pd.Timestamp(demo.DEMO_START)


def test_stages_are_in_order_and_within_150_days(data):
    stages = data["stages"]
    code = stages["stage"].map({s: i for i, s in enumerate(demo.STAGES)}).to_numpy()
    position = stages.groupby("account_id", sort=False).cumcount().to_numpy()
    assert (code == position).all()  # each account: lead, then the next stages, no gaps
    first = position == 0
    assert (stages["at"].diff().dt.days.to_numpy()[~first] > 0).all()
    lead = stages[first].set_index("account_id")["at"]
    won = stages[stages["stage"] == "customer"].set_index("account_id")["at"]
    assert ((won - lead.reindex(won.index)).dt.days <= 150).all()
    created = data["accounts"].set_index("account_id")["created_at"]
    assert (lead == created.reindex(lead.index)).all()
    assert lead.index.size == created.size


def test_revenue_starts_at_acquisition_and_has_no_gaps(data, panel):
    revenue = data["revenue"]
    months = revenue["month"].dt.year * 12 + revenue["month"].dt.month
    by_account = months.groupby(revenue["account_id"])
    assert (by_account.max() - by_account.min() + 1 == by_account.size()).all()
    start = revenue.groupby("account_id")["month"].min()
    won = panel["customer_at"].dropna()
    assert set(start.index) == set(won.index)  # every customer pays in month 0
    assert (start == won.reindex(start.index).dt.to_period("M").dt.to_timestamp()).all()


def test_touches_precede_the_win_and_spend_matches_touches(data, panel):
    touches = data["touches"].merge(panel["customer_at"], left_on="account_id", right_index=True)
    assert (touches["customer_at"].isna() | (touches["at"] <= touches["customer_at"])).all()
    assert set(touches.loc[touches["campaign"] == "nurture_email", "account_id"]) <= set(
        panel.index[panel["journey"] == "orchestrated"])
    spend = data["spend"]
    touched = spend[spend["campaign"] != demo.BRAND_CAMPAIGN]
    assert len(touched) == len(data["touches"].groupby(["campaign", "at"]))
    brand = spend[spend["campaign"] == demo.BRAND_CAMPAIGN]
    assert len(brand) == 36 and (brand["channel"] == "brand").all()


def test_milestones_follow_acquisition(data, panel):
    milestones = data["milestones"].merge(panel["customer_at"], left_on="account_id", right_index=True)
    assert (milestones["at"] >= milestones["customer_at"]).all()
    assert set(milestones["milestone"]) == set(demo.MILESTONES)


def test_sizes(data, panel):
    assert len(data["accounts"]) == 20_000
    shares = data["accounts"]["segment"].value_counts(normalize=True)
    np.testing.assert_allclose(shares[list(demo.SEGMENTS)], demo.SEGMENT_SHARE, atol=0.015)
    settled = panel[panel["created_at"] <= AS_OF - timedelta(days=150)]  # funnel complete
    assert 0.15 <= settled["customer_at"].notna().mean() <= 0.20


def test_assignment_rules(data):
    accounts = data["accounts"]
    guided = accounts["onboarding_flow"] == "guided_v2"
    orchestrated = accounts["journey"] == "orchestrated"
    assert not guided[accounts["created_at"] < pd.Timestamp(demo.GUIDED_START)].any()
    assert not orchestrated[accounts["created_at"] < pd.Timestamp(demo.ORCHESTRATED_START)].any()
    late = accounts[accounts["created_at"] >= pd.Timestamp(demo.GUIDED_START)]
    rate = (late["onboarding_flow"] == "guided_v2").groupby(late["segment"]).mean()
    np.testing.assert_allclose(rate[list(demo.SEGMENTS)], demo.GUIDED_PROB, atol=0.05)


def test_covariate_mix_does_not_drift_with_entry_date(data):
    accounts = data["accounts"]
    early = accounts["created_at"] < pd.Timestamp("2025-04-01")
    for column in ("segment", "channel"):
        a = accounts.loc[early, column].value_counts(normalize=True)
        b = accounts.loc[~early, column].value_counts(normalize=True)
        assert (a - b).abs().max() < 0.03, column


# --- generated data agrees with the truth ---------------------------------------------

@pytest.mark.parametrize("experiment,arm", list(WINDOWS))
def test_cac_and_cost_per_opportunity_of_generated_cohorts_match_truth(panel, experiment, arm):
    cohort = _cohort(panel, experiment, arm)  # every window's funnel is complete by as_of
    truth = true_values(experiment)
    cost = cohort["cost"].to_numpy()
    for metric, stage in (("cac", "customer_at"), ("cost_per:opportunity", "opportunity_at")):
        value, se = _ratio(cost, cohort[stage].notna().to_numpy(float))
        assert abs(value - getattr(truth[metric], arm)) < 4 * se, (metric, value, se)


@pytest.mark.parametrize("experiment,arm", list(WINDOWS))
def test_retention_3_of_generated_cohorts_matches_truth(data, panel, experiment, arm):
    customers = _cohort(panel, experiment, arm).dropna(subset=["customer_at"])
    customers = customers[customers["customer_at"] < pd.Timestamp("2026-06-01")]  # tenure 3 observed
    alive = _tenure_matrix(data, customers, 4)[:, 3] > 0
    p = getattr(true_values(experiment)["retention:3"], arm)
    assert abs(alive.mean() - p) < 4 * np.sqrt(p * (1 - p) / len(alive))


def test_earned_ltv_and_nrr_of_the_baseline_cohort_match_truth(data, panel):
    customers = _cohort(panel, "onboarding-v2", "baseline").dropna(subset=["customer_at"])
    assert customers["customer_at"].max() < pd.Timestamp("2025-10-01")  # tenure 12 observed
    revenue = _tenure_matrix(data, customers, 13)
    truth = true_values("onboarding-v2")
    discount = (1 + DISCOUNT_RATE) ** (-np.arange(12) / 12)
    ltv = GROSS_MARGIN * revenue[:, :12] @ discount
    assert abs(ltv.mean() - truth["ltv:earned:12"].baseline) < 4 * ltv.std(ddof=1) / np.sqrt(len(ltv))
    nrr, se = _ratio(revenue[:, 12], revenue[:, 0])
    assert abs(nrr - truth["nrr:12"].baseline) < 4 * se


# --- the truth: shape, directions, closed forms ------------------------------------

def test_truth_shape_and_caching():
    for experiment in ("onboarding-v2", "orchestrated-journey"):
        truth = true_values(experiment)
        assert list(truth) == list(METRICS)
        assert all(isinstance(t, Truth) for t in truth.values())
        assert true_values(experiment) is truth
    with pytest.raises(ValueError):
        true_values("no-such-experiment")
    t = Truth(treatment=3.0, baseline=1.0, counterfactual=2.0)
    assert (t.effect, t.naive_effect, t.relative_effect) == (1.0, 2.0, 0.5)


def test_onboarding_directions():
    truth = true_values("onboarding-v2")
    for metric in ("ltv:earned:12", "retention:3", "nrr:12"):
        assert truth[metric].effect > 0, metric
        assert truth[metric].naive_effect > truth[metric].effect, metric  # confounded upward
    for metric in ("cac", "cost_per:opportunity"):
        assert abs(truth[metric].relative_effect) < 0.01, metric
        assert truth[metric].naive_effect > 0, metric  # the treated mix is costlier to win


def test_orchestrated_directions():
    truth = true_values("orchestrated-journey")
    for metric in ("cac", "cost_per:opportunity"):
        assert truth[metric].effect < 0, metric
        assert truth[metric].naive_effect < truth[metric].effect, metric  # cheaper channels
    for metric in ("ltv:earned:12", "retention:3", "nrr:12"):
        assert abs(truth[metric].relative_effect) < 0.01, metric


def test_orchestrated_lift_never_hits_the_cap():
    """So it scales every entrant's win probability alike and leaves the customer mix (and LTV) alone."""
    top = (demo.BASE_ADVANCE_PROB * demo.SEGMENT_ADVANCE_MULT.max(0) * demo.CHANNEL_ADVANCE_MULT.max(0)
           * demo.ORCHESTRATED_ADVANCE_MULT)
    assert top[1:3].max() < demo.ADVANCE_PROB_CAP


def _cells(orchestrated: bool):
    """Joint covariate probabilities and stage-reach probabilities on the (segment,
    channel, persona, vertical) grid, built from the parameter tables."""
    weight = (demo.SEGMENT_SHARE[:, None, None, None] * demo.CHANNEL_SHARE[:, :, None, None]
              * demo.PERSONA_SHARE[:, None, :, None] * demo.VERTICAL_SHARE[None, None, None, :])
    p = (demo.BASE_ADVANCE_PROB * demo.SEGMENT_ADVANCE_MULT[:, None, None, None, :]
         * demo.CHANNEL_ADVANCE_MULT[None, :, None, None, :]) * np.ones((1, 1, 5, 6, 1))
    p[..., 0] *= demo.PERSONA_QUALIFY_MULT[None, None, :, None]
    p[..., 3] *= demo.VERTICAL_WIN_MULT[None, None, None, :]
    if orchestrated:
        p = np.minimum(p * demo.ORCHESTRATED_ADVANCE_MULT, demo.ADVANCE_PROB_CAP)
    reach = np.concatenate([np.ones(p.shape[:-1] + (1,)), np.cumprod(p, axis=-1)], axis=-1)
    return weight, reach


def _segment_value(per_segment: np.ndarray, weight: np.ndarray, by: np.ndarray) -> float:
    """Σ_s w_s v_s / Σ_s w_s with w_s = Σ over the segment's cells of weight × by."""
    w = (weight * by).sum(axis=(1, 2, 3))
    return float(w @ per_segment / w.sum())


def _survival(guided: bool, months: int) -> np.ndarray:
    """P(still paying at tenure month t), t = 0..months-1, by segment."""
    base = demo.BASE_HAZARD * (demo.GUIDED_BASE_HAZARD_MULT if guided else 1.0)
    early = demo.EARLY_HAZARD * (demo.GUIDED_EARLY_HAZARD_MULT if guided else 1.0)
    t = np.arange(months)
    hazard = base[:, None] + early[:, None] * ((t >= 1) & (t <= demo.EARLY_MONTHS))
    hazard[:, 0] = 0.0
    return np.cumprod(1 - hazard, axis=1)


def _mrr_curve(guided: bool, months: int) -> np.ndarray:
    """E[MRR at tenure t] by segment: E[start] × survival × mean monthly move ** t."""
    start = demo.MRR_MEDIAN * np.exp((demo.MRR_SIGMA ** 2
                                      + (demo.MRR_EMPLOYEE_ELASTICITY * demo.EMPLOYEES_SIGMA) ** 2) / 2)
    g = int(guided)
    move = (1 + demo.P_EXPANSION[g] * np.mean(demo.EXPANSION_RANGE)
            - demo.P_CONTRACTION[g] * np.mean(demo.CONTRACTION_RANGE))
    return start[:, None] * _survival(guided, months) * move ** np.arange(months)


def _revenue_closed_forms(guided_share: np.ndarray, weight, won) -> dict[str, float]:
    """retention:3, nrr:12 and ltv:earned:12 over customers with a guided share by segment."""
    g = guided_share
    survival = g[:, None] * _survival(True, 13) + (1 - g[:, None]) * _survival(False, 13)
    curve = g[:, None] * _mrr_curve(True, 13) + (1 - g[:, None]) * _mrr_curve(False, 13)
    discount = (1 + DISCOUNT_RATE) ** (-np.arange(12) / 12)
    return {
        "retention:3": _segment_value(survival[:, 3], weight, won),
        "nrr:12": _segment_value(curve[:, 12], weight, won) / _segment_value(curve[:, 0], weight, won),
        "ltv:earned:12": GROSS_MARGIN * _segment_value(curve[:, :12] @ discount, weight, won),
    }


def test_revenue_truth_matches_closed_forms():
    weight, reach = _cells(orchestrated=False)
    won = reach[..., 4]
    guided_mix = weight * demo.GUIDED_PROB[:, None, None, None]  # the guided cohort's covariate mix
    ones, zeros = np.ones(3), np.zeros(3)
    expected = {
        ("onboarding-v2", "baseline"): _revenue_closed_forms(zeros, weight, won),
        ("onboarding-v2", "treatment"): _revenue_closed_forms(ones, guided_mix, won),
        ("onboarding-v2", "counterfactual"): _revenue_closed_forms(zeros, guided_mix, won),
        ("orchestrated-journey", "baseline"): _revenue_closed_forms(demo.GUIDED_PROB, weight, won),
    }
    # The closed form approximates E[start MRR] (employees are rounded); 1% is > 4 Monte-Carlo SDs
    # for retention and NRR, and about 2.5 for LTV.
    tolerance = {"retention:3": 0.005, "nrr:12": 0.01, "ltv:earned:12": 0.015}
    for (experiment, arm), values in expected.items():
        truth = true_values(experiment)
        for metric, value in values.items():
            got = getattr(truth[metric], arm)
            assert got == pytest.approx(value, rel=tolerance[metric]), (experiment, arm, metric)


def test_cost_truth_matches_closed_forms():
    def cost_metrics(orchestrated: bool, mix: np.ndarray) -> tuple[float, float]:
        weight, reach = _cells(orchestrated)
        weight = weight * mix
        unit = (demo.CHANNEL_SLOT_SHARE * demo.UNIT_COST[demo.CHANNEL_CAMPAIGN_SLOTS]).sum(axis=1)
        # $ per stage interval, by (segment, channel)
        rate = demo.TOUCH_SEGMENT_MULT[:, None] * demo.TOUCH_RATE[None, :] * unit[None, :]
        per_stage = rate[:, :, None, None, None] * demo.TOUCH_STAGE_MULT
        cost = (unit[None, :, None, None] + (reach[..., :4] * per_stage).sum(axis=-1)
                + orchestrated * demo.NURTURE_TOUCHES_MEAN * demo.UNIT_COST[demo.NURTURE_CAMPAIGN])
        total = (weight * cost).sum()
        return total / (weight * reach[..., 4]).sum(), total / (weight * reach[..., 3]).sum()

    everyone = np.ones((3, 6, 1, 1))
    orchestrated_mix = np.ones((3, 1, 1, 1)) * demo.ORCHESTRATED_PROB[None, :, None, None]
    expected = {
        ("onboarding-v2", "baseline"): cost_metrics(False, everyone),
        ("onboarding-v2", "treatment"): cost_metrics(False, demo.GUIDED_PROB[:, None, None, None] * everyone),
        ("orchestrated-journey", "treatment"): cost_metrics(True, orchestrated_mix),
        ("orchestrated-journey", "counterfactual"): cost_metrics(False, orchestrated_mix),
    }
    for (experiment, arm), (cac, cost_per_opportunity) in expected.items():
        truth = true_values(experiment)
        assert getattr(truth["cac"], arm) == pytest.approx(cac, rel=0.01), (experiment, arm)
        assert getattr(truth["cost_per:opportunity"], arm) == pytest.approx(cost_per_opportunity, rel=0.01)

