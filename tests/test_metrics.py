"""Metric values through the whole pipeline on small hand-built tables, checked by hand."""

from __future__ import annotations

import pytest

from cohortlab.codes import Status
from cohortlab.report.build import compare

AS_OF = "2026-03-31"


def _experiment(metrics, match=None):
    return {
        "name": "hand", "metrics": metrics,
        "treatment": {"where": "arm = 't'", "entered": {"from": "2025-01-01", "to": "2026-12-31"}},
        "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-01-01", "to": "2026-12-31"}},
        **({"match": match} if match else {}),
    }


def _customers():
    """Treatment customers c1..c3 (and a baseline twin of each, so both cohorts are available).

    c1 won 2026-01-15: observed Jan, Feb, Mar (3 months), pays 100 each month (active: censored).
    c2 won 2025-12-03: observed Dec..Mar (4 months), pays 200, 200, then churns (event at tenure 2).
    c3 won 2026-03-20: observed Mar only (1 month), pays 50.
    n1 never converts. acquisition_cost 100, 200, 300, 400.
    """
    accounts, stages, revenue = [], [], []
    people = [("c1", "2026-01-15", [100, 100, 100], 100), ("c2", "2025-12-03", [200, 200], 200),
              ("c3", "2026-03-20", [50], 300), ("n1", None, [], 400)]
    for arm in ("t", "b"):
        for name, won, payments, cost in people:
            account = f"{arm}-{name}"
            accounts.append({"account_id": account, "created_at": "2025-11-01", "arm": arm, "acquisition_cost": cost})
            stages.append({"account_id": account, "stage": "lead", "at": "2025-11-01"})
            if won:
                stages.append({"account_id": account, "stage": "customer", "at": won})
                start = won[:8] + "01"
                for tenure, amount in enumerate(payments):
                    month = f"{int(start[:4]) + (int(start[5:7]) - 1 + tenure) // 12}-" \
                            f"{(int(start[5:7]) - 1 + tenure) % 12 + 1:02d}-01"
                    revenue.append({"account_id": account, "month": month, "amount": float(amount)})
    return {"accounts": accounts, "stages": stages, "revenue": revenue}


CONFIG = {"as_of": AS_OF, "journey": {"stages": ["lead", "customer"], "won": "customer"},
          "economics": {"gross_margin": 0.5, "discount_rate": 0.0}}


@pytest.fixture
def report(project):
    metrics = ["cac", {"metric": "ltv", "basis": "earned", "months": 3}, {"metric": "retention", "months": 2},
               {"metric": "retention", "months": 1}, {"metric": "nrr", "months": 1}, {"metric": "nrr", "months": 2},
               {"metric": "cost_per", "stage": "lead"}]
    return compare(project(_customers(), _experiment(metrics), CONFIG))


def test_cac_counts_every_entrant(report):
    # (100 + 200 + 300 + 400) / 3 customers: the non-converter's cost is in
    assert report.result("cac").treatment == pytest.approx(1000 / 3)
    assert report.result("cost_per:lead").treatment == pytest.approx(1000 / 4)


def test_earned_ltv_averages_each_month_over_observed_customers(report):
    # month 0: (100 + 200 + 50)/3 ; month 1: (100 + 200)/2 ; month 2: (100 + 0)/2 ; margin 0.5, no discount
    expected = 0.5 * ((100 + 200 + 50) / 3 + (100 + 200) / 2 + (100 + 0) / 2)
    assert report.result("ltv:earned:3").treatment == pytest.approx(expected)
    assert report.result("ltv:earned:3").n == {"treatment": 3, "baseline": 3}


def test_kaplan_meier_retention(report):
    # c3 censored at 0; c1 censored at 2; c2 churns at 2 with c1, c2 at risk: S(2) = 1/2
    assert report.result("retention:2").treatment == pytest.approx(0.5)
    assert report.result("retention:1").treatment == pytest.approx(1.0)


def test_nrr_on_customers_observed_at_t(report):
    assert report.result("nrr:1").treatment == pytest.approx((100 + 200) / (100 + 200))
    assert report.result("nrr:2").treatment == pytest.approx((100 + 0) / (100 + 200))


def test_identical_cohorts_give_zero_deltas(report):
    for result in report.results:
        assert result.delta == pytest.approx(0.0, abs=1e-9), result.key


def test_discounting_and_margin(project):
    config = {**CONFIG, "economics": {"gross_margin": 0.5, "discount_rate": 0.10}}
    report = compare(project(_customers(), _experiment([{"metric": "ltv", "basis": "earned", "months": 3}]), config))
    expected = 0.5 * (350 / 3 + 1.1 ** (-1 / 12) * 300 / 2 + 1.1 ** (-2 / 12) * 100 / 2)
    assert report.result("ltv:earned:3").treatment == pytest.approx(expected)


def test_ltv_unavailable_says_from_when(project):
    config = {**CONFIG, "defaults": {"min_cohort": 2, "replicates": 100}}
    report = compare(project(_customers(), _experiment([{"metric": "ltv", "basis": "earned", "months": 4}]), config))
    result = report.result("ltv:earned:4")
    assert result.status is Status.UNAVAILABLE
    # tenure month 3 needs 2 customers: the 2nd earliest acquisition is January 2026, so April 2026 completes it
    assert "only 1 treatment customers are observed at tenure month 3" in result.reason
    assert "available from 2026-04-30" in result.reason


def test_cac_unavailable_without_cost_data(project):
    tables = _customers()
    for row in tables["accounts"]:
        del row["acquisition_cost"]
    report = compare(project(tables, _experiment(["cac"]), CONFIG))
    assert report.result("cac").status is Status.UNAVAILABLE
    assert "neither accounts.acquisition_cost nor spend with touches" in report.result("cac").reason


def test_spend_allocation_by_hand(project):
    """Spend split over the campaign's touches that day; touches after the won date are not acquisition cost."""
    tables = _customers()
    for row in tables["accounts"]:
        del row["acquisition_cost"]
    tables["spend"] = [
        {"date": "2025-11-10", "campaign": "webinar", "amount": 300.0},   # 3 touches: t-c1, t-n1, b-n1
        {"date": "2026-02-01", "campaign": "webinar", "amount": 90.0},    # t-c2 (after its won date) and t-n1
        {"date": "2025-11-11", "campaign": "brand", "amount": 50.0},      # no touches: unattributed
    ]
    tables["touches"] = [
        {"account_id": "t-c1", "at": "2025-11-10", "campaign": "webinar"},
        {"account_id": "t-n1", "at": "2025-11-10", "campaign": "webinar"},
        {"account_id": "b-n1", "at": "2025-11-10", "campaign": "webinar"},
        {"account_id": "t-c2", "at": "2026-02-01", "campaign": "webinar"},
        {"account_id": "t-n1", "at": "2026-02-01", "campaign": "webinar"},
    ]
    report = compare(project(tables, _experiment(["cac"]), CONFIG))
    cac = report.result("cac")
    # treatment cost: t-c1 100 + t-n1 (100 + 45) = 245 over 3 customers; baseline: b-n1 100 over 3
    assert cac.treatment == pytest.approx(245 / 3)
    assert cac.baseline == pytest.approx(100 / 3)
    # unattributed: t-c2's 45 (after won) + brand 50 = 95 of 440
    assert cac.details["treatment"]["unattributed_spend_share"] == pytest.approx(95 / 440)
    assert any(w.code == "W105" and "21.6%" in w.message for w in report.warnings)


def test_an_empty_cohort_gives_statuses_not_errors(project):
    experiment = _experiment(["cac", {"metric": "retention", "months": 1}], match={"method": "exact", "on": ["arm"]})
    experiment["treatment"]["where"] = "arm = 'nobody'"
    report = compare(project(_customers(), experiment, CONFIG))
    assert [result.status for result in report.results] == [Status.UNAVAILABLE, Status.UNAVAILABLE]
    assert report.result("cac").reason == "the treatment cohort has no accounts"
    assert report.cohorts["treatment"].accounts == 0
    assert report.matching.balanced is None


def test_every_treated_account_dropped_by_matching_is_unavailable(project):
    tables = _customers()
    for row in tables["accounts"]:
        row["tier"] = "gold" if row["arm"] == "t" else "silver"
    experiment = _experiment(["cac"], match={"method": "exact", "on": ["tier"]})
    report = compare(project(tables, experiment, CONFIG))
    result = report.result("cac")
    assert result.status is Status.UNAVAILABLE
    assert result.reason == "every treatment account was dropped by matching: no baseline account shares its stratum"
    assert report.cohorts["treatment"].dropped_unmatched == 4
