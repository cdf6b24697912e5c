"""Stages, conversion, velocity, the funnel table and paid-only CAC, on hand-built tables checked by hand."""

from __future__ import annotations

import pytest

from cohortlab.codes import Status
from cohortlab.report.build import compare
from cohortlab.spec.problems import SpecError

AS_OF = "2026-03-31"
JOURNEY = {"stages": ["lead", "qualified", "opportunity", "customer"], "won": "customer"}


def _experiment(metrics):
    return {"name": "hand", "metrics": metrics,
            "treatment": {"where": "arm = 't'", "entered": {"from": "2025-01-01", "to": "2026-12-31"}},
            "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-01-01", "to": "2026-12-31"}}}


def _worked_example():
    """docs/metrics.md's worked example (treatment A, B, C) and a baseline customer X on its own campaign."""
    accounts = [{"account_id": name, "created_at": "2026-03-01", "arm": arm} for name, arm in
                (("A", "t"), ("B", "t"), ("C", "t"), ("X", "b"))]
    stages = [{"account_id": name, "stage": "lead", "at": "2026-03-01"} for name in "ABCX"]
    stages += [{"account_id": "A", "stage": "customer", "at": "2026-03-05"},
               {"account_id": "C", "stage": "customer", "at": "2026-03-04"},
               {"account_id": "X", "stage": "customer", "at": "2026-03-10"}]
    channel = {"search": "paid_search", "webinar": "content", "brand": "brand", "other": "events"}
    spend = [{"date": date, "campaign": campaign, "channel": channel[campaign], "amount": amount}
             for date, campaign, amount in (("2026-03-01", "search", 200.0), ("2026-03-02", "webinar", 300.0),
                                            ("2026-03-05", "search", 90.0), ("2026-03-06", "brand", 50.0),
                                            ("2026-03-10", "other", 40.0))]
    touches = [{"account_id": name, "at": date, "campaign": campaign, "channel": channel[campaign]}
               for name, date, campaign in (("A", "2026-03-01", "search"), ("B", "2026-03-01", "search"),
                                            ("A", "2026-03-02", "webinar"), ("B", "2026-03-02", "webinar"),
                                            ("C", "2026-03-02", "webinar"), ("A", "2026-03-05", "search"),
                                            ("C", "2026-03-05", "search"), ("C", "2026-03-05", "search"),
                                            ("X", "2026-03-10", "other"))]
    return {"accounts": accounts, "stages": stages, "spend": spend, "touches": touches}


# paid CAC of the treatment by model: (A's paid cost + B's) / 2 customers, from the docs' table
PAID_CAC = {"linear": (230 * 2 / 3 + 200 / 2) / 2, "first_touch": (230 + 200) / 2, "last_touch": (230 + 0) / 2,
            "position_based": (230 * 0.8 + 200 * 0.5) / 2}


@pytest.mark.parametrize("model", sorted(PAID_CAC))
def test_the_worked_example(project, model):
    """CAC counts B, who never converted; the model moves cost between channels, never between accounts."""
    config = {"as_of": AS_OF, "journey": {"stages": ["lead", "customer"], "won": "customer"},
              "attribution": {"model": model, "paid_channels": ["paid_search"]}}
    report = compare(project(_worked_example(), _experiment(["cac", {"metric": "cac", "spend": "paid"}]), config))
    cac, paid = report.result("cac"), report.result("cac:paid")
    assert cac.treatment == pytest.approx((230 + 200 + 100) / 2)
    assert cac.baseline == pytest.approx(40.0)
    assert paid.treatment == pytest.approx(PAID_CAC[model])
    assert paid.baseline == 0.0  # X's only touch is on events
    assert paid.label == "CAC (paid)"
    # unattributed: brand $50 with no touch + C's two $30 touches after it was won, of $680
    assert cac.details["treatment"]["unattributed_spend_share"] == pytest.approx(110 / 680)
    shares = cac.details["treatment"]["cost_share_by_channel"]
    assert shares["paid_search"] == pytest.approx(PAID_CAC[model] * 2 / 530)
    assert shares["paid_search"] + shares["content"] == pytest.approx(1.0)
    warning = next(w.message for w in report.warnings if w.code == "W105")
    assert "16.2%" in warning and "$60 on touches" in warning
    assert "$50 on days its campaign touched no account" in warning


def test_paid_cac_needs_paid_channels_and_spend(project):
    tables = _worked_example()
    no_paid = compare(project(tables, _experiment([{"metric": "cac", "spend": "paid"}]),
                              {"as_of": AS_OF, "journey": {"stages": ["lead", "customer"]}}))
    assert no_paid.result("cac:paid").status is Status.UNAVAILABLE
    assert "attribution.paid_channels" in no_paid.result("cac:paid").reason
    typo = compare(project(tables, _experiment(["cac"]), {"as_of": AS_OF, "journey": {"stages": ["lead", "customer"]},
                                                          "attribution": {"paid_channels": ["paid_serach"]}}))
    message = next(w.message for w in typo.warnings if w.code == "W107")
    assert "'paid_serach'" in message and "did you mean 'paid_search'?" in message


def _steps():
    """Treatment q1..q6 and baseline b1..b4 moving from qualified to opportunity (as_of 2026-03-31).

    q1 4 days, q2 10, q6 20; q3 never (followed 30 days); q4 qualified 03-25 (followed 6 days);
    q5 47 days (after a 30-day window). b1 10 days, b2 20; b3, b4 never.
    """
    people = [("q1", "2026-03-01", "2026-03-05"), ("q2", "2026-03-01", "2026-03-11"), ("q3", "2026-03-01", None),
              ("q4", "2026-03-25", None), ("q5", "2026-02-01", "2026-03-20"), ("q6", "2026-03-01", "2026-03-21"),
              ("b1", "2025-12-01", "2025-12-11"), ("b2", "2025-12-01", "2025-12-21"), ("b3", "2025-12-01", None),
              ("b4", "2025-12-01", None)]
    accounts, stages = [], []
    for name, qualified, opportunity in people:
        accounts.append({"account_id": name, "created_at": qualified, "arm": name[0].replace("q", "t")})
        stages += [{"account_id": name, "stage": "lead", "at": qualified},
                   {"account_id": name, "stage": "qualified", "at": qualified}]
        if opportunity:
            stages.append({"account_id": name, "stage": "opportunity", "at": opportunity})
    return {"accounts": accounts, "stages": stages}


def test_conversion_and_velocity_by_hand(project):
    """Conversion counts accounts whose window has elapsed; velocity is the Kaplan–Meier median given conversion.

    Treatment velocity: S = 5/6 after day 4, 5/6·3/4 = 0.625 after day 10, 0.625·2/3 = 0.4167 after day 20;
    F(30) = 0.5833, so the median given conversion is where S = 1 − 0.5833/2 = 0.7083: between day 6
    (0.8333, q4 censored) and day 10, 6 + 4·(0.8333 − 0.7083)/(0.8333 − 0.625) = 8.4. Baseline: S = 0.75
    after day 10, 0.5 after 20; F(30) = 0.5, so S = 0.75 is reached at day 10.
    """
    step = {"from": "qualified", "to": "opportunity", "days": 30}
    report = compare(project(_steps(), _experiment([{"metric": "conversion", **step}, {"metric": "velocity", **step}]),
                             {"as_of": AS_OF, "journey": JOURNEY}))
    conversion = report.result("conversion:qualified:opportunity:30")
    assert conversion.treatment == pytest.approx(3 / 5)  # q1, q2, q6 of q1, q2, q3, q5, q6 (q4 still in window)
    assert conversion.baseline == pytest.approx(2 / 4)
    assert conversion.details["treatment"]["still_in_window"] == 1
    assert conversion.label == "Conversion qualified → opportunity (30d)"
    velocity = report.result("velocity:qualified:opportunity:30")
    assert velocity.treatment == pytest.approx(8.4)
    assert velocity.baseline == pytest.approx(10.0)
    assert velocity.details["treatment"]["share_within_window"] == pytest.approx(1 - 0.625 * 2 / 3)


def test_the_funnel_table(project):
    """A row per stage with the entrants reaching it; conversion over the default 90 days is unavailable for
    a treatment whose accounts all qualified within 90 days of as_of; cost is unavailable without cost data."""
    report = compare(project(_steps(), _experiment([{"metric": "conversion", "from": "qualified",
                                                     "to": "opportunity"}]), {"as_of": AS_OF, "journey": JOURNEY}))
    assert [stage.stage for stage in report.funnel] == JOURNEY["stages"]
    assert [stage.reached for stage in report.funnel] == [
        {"treatment": 6, "baseline": 4}, {"treatment": 6, "baseline": 4}, {"treatment": 4, "baseline": 2},
        {"treatment": 0, "baseline": 0}]
    assert report.funnel[0].conversion is None
    step = report.funnel[2].conversion
    assert step.status is Status.UNAVAILABLE and "at least 90 days before as_of" in step.reason
    assert report.funnel[1].cost_per.status is Status.UNAVAILABLE
    assert report.to_dict()["funnel"][2]["reached"] == {"treatment": 4, "baseline": 2}


def test_the_conversion_window_leaves_young_entrants_out(project):
    """journey.window_days 30: q4 (entered 03-25) is left out; q5 reached opportunity 47 days after entry,
    outside its window, so it counts as an entrant that did not reach opportunity."""
    tables = _steps()
    for row in tables["accounts"]:
        row["acquisition_cost"] = 10.0
    report = compare(project(tables, _experiment([{"metric": "cost_per", "stage": "opportunity"}]),
                             {"as_of": AS_OF, "journey": {**JOURNEY, "window_days": 30}}))
    cost = report.result("cost_per:opportunity")
    assert cost.treatment == pytest.approx(5 * 10.0 / 3)  # q1, q2, q3, q5, q6 entrants; q1, q2, q6 reached
    assert cost.details["treatment"]["not_yet_through_window"] == 1


def test_a_step_must_go_forward(project):
    path = project(_steps(), _experiment([{"metric": "velocity", "from": "opportunity", "to": "qualified"}]),
                   {"as_of": AS_OF, "journey": JOURNEY})
    with pytest.raises(SpecError, match="stage 'qualified' does not come after 'opportunity'"):
        compare(path)
