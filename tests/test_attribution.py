"""Spend allocation through touches, checked exactly against values computed by hand.

Rules (SPEC §5): each spend row is split evenly over all touches of its campaign that day; an account's cost
is the sum of its eligible touches' costs (on or before its cutoff, inside the influence window); the
attribution model only divides that cost among the account's channels; spend reaching no eligible touch is
unattributed. Every expected value below is worked out in the comment next to it.

Channels: campaigns "search", "social" and "brand" are channel "ads"; "webinar" and "fair" are "events".
"""

from __future__ import annotations

import pytest

from cohortlab.codes import Status
from cohortlab.report.build import compare

AS_OF = "2026-03-31"
MODELS = ("linear", "first_touch", "last_touch", "position_based")
CHANNEL_OF = {"search": "ads", "social": "ads", "brand": "ads", "webinar": "events", "fair": "events"}


# ----------------------------------------------------------------------------------------------------- helpers

def _tables(accounts: dict, touches: list, spend: list) -> dict[str, list[dict]]:
    """accounts: {id: (arm, created_at, won date or None)}; touches: [(id, day, campaign)];
    spend: [(day, campaign, amount)]. Every account is a lead on created_at and a customer on its won date;
    touches carry their campaign's channel, and so does spend (the key must still be the campaign)."""
    tables: dict[str, list[dict]] = {"accounts": [], "stages": [], "touches": [], "spend": []}
    for account, (arm, created, won) in accounts.items():
        tables["accounts"].append({"account_id": account, "created_at": created, "arm": arm})
        tables["stages"].append({"account_id": account, "stage": "lead", "at": created})
        if won:
            tables["stages"].append({"account_id": account, "stage": "customer", "at": won})
    tables["touches"] = [{"account_id": account, "at": day, "campaign": campaign, "channel": CHANNEL_OF[campaign]}
                         for account, day, campaign in touches]
    tables["spend"] = [{"date": day, "campaign": campaign, "channel": CHANNEL_OF[campaign], "amount": float(amount)}
                       for day, campaign, amount in spend]
    return tables


def _experiment(metrics: list, treatment: str = "arm = 't'", baseline: str = "arm = 'b'") -> dict:
    entered = {"from": "2025-01-01", "to": "2026-12-31"}
    return {"name": "attribution", "metrics": metrics,
            "treatment": {"where": treatment, "entered": entered},
            "baseline": {"where": baseline, "entered": entered}}


def _config(model: str = "linear", paid: tuple = ("ads",), window: int | None = None,
            journey_window: int | None = None) -> dict:
    attribution = {"model": model, "paid_channels": list(paid), **({"window_days": window} if window else {})}
    journey = {"stages": ["lead", "customer"], "won": "customer",
               **({"window_days": journey_window} if journey_window else {})}
    return {"as_of": AS_OF, "journey": journey, "attribution": attribution}


def _shares(details: dict) -> dict[str, float]:
    """A cohort's cost share by channel, with a channel that got nothing read as 0."""
    shares = details["cost_share_by_channel"]
    assert set(shares) <= {"ads", "events"}, shares
    return {channel: shares.get(channel, 0.0) for channel in ("ads", "events")}


def _warnings(report, code: str) -> list[str]:
    return [warning.message for warning in report.warnings if warning.code == code]


def _run(project, tables: dict, metrics: list, config: dict, **cohorts):
    return compare(project(tables, _experiment(metrics, **cohorts), config))


# A baseline customer used where the baseline only has to exist: created 01-05, won 01-10, touched on 01-02
# (before it was created, which counts) by "fair", the only fair touch that day: its cost is the whole 10.
FILLER_ACCOUNT = {"Z": ("b", "2026-01-05", "2026-01-10")}
FILLER_TOUCH = [("Z", "2026-01-02", "fair")]
FILLER_SPEND = [("2026-01-02", "fair", 10)]


# ----------------------------------------------------------------------------------------- the shared table
#
# Treatment A (won 01-25), B (won 02-10), C (never won); baseline D (won 01-15). All created 2026-01-01.
#
# spend                      touches that day                  cost per touch
# 01-05 search   120         A, C, D                           120 / 3 = 40
# 01-05 webinar   60         A, D                               60 / 2 = 30
# 01-10 social    60 + 30    A                                  90 / 1 = 90   (two rows, summed)
# 01-20 webinar   80         A, B                               80 / 2 = 40
# 01-25 social    40         A (on its won date: counts)        40 / 1 = 40
# 02-10 social    50         B (on its won date), C             50 / 2 = 25
# 02-15 search    30         none                               unattributed 30
# 02-20 webinar  100         A (after won: ineligible), C      100 / 2 = 50 each; A's 50 unattributed
# total spend = 120 + 60 + 90 + 80 + 40 + 50 + 30 + 100 = 570
#
# eligible touches and account cost (no influence window; cutoff = won date, else as_of):
#   A: 01-05 search(ads) 40, 01-05 webinar(events) 30, 01-10 social(ads) 90, 01-20 webinar(events) 40,
#      01-25 social(ads) 40                                       = 240   k=5, n_first=2, n_last=1, 2 middle
#   B: 01-20 webinar(events) 40, 02-10 social(ads) 25             =  65   k=2, no middle
#   C: 01-05 search(ads) 40, 02-10 social(ads) 25, 02-20 webinar(events) 50
#                                                                 = 115   k=3, 1 middle
#   D: 01-05 search(ads) 40, 01-05 webinar(events) 30             =  70   k=2, both on one day
# Σ = 240 + 65 + 115 + 70 = 490; unattributed = 30 (no touch) + 50 (A after won) = 80; 490 + 80 = 570.
SHARED = _tables(
    {"A": ("t", "2026-01-01", "2026-01-25"), "B": ("t", "2026-01-01", "2026-02-10"),
     "C": ("t", "2026-01-01", None), "D": ("b", "2026-01-01", "2026-01-15")},
    [("A", "2026-01-05", "search"), ("A", "2026-01-05", "webinar"), ("A", "2026-01-10", "social"),
     ("A", "2026-01-20", "webinar"), ("A", "2026-01-25", "social"), ("A", "2026-02-20", "webinar"),
     ("B", "2026-01-20", "webinar"), ("B", "2026-02-10", "social"),
     ("C", "2026-01-05", "search"), ("C", "2026-02-10", "social"), ("C", "2026-02-20", "webinar"),
     ("D", "2026-01-05", "search"), ("D", "2026-01-05", "webinar")],
    [("2026-01-05", "search", 120), ("2026-01-05", "webinar", 60), ("2026-01-10", "social", 60),
     ("2026-01-10", "social", 30), ("2026-01-20", "webinar", 80), ("2026-01-25", "social", 40),
     ("2026-02-10", "social", 50), ("2026-02-15", "search", 30), ("2026-02-20", "webinar", 100)])
TOTAL_SPEND = 570.0
UNATTRIBUTED = 80.0
ACCOUNT_COST = {"A": 240.0, "B": 65.0, "C": 115.0, "D": 70.0}  # the same under every model (rule 3)

# Share of each account's cost credited to "ads" (events get the rest):
ADS_CREDIT = {
    # A: touches ads, events | ads, events (middle) | ads (last)
    #   linear 3/5; first_touch: 1/2 to each of the two 01-05 touches -> 1/2; last_touch: all to 01-25 social -> 1;
    #   position_based: first 0.4/2 = 0.2 each, last 0.4, middle 0.2/2 = 0.1 each -> ads 0.2 + 0.1 + 0.4 = 0.7
    "A": {"linear": 3 / 5, "first_touch": 1 / 2, "last_touch": 1.0, "position_based": 0.7},
    # B: events (first), ads (last), no middle: linear 1/2; first 0; last 1; position 0.5 / 0.5 -> 0.5
    "B": {"linear": 1 / 2, "first_touch": 0.0, "last_touch": 1.0, "position_based": 0.5},
    # C: ads (first), ads (middle), events (last): linear 2/3; first 1; last 0; position 0.4 + 0.2 = 0.6
    "C": {"linear": 2 / 3, "first_touch": 1.0, "last_touch": 0.0, "position_based": 0.6},
    # D: both touches on 01-05, so each is first and last: 1/2 each under every model
    "D": {"linear": 1 / 2, "first_touch": 1 / 2, "last_touch": 1 / 2, "position_based": 1 / 2},
}

# Treatment (A, B, C) cost credited to ads, = Σ cost × ads credit:
TREATMENT_ADS = {
    "linear": 1519 / 6,          # 240·3/5 + 65/2 + 115·2/3 = 144 + 32.5 + 230/3 = (864 + 195 + 460)/6 = 253.1667
    "first_touch": 235.0,        # 240/2 + 0 + 115 = 120 + 115
    "last_touch": 305.0,         # 240 + 65 + 0
    "position_based": 269.5,     # 240·0.7 + 65·0.5 + 115·0.6 = 168 + 32.5 + 69
}
TREATMENT_COST = 420.0           # 240 + 65 + 115
BASELINE_COST = 70.0             # D
BASELINE_ADS = 35.0              # 70 / 2 under every model
SHARED_METRICS = ["cac", {"metric": "cac", "spend": "paid"}, {"metric": "cost_per", "stage": "lead"}]


def test_hand_arithmetic_is_consistent():
    """The per-account hand values add up to the cohort totals used below (a check of the comments, not code)."""
    assert sum(ACCOUNT_COST.values()) + UNATTRIBUTED == TOTAL_SPEND
    for model in MODELS:
        ads = sum(ACCOUNT_COST[account] * ADS_CREDIT[account][model] for account in "ABC")
        assert ads == pytest.approx(TREATMENT_ADS[model])


@pytest.mark.parametrize("model", MODELS)
def test_cohort_allocation_by_model(project, model):
    """Per cohort: total cost, cost share by channel, blended and paid CAC for each model; the cost itself does
    not depend on the model, and allocated cost plus unattributed spend is the whole spend."""
    report = _run(project, SHARED, SHARED_METRICS, _config(model))
    cac, paid, lead = report.result("cac"), report.result("cac:paid"), report.result("cost_per:lead")
    treatment, baseline = cac.details["treatment"], cac.details["baseline"]
    assert treatment["attribution"] == model
    # cost is the same for every model: treatment 240 + 65 + 115 = 420, baseline 70
    assert treatment["total_cost"] == pytest.approx(TREATMENT_COST)
    assert baseline["total_cost"] == pytest.approx(BASELINE_COST)
    # blended CAC: 420 / 2 customers (A, B) = 210; baseline 70 / 1 = 70; cost per lead 420 / 3 = 140, 70 / 1
    assert (cac.treatment, cac.baseline) == pytest.approx((210.0, 70.0))
    assert (lead.treatment, lead.baseline) == pytest.approx((140.0, 70.0))
    # shares: ads = TREATMENT_ADS / 420, events = the rest; baseline 35 / 70 each
    ads = TREATMENT_ADS[model]
    assert _shares(treatment) == pytest.approx({"ads": ads / 420, "events": (420 - ads) / 420})
    assert _shares(baseline) == pytest.approx({"ads": 0.5, "events": 0.5})
    # paid CAC (ads paid): ads cost / 2 customers, e.g. linear 1519/12 = 126.583, first 117.5, last 152.5,
    # position 134.75; baseline 35 / 1
    assert (paid.treatment, paid.baseline) == pytest.approx((ads / 2, BASELINE_ADS / 1))
    assert paid.details["treatment"]["total_cost"] == pytest.approx(ads)
    # blended = paid + the events part: ads/2 + (420 - ads)/2 = 210
    assert paid.treatment + (420 - ads) / 2 == pytest.approx(cac.treatment)
    # allocations sum to the spend: every account is in a cohort, 420 + 70 + unattributed 80 = 570
    share = treatment["unattributed_spend_share"]
    assert share == pytest.approx(UNATTRIBUTED / TOTAL_SPEND)  # 80 / 570 = 0.14035
    assert treatment["total_cost"] + baseline["total_cost"] + share * TOTAL_SPEND == pytest.approx(TOTAL_SPEND)
    assert any("14.0%" in message for message in _warnings(report, "W105"))


@pytest.mark.parametrize("model", MODELS)
def test_account_costs_and_credits_by_model(project, model):
    """Single-account cohorts: each account's cost (cost per lead of a one-account cohort) is the same
    hand value under every model, and its channel shares are the model's credits."""
    for treatment, baseline in (("A", "B"), ("C", "D")):
        report = _run(project, SHARED, [{"metric": "cost_per", "stage": "lead"}], _config(model),
                      treatment=f"account_id = '{treatment}'", baseline=f"account_id = '{baseline}'")
        result = report.result("cost_per:lead")
        for cohort, account, value in (("treatment", treatment, result.treatment),
                                       ("baseline", baseline, result.baseline)):
            details = result.details[cohort]
            assert value == pytest.approx(ACCOUNT_COST[account]), account
            assert details["total_cost"] == pytest.approx(ACCOUNT_COST[account]), account
            ads = ADS_CREDIT[account][model]
            assert _shares(details) == pytest.approx({"ads": ads, "events": 1 - ads}), (account, model)


def test_spend_is_keyed_by_campaign_not_channel(project):
    """Two campaigns of one channel on the same day are split separately: the key is the campaign."""
    tables = _tables({"X": ("t", "2026-01-01", None), "Y": ("b", "2026-01-01", None)},
                     [("X", "2026-01-10", "search"), ("Y", "2026-01-10", "social")],
                     [("2026-01-10", "search", 60), ("2026-01-10", "social", 30)])
    report = _run(project, tables, [{"metric": "cost_per", "stage": "lead"}], _config())
    # by campaign: X gets all of search (60), Y all of social (30); keyed by channel both would get 90/2 = 45
    result = report.result("cost_per:lead")
    assert (result.treatment, result.baseline) == pytest.approx((60.0, 30.0))


@pytest.mark.parametrize("window, cost, shares, unattributed", [
    # no window: all three touches count: 70 + 30 + 20 = 120; first touch is 01-11 search -> all ads
    (None, 120.0, {"ads": 1.0, "events": 0.0}, 0.0),
    # 10 days before the 01-21 cutoff: only day > 01-11 counts: 01-12 (30) + 01-21 (20) = 50; the first eligible
    # touch is now 01-12 webinar -> all events; 01-11's 70 is unattributed: 70 / (70 + 30 + 20 + 10) = 70 / 130
    (10, 50.0, {"ads": 0.0, "events": 1.0}, 70 / 130),
])
def test_influence_window(project, window, cost, shares, unattributed):
    """attribution.window_days: a touch on cutoff − W gets nothing, one on cutoff − W + 1 counts, and the
    excluded touch's cost is unattributed (first_touch, so the excluded touch would take all the credit)."""
    tables = _tables({"X": ("t", "2026-01-01", "2026-01-21"), **FILLER_ACCOUNT},
                     [("X", "2026-01-11", "search"), ("X", "2026-01-12", "webinar"), ("X", "2026-01-21", "social"),
                      *FILLER_TOUCH],
                     [("2026-01-11", "search", 70), ("2026-01-12", "webinar", 30), ("2026-01-21", "social", 20),
                      *FILLER_SPEND])
    report = _run(project, tables, ["cac"], _config("first_touch", window=window))
    cac = report.result("cac")
    details = cac.details["treatment"]
    assert cac.treatment == pytest.approx(cost)                # X is the one customer
    assert details["total_cost"] == pytest.approx(cost)
    assert _shares(details) == pytest.approx(shares)
    assert details["unattributed_spend_share"] == pytest.approx(unattributed)
    # Z's 01-02 touch is inside its window either way (cutoff 01-10; 01-02 > 01-10 − 10 = 12-31): 10 / 1
    assert cac.baseline == pytest.approx(10.0)
    if window:
        assert any("53.8%" in message for message in _warnings(report, "W105"))  # 70 / 130 = 53.85 %
    else:
        assert not _warnings(report, "W105")


def test_touches_after_the_won_date_are_not_acquisition_cost(project):
    """A touch on the won date counts; one the day after is unattributed, though its spend is still split with
    another account's eligible touch that day (last_touch: the after-won touch would otherwise be last)."""
    tables = _tables({"X": ("t", "2026-01-01", "2026-02-01"), "Y": ("b", "2026-01-01", None)},
                     [("X", "2026-01-25", "search"), ("X", "2026-02-01", "webinar"), ("X", "2026-02-02", "social"),
                      ("Y", "2026-02-02", "social")],
                     [("2026-01-25", "search", 10), ("2026-02-01", "webinar", 20), ("2026-02-02", "social", 40)])
    report = _run(project, tables, [{"metric": "cost_per", "stage": "lead"}], _config("last_touch"))
    result = report.result("cost_per:lead")
    # X: 10 (01-25) + 20 (02-01, its won date) = 30; Y (never won): 40 / 2 = 20; X's other 20 is unattributed
    assert (result.treatment, result.baseline) == pytest.approx((30.0, 20.0))
    # X's last eligible touch is the 02-01 webinar: everything to events
    assert _shares(result.details["treatment"]) == pytest.approx({"ads": 0.0, "events": 1.0})
    # unattributed 20 of 10 + 20 + 40 = 70: 0.285714 -> "28.6%"
    assert result.details["treatment"]["unattributed_spend_share"] == pytest.approx(20 / 70)
    assert any("28.6%" in message for message in _warnings(report, "W105"))


def test_unattributed_spend_share_and_warning(project):
    """Spend with no touch of its campaign that day, plus ineligible touches' cost, is unattributed."""
    tables = _tables({"X": ("t", "2026-01-01", "2026-01-15"), "Y": ("b", "2026-01-01", None)},
                     [("X", "2026-01-10", "search"), ("X", "2026-01-20", "search"), ("Y", "2026-01-20", "search")],
                     [("2026-01-10", "search", 100),   # X alone: 100
                      ("2026-01-10", "brand", 40),     # brand has no touches at all: unattributed 40
                      ("2026-01-11", "search", 35),    # search has no touch on 01-11: unattributed 35
                      ("2026-01-20", "search", 50)])   # X (after won 01-15: ineligible) and Y: 25 each
    report = _run(project, tables, [{"metric": "cost_per", "stage": "lead"}], _config())
    result = report.result("cost_per:lead")
    assert (result.treatment, result.baseline) == pytest.approx((100.0, 25.0))
    # total 100 + 40 + 35 + 50 = 225; unattributed 40 + 35 + 25 = 100; 100 / 225 = 0.4444 -> "44.4%"
    for cohort in ("treatment", "baseline"):
        assert result.details[cohort]["unattributed_spend_share"] == pytest.approx(100 / 225)
    messages = _warnings(report, "W105")
    assert len(messages) == 1 and "44.4%" in messages[0]


def test_cac_counts_the_cost_of_entrants_who_never_convert(project):
    """CAC = cost of every entrant, converted or not, over customers; cost per lead divides by all entrants."""
    tables = _tables({"W": ("t", "2026-01-01", "2026-01-20"), "N1": ("t", "2026-01-01", None),
                      "N2": ("t", "2026-01-01", None), **FILLER_ACCOUNT},
                     [("W", "2026-01-05", "webinar"), ("W", "2026-01-10", "search"), ("N1", "2026-01-10", "search"),
                      ("N2", "2026-01-12", "webinar"), ("N2", "2026-01-14", "social"), *FILLER_TOUCH],
                     [("2026-01-05", "webinar", 10), ("2026-01-10", "search", 60), ("2026-01-12", "webinar", 50),
                      ("2026-01-14", "social", 30), *FILLER_SPEND])
    report = _run(project, tables, ["cac", {"metric": "cost_per", "stage": "lead"}], _config())
    # W: 10 + 60/2 = 40; N1: 60/2 = 30; N2: 50 + 30 = 80; Σ = 150
    cac, lead = report.result("cac"), report.result("cost_per:lead")
    assert cac.treatment == pytest.approx(150 / 1)   # one customer (W)
    assert lead.treatment == pytest.approx(150 / 3)  # three leads
    assert cac.details["treatment"]["total_cost"] == pytest.approx(150.0)
    assert (cac.details["treatment"]["entrants"], cac.details["treatment"]["reached"]) == (3, 1)
    assert (cac.baseline, lead.baseline) == pytest.approx((10.0, 10.0))  # Z alone


def test_journey_conversion_window(project):
    """journey.window_days = 30: entrants whose window ends after as_of are left out; a win after
    created_at + 30 is no win, and touches after created_at + 30 are not cost."""
    tables = _tables(
        {"P": ("t", "2026-01-01", "2026-01-20"),   # window to 01-31, won inside it
         "Q": ("t", "2026-01-01", "2026-02-15"),   # won after 01-31: not won; cutoff 01-31
         "R": ("t", "2026-03-15", "2026-03-20"),   # window to 04-14 > as_of 03-31: left out
         "S": ("t", "2026-03-01", None),           # window to 03-31 = as_of: an entrant (never won)
         **FILLER_ACCOUNT},                        # Z: window to 02-04, won 01-10
        [("P", "2026-01-10", "search"), ("Q", "2026-01-15", "webinar"), ("Q", "2026-01-31", "social"),
         ("Q", "2026-02-05", "search"), ("R", "2026-03-16", "search"), ("S", "2026-03-10", "social"),
         *FILLER_TOUCH],
        [("2026-01-10", "search", 40), ("2026-01-15", "webinar", 60), ("2026-01-31", "social", 10),
         ("2026-02-05", "search", 25), ("2026-03-16", "search", 100), ("2026-03-10", "social", 15), *FILLER_SPEND])
    report = _run(project, tables, ["cac", {"metric": "cost_per", "stage": "lead"}], _config(journey_window=30))
    cac, lead = report.result("cac"), report.result("cost_per:lead")
    details = cac.details["treatment"]
    # P 40; Q 60 + 10 (01-31 = created + 30 counts; 02-05 does not); S 15; R (100) left out: 40 + 70 + 15 = 125
    assert details["total_cost"] == pytest.approx(125.0)
    assert (details["entrants"], details["reached"], details["not_yet_through_window"]) == (3, 1, 1)
    assert cac.treatment == pytest.approx(125 / 1)   # only P is won inside its window
    assert lead.treatment == pytest.approx(125 / 3)  # P, Q, S
    assert cac.baseline == pytest.approx(10.0)
    # only Q's 02-05 touch (25) is unattributed; R's touch is eligible for R: 25 / (40+60+10+25+100+15+10) = 25/260
    assert details["unattributed_spend_share"] == pytest.approx(25 / 260)
    assert any("9.6%" in message for message in _warnings(report, "W105"))


def test_paid_channel_no_touch_carries_is_warned(project):
    """A paid channel that no touch carries ('tv') gives W107 naming it; the real one is not named and paid
    CAC counts ads only: linear 1519/6 / 2 customers."""
    report = _run(project, SHARED, SHARED_METRICS, _config(paid=("ads", "tv")))
    messages = _warnings(report, "W107")
    assert len(messages) == 1 and "'tv'" in messages[0] and "'ads'" not in messages[0]
    assert report.result("cac:paid").treatment == pytest.approx(1519 / 12)


def test_paid_cac_unavailable_without_paid_channels(project):
    """Without attribution.paid_channels, paid-only CAC is unavailable with a reason; blended CAC is not."""
    report = _run(project, SHARED, SHARED_METRICS, _config(paid=()))
    paid = report.result("cac:paid")
    assert paid.status is Status.UNAVAILABLE
    assert "paid_channels" in paid.reason
    assert report.result("cac").treatment == pytest.approx(210.0)  # 420 / 2
    assert not _warnings(report, "W107")
