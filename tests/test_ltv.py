"""LTV, retention, revenue retention, payback and time to value against values worked out by hand
or by independent code (Greenwood by hand and statsmodels; the renewal fit by Nelder–Mead)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cohortlab.codes import Status
from cohortlab.data.panel import CostSource, Panel
from cohortlab.metrics.base import MetricContext
from cohortlab.metrics.ltv import LTV, LTVParams
from cohortlab.report.build import compare
from cohortlab.spec.models import Economics, Journey
from cohortlab.stats.sbg import SBG, fit_sbg, fit_sbg_counts, from_survivors
from cohortlab.stats.survival import event_matrices, greenwood, median_time, survival_curve

AS_OF = "2026-03-31"


def _experiment(metrics, name="hand"):
    return {
        "name": name, "metrics": metrics,
        "treatment": {"where": "arm = 't'", "entered": {"from": "2024-01-01", "to": "2026-12-31"}},
        "baseline": {"where": "arm = 'b'", "entered": {"from": "2024-01-01", "to": "2026-12-31"}},
    }


def _month(start: str, offset: int) -> str:
    year, month = int(start[:4]), int(start[5:7]) - 1 + offset
    return f"{year + month // 12}-{month % 12 + 1:02d}-01"


def _tables(people, milestones=()):
    """Both arms get the same people: (name, won date or None, monthly payments, acquisition cost)."""
    tables = {"accounts": [], "stages": [], "revenue": [], "milestones": []}
    for arm in ("t", "b"):
        for name, won, payments, cost in people:
            account = f"{arm}-{name}"
            tables["accounts"].append({"account_id": account, "created_at": "2024-01-01", "arm": arm,
                                       "acquisition_cost": float(cost)})
            tables["stages"].append({"account_id": account, "stage": "lead", "at": "2024-01-01"})
            if won:
                tables["stages"].append({"account_id": account, "stage": "customer", "at": won})
                for tenure, amount in enumerate(payments):
                    tables["revenue"].append({"account_id": account, "month": _month(won, tenure),
                                              "amount": float(amount)})
        for name, milestone, at in milestones:
            tables["milestones"].append({"account_id": f"{arm}-{name}", "milestone": milestone, "at": at})
    if not tables["milestones"]:
        del tables["milestones"]
    return tables


CONFIG = {"as_of": AS_OF, "journey": {"stages": ["lead", "customer"], "won": "customer"},
          "economics": {"gross_margin": 0.5, "discount_rate": 0.0}}


# ------------------------------------------------------------------------------------- NRR and GRR


def test_grr_caps_each_customer_at_its_starting_revenue(project):
    # observed at tenure 2 (won January 2026, as_of March): a expands, b contracts, c churns
    people = [("a", "2026-01-10", [100, 120, 150], 0), ("b", "2026-01-10", [100, 80, 50], 0),
              ("c", "2026-01-10", [200, 200], 0)]
    report = compare(project(_tables(people), _experiment([{"metric": "nrr", "months": 2},
                                                           {"metric": "grr", "months": 2}]), CONFIG))
    assert report.result("nrr:2").treatment == pytest.approx((150 + 50 + 0) / 400)
    assert report.result("grr:2").treatment == pytest.approx((100 + 50 + 0) / 400)


# -------------------------------------------------------------------- retention, early churn, Greenwood


def test_early_churn_is_one_minus_retention(project):
    people = [("a", "2025-12-10", [100, 100, 100, 100], 0), ("b", "2025-12-10", [100], 0),
              ("c", "2026-01-10", [100, 100, 100], 0), ("d", "2025-12-10", [100, 100], 0)]
    report = compare(project(_tables(people), _experiment([{"metric": "retention", "months": 3},
                                                           {"metric": "early_churn", "months": 3}]), CONFIG))
    # churn at 1 (b) and 2 (d) among 4 and 3 at risk; c is censored at 2: S(3) = 3/4 · 2/3 = 1/2
    assert report.result("retention:3").treatment == pytest.approx(0.5)
    assert report.result("early_churn:3").treatment == pytest.approx(0.5)
    assert report.result("early_churn:3").direction == "decrease"
    details = report.result("retention:3").details["treatment"]
    # Greenwood: S² (1/(4·3) + 1/(3·2)) = 1/4 · 1/4
    assert details["greenwood_se"] == pytest.approx(0.25)
    churn = report.result("early_churn:3").details["treatment"]
    assert churn["early_churn"] == pytest.approx(0.5)
    assert churn["early_churn_ci"] == pytest.approx([1 - details["greenwood_ci"][1], 1 - details["greenwood_ci"][0]])


def test_greenwood_by_hand_and_against_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    # times with events (1) or censoring (0): 1, 2+, 2, 3, 3+, 4; at risk 6, 5, 3 at the events by t = 3
    time = np.array([1, 2, 2, 3, 3, 4])
    event = np.array([True, False, True, True, False, True])
    events, at_risk = event_matrices(time, event, horizon=3)
    survival, se, low, high = greenwood(events.sum(axis=0), at_risk.sum(axis=0), 0.95)
    s3 = (5 / 6) * (4 / 5) * (2 / 3)
    variance_sum = 1 / (6 * 5) + 1 / (5 * 4) + 1 / (3 * 2)      # = 0.25
    assert survival == pytest.approx(s3)
    assert se == pytest.approx(s3 * np.sqrt(variance_sum))     # 0.2222…
    reference = SurvfuncRight(time, event.astype(int))
    assert se == pytest.approx(reference.surv_prob_se[reference.surv_times == 3][0], rel=1e-12)
    # log(−log) interval: S^exp(±z √Σ / |log S|)
    spread = 1.959964 * 0.5 / abs(np.log(s3))
    assert (low, high) == pytest.approx((s3 ** np.exp(spread), s3 ** np.exp(-spread)), rel=1e-6)
    assert 0 < low < s3 < high < 1


# ------------------------------------------------------------------------------------- time to value


def test_time_to_value_median_and_share_by_hand(project):
    people = [(name, "2026-03-01", [100], 0) for name in "abcde"]
    # days from acquisition: 2, 4, 6, 10, and e never (censored at as_of, 30 days)
    milestones = [("a", "first_value", "2026-03-03"), ("b", "first_value", "2026-03-05"),
                  ("c", "first_value", "2026-03-07"), ("d", "first_value", "2026-03-11"),
                  ("d", "first_value", "2026-03-20"), ("a", "activated", "2026-03-02")]
    metrics = [{"metric": "time_to_value", "milestone": "first_value", "days": 7},
               {"metric": "time_to_value", "milestone": "first_valeu"}]
    report = compare(project(_tables(people, milestones), _experiment(metrics), CONFIG))
    result = report.result("time_to_value:first_value:7")
    # KM: 0.8 after day 2, 0.6 after day 4, 0.4 after day 6: 0.5 is crossed halfway between days 4 and 6
    assert result.treatment == pytest.approx(5.0)
    assert result.unit == "days" and result.direction == "decrease"
    assert result.details["treatment"]["share_within_7_days"] == pytest.approx(0.6)
    assert result.details["treatment"]["reached"] == 4 and result.details["treatment"]["not_yet"] == 1
    typo = report.result("time_to_value:first_valeu:90")
    assert typo.status is Status.UNAVAILABLE and "did you mean 'first_value'" in typo.reason


def test_median_matches_statsmodels_on_continuous_times():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    reach = rng.gamma(2.0, 20.0, 3000)
    censor = rng.uniform(0, 150, 3000)
    time, event = np.minimum(reach, censor), reach <= censor
    times, code = np.unique(time, return_inverse=True)
    events = np.bincount(code, weights=event, minlength=len(times))[None, :]
    censored = np.bincount(code, weights=~event, minlength=len(times))[None, :]
    ours = median_time(times, survival_curve(events, censored))[0]
    reference = SurvfuncRight(time, event.astype(int)).quantile(0.5)
    # interpolating between distinct event times moves the median by less than one gap between times
    assert ours == pytest.approx(reference, abs=0.1)


# ------------------------------------------------------------------------------- the renewal fitter


def test_batch_fit_matches_nelder_mead_and_published_values():
    """fit_sbg_counts (Newton, cumulative sums) against fit_sbg (Nelder–Mead on betaln): independent code."""
    rows = []
    for alive in ([1000, 631, 468, 382, 326, 289, 262, 241], [1000, 869, 743, 653, 593, 551, 517, 491]):
        periods, churned, weights = from_survivors(alive)
        lost, kept = np.zeros(8), np.zeros(8)
        for period, gone, weight in zip(periods.astype(int), churned, weights):
            (lost if gone else kept)[period] += weight
        rows.append((lost, kept, fit_sbg(periods, churned, weights)))
    fits = fit_sbg_counts(np.array([row[0] for row in rows]), np.array([row[1] for row in rows]))
    for index, (_, _, reference) in enumerate(rows):
        assert fits.alpha[index] == pytest.approx(reference.alpha, rel=1e-5)
        assert fits.beta[index] == pytest.approx(reference.beta, rel=1e-5)
    assert np.round(fits.alpha, 3).tolist() == [0.704, 0.668] and np.round(fits.beta, 3).tolist() == [1.182, 3.806]
    assert fits.converged.all()
    np.testing.assert_allclose(fits.survival(np.arange(5))[0], SBG(fits.alpha[0], fits.beta[0]).survival(np.arange(5)))


def test_batch_fit_rows_are_independent_and_geometric_data_reach_the_limit():
    rng = np.random.default_rng(2)
    lost, kept = rng.poisson(30, (5, 10)).astype(float), rng.poisson(10, (5, 10)).astype(float)
    together = fit_sbg_counts(lost, kept)
    alone = fit_sbg_counts(lost[3:4], kept[3:4])
    assert together.alpha[3] == alone.alpha[0] and together.beta[3] == alone.beta[0]
    # churn 20% at every renewal (no heterogeneity): the fit heads to the geometric limit α, β → ∞, α/(α+β) = 0.2
    alive = 10_000 * 0.8 ** np.arange(12)
    periods, churned, weights = from_survivors(alive)
    lost, kept = np.zeros((1, 12)), np.zeros((1, 12))
    for period, gone, weight in zip(periods.astype(int), churned, weights):
        (lost if gone else kept)[0, period] += weight
    geometric = fit_sbg_counts(lost, kept)
    assert geometric.alpha[0] > 100
    assert geometric.alpha[0] / (geometric.alpha[0] + geometric.beta[0]) == pytest.approx(0.2, rel=1e-3)
    # the likelihood is flat to machine precision long before the limit: the fit stops where it cannot tell,
    # with survival geometric within 0.2% over the 12 observed renewals and 2% when projected to 24
    survival = geometric.survival(np.arange(24))[0]
    np.testing.assert_allclose(survival[:12], 0.8 ** np.arange(12), rtol=2e-3)
    np.testing.assert_allclose(survival, 0.8 ** np.arange(24), rtol=2e-2)


# -------------------------------------------------------------------------- modeled LTV, step by step


def _panel(won_month_offsets, revenue, as_of=dt.date(2026, 3, 31)):
    """A one-cohort panel (every account a treatment customer) from months-before-as_of and revenue rows."""
    n = len(won_month_offsets)
    last = np.datetime64("2026-03", "M")
    won_month = last - np.asarray(won_month_offsets)
    observed = np.asarray(won_month_offsets) + 1
    months = revenue.shape[1]
    revenue = revenue * (np.arange(months)[None, :] < observed[:, None])
    return Panel(account_id=np.array([f"a{i}" for i in range(n)]), treated=np.ones(n, bool),
                 entered=won_month.astype("datetime64[D]"), covariates={}, stages=("lead", "customer"),
                 stage_at=np.repeat(won_month.astype("datetime64[D]")[:, None], 2, axis=1),
                 reached=np.ones((n, 2), bool), won=np.ones(n, bool), won_at=won_month.astype("datetime64[D]"),
                 won_month=won_month, cost=np.full(n, 100.0), revenue=revenue, margin=0.6 * revenue,
                 observed_months=observed, as_of=as_of, cost_source=CostSource("acquisition_cost"))


def test_modeled_ltv_is_the_earned_curve_extended_by_the_fitted_renewal_model():
    rng = np.random.default_rng(8)
    n = 600
    theta = rng.beta(1.2, 6.0, n)
    lifetime = rng.geometric(theta)                      # pays months 0..lifetime−1
    offsets = rng.integers(0, 18, n)                    # observed months 1..18
    start = rng.lognormal(5, 0.4, n)
    months = 18
    revenue = start[:, None] * (np.arange(months)[None, :] < lifetime[:, None])
    panel = _panel(offsets, revenue)
    economics = Economics(gross_margin=0.6, discount_rate=0.12, horizon_months=36, expansion_rate=0.2)
    context = MetricContext(economics, Journey(stages=["lead", "customer"]), 100, panel.as_of)
    metric = LTV(LTVParams(basis="modeled", months=36))
    inputs = metric.prepare(panel, context)
    ours = metric.estimate(inputs, np.ones((1, n)))[0]

    # independently: observed tenure L = months with ≥ 100 customers observed; earned means before it
    observed = np.arange(months)[None, :] < (offsets + 1)[:, None]
    limit = int(np.argmax(observed.sum(axis=0) < 100))
    earned = [(0.6 * revenue[observed[:, t], t]).mean() for t in range(limit)]
    # the renewal model by Nelder–Mead on per-customer (renewals, churned)
    churned = lifetime <= offsets                       # the churn month lifetime is observed
    model = fit_sbg(np.where(churned, lifetime, offsets), churned)
    future = np.arange(limit, 36)
    tail = earned[-1] * model.survival(future) / model.survival(limit - 1) * 1.2 ** ((future - limit + 1) / 12)
    discount = 1.12 ** (-np.arange(36) / 12)
    expected = np.r_[earned, tail] @ discount
    assert ours == pytest.approx(expected, rel=1e-6)

    details = metric.details(inputs, np.ones(n))
    assert details["observed_months"] == limit
    assert details["earned"] == pytest.approx(np.asarray(earned) @ discount[:limit])
    assert details["extrapolated_share"] == pytest.approx(1 - details["earned"] / expected)
    assert details["sbg"]["alpha"] == pytest.approx(model.alpha, rel=1e-5)
    # revenue never changes while a customer stays: all of the value beyond L's growth is the expansion rate
    kept_tail = earned[-1] * model.survival(future) / model.survival(limit - 1)
    assert details["retention_driven"] == pytest.approx(np.r_[earned, kept_tail] @ discount, rel=1e-6)
    assert details["revenue_ltv"] == pytest.approx(expected / 0.6, rel=1e-6)


def test_modeled_ltv_within_observed_tenure_equals_earned():
    rng = np.random.default_rng(9)
    n = 300
    revenue = rng.lognormal(4, 0.5, (n, 24)) * (rng.random((n, 24)) < 0.9)
    panel = _panel(np.full(n, 23), revenue)
    context = MetricContext(Economics(), Journey(stages=["lead", "customer"]), 30, panel.as_of)
    weights = np.ones((1, n))
    modeled, earned = LTV(LTVParams(basis="modeled", months=12)), LTV(LTVParams(basis="earned", months=12))
    assert modeled.estimate(modeled.prepare(panel, context), weights)[0] == pytest.approx(
        earned.estimate(earned.prepare(panel, context), weights)[0])


# ------------------------------------------------------------------------ payback, LTV:CAC, warnings


def test_payback_and_ltv_cac_by_hand(project):
    # two customers paying 200 a month (margin 0.5: 100 a month) for all 15 observed months, nobody churns,
    # and one entrant who never converts; acquisition cost 250 each: CAC = 750 / 2 = 375
    people = [("a", "2025-01-05", [200] * 15, 250), ("b", "2025-01-20", [200] * 15, 250),
              ("n", None, [], 250)]
    config = {**CONFIG, "economics": {"gross_margin": 0.5, "discount_rate": 0.0, "horizon_months": 24}}
    metrics = ["payback", "ltv_cac", "ltv", "cac"]
    report = compare(project(_tables(people), _experiment(metrics), config))
    assert report.result("cac").treatment == pytest.approx(375)
    # 3 months bring 300; the 4th month's 100 covers the remaining 75 three quarters of the way in
    assert report.result("payback").treatment == pytest.approx(3.75)
    assert report.result("payback").unit == "months"
    # without churn the model keeps every customer: 24 months × 100, undiscounted
    assert report.result("ltv:modeled:24").treatment == pytest.approx(2400, rel=1e-6)
    assert report.result("ltv_cac").treatment == pytest.approx(2400 / 375, rel=1e-6)


def test_payback_not_within_horizon(project):
    people = [("a", "2025-01-05", [20] * 15, 1000), ("b", "2025-01-20", [20] * 15, 1000)]
    config = {**CONFIG, "economics": {"gross_margin": 0.5, "discount_rate": 0.0, "horizon_months": 24}}
    report = compare(project(_tables(people), _experiment(["payback"]), config))
    result = report.result("payback")
    # 24 months × 10 = 240 never reaches CAC 1000
    assert result.status is Status.UNAVAILABLE
    assert "not within horizon" in result.reason


def test_extrapolation_and_expansion_warnings(project):
    # observed 3 months without churn, modeled to 36 with revenue doubling every year: most of the value
    # is projected, and most of it is expansion
    people = [(f"c{i}", "2026-01-05", [100, 100, 100], 0) for i in range(8)]
    config = {**CONFIG, "economics": {"gross_margin": 0.5, "discount_rate": 0.0, "horizon_months": 36,
                                      "expansion_rate": 1.0}}
    report = compare(project(_tables(people), _experiment(["ltv"]), config))
    assert sorted({warning.code for warning in report.warnings}) == ["W303", "W304"]
    details = report.result("ltv:modeled:36").details["treatment"]
    # nobody churned: the model keeps everyone, and month t ≥ 3 brings 50 · 2^((t − 2)/12)
    growth = 2.0 ** ((np.arange(3, 36) - 2) / 12)
    assert details["margin_ltv"] == pytest.approx(150 + 50 * growth.sum(), rel=1e-4)
    assert details["earned"] == pytest.approx(150)
    assert details["retention_driven"] == pytest.approx(50 * 36, rel=1e-4)
    assert details["expansion_share"] == pytest.approx(50 * (growth - 1).sum() / details["margin_ltv"], rel=1e-4)
    assert details["extrapolated_share"] > 0.5 and details["expansion_share"] > 0.5
