"""On simulated confounded data with a known effect, matching removes the bias a naive comparison has.

Larger accounts and Enterprise accounts are both likelier to get the treatment and cost more to acquire,
so a naive comparison of cost per lead is biased upwards. The treatment itself lowers the cost by exactly
TRUE_EFFECT for every account, so the ATT is TRUE_EFFECT whatever the treated cohort's make-up.
"""

from __future__ import annotations

import numpy as np
import pytest

from cohortlab.report.build import compare
from studies import load_study

TRUE_EFFECT = -100.0
N = 3000


def _tables(seed: int = 5) -> dict[str, list[dict]]:
    rng = np.random.default_rng(seed)
    employees = np.maximum(np.round(rng.normal(60, 20, N)), 1)
    enterprise = rng.random(N) < 0.25
    treated = rng.random(N) < 1 / (1 + np.exp(-(-1.2 + 0.06 * (employees - 60) + 1.0 * enterprise)))
    cost = 700 + 7.5 * employees + 400 * enterprise + TRUE_EFFECT * treated + rng.normal(0, 100, N)
    accounts, stages = [], []
    for index in range(N):
        account = f"a{index:05d}"
        accounts.append({"account_id": account, "created_at": "2025-06-01", "arm": "t" if treated[index] else "b",
                         "employees": int(employees[index]),
                         "segment": "Enterprise" if enterprise[index] else "SMB",
                         "acquisition_cost": float(cost[index])})
        stages.append({"account_id": account, "stage": "lead", "at": "2025-06-01"})
    return {"accounts": accounts, "stages": stages}


CONFIG = {"as_of": "2026-03-31", "journey": {"stages": ["lead", "customer"], "won": "customer"},
          "defaults": {"replicates": 400, "seed": 3, "min_cohort": 1}}


def _compare(project, match: dict | None):
    experiment = {
        "name": "confounded", "metrics": [{"metric": "cost_per", "stage": "lead"}],
        "treatment": {"where": "arm = 't'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
        "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
        **({"match": match} if match else {}),
    }
    return compare(project(TABLES, experiment, CONFIG))


TABLES = _tables()


def test_the_naive_comparison_is_biased(project):
    report = _compare(project, None)
    result = report.result("cost_per:lead")
    low, high = result.ci
    assert not low <= TRUE_EFFECT <= high
    assert result.delta > TRUE_EFFECT + 100  # the confounders add well over 100 to the naive difference


@pytest.mark.parametrize("match", [
    {"method": "cem", "on": ["segment"], "coarsen": {"employees": 10}},
    {"method": "propensity", "covariates": ["employees", "segment"], "caliper": 0.2},
    {"method": "propensity", "covariates": ["employees", "segment"], "exact": ["segment"], "ratio": 2,
     "replace": True},
    {"method": "propensity", "covariates": ["employees", "segment"], "weighting": "odds"},
], ids=["cem", "nearest-caliper", "nearest-2-replace-exact", "odds"])
def test_matching_recovers_the_effect(project, match):
    report = _compare(project, match)
    result = report.result("cost_per:lead")
    low, high = result.ci
    assert low <= TRUE_EFFECT <= high, (result.delta, result.ci)
    assert abs(result.delta - TRUE_EFFECT) < 25
    assert report.matching.balanced is True
    assert max(abs(row.smd_before) for row in report.matching.balance) > 0.3  # confounded before matching


def test_poor_matching_is_flagged_loudly(project):
    # 1:1 without replacement and no caliper: the largest treated accounts run out of large baseline accounts
    report = _compare(project, {"method": "propensity", "covariates": ["employees"]})
    assert report.matching.balanced is False
    assert "W202" in [warning.code for warning in report.warnings]
    from io import StringIO

    from cohortlab.report.render.text import render_text

    stream = StringIO()
    render_text(report, stream, color=False)
    assert "⚠ NOT BALANCED: 1 covariate above max_smd 0.1 after matching (employees)" in stream.getvalue()


def test_a_covariate_level_in_one_cohort_only_is_reported(project):
    tables = {"accounts": [dict(row) for row in TABLES["accounts"][:400]], "stages": TABLES["stages"][:400]}
    for row in tables["accounts"]:
        row["plan"] = "pilot" if row["arm"] == "t" and row["employees"] > 75 else "standard"
    experiment = {
        "name": "separated", "metrics": [{"metric": "cost_per", "stage": "lead"}],
        "treatment": {"where": "arm = 't'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
        "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
        "match": {"method": "propensity", "covariates": ["employees", "plan"], "caliper": 0.2},
    }
    report = compare(project(tables, experiment, CONFIG))
    pilots = sum(1 for row in tables["accounts"] if row["plan"] == "pilot")
    codes = [warning.code for warning in report.warnings]
    assert "W203" in codes and "W201" in codes
    # every pilot account is treated and has no baseline account within the caliper: all are dropped
    assert report.matching.dropped >= pilots > 0
    assert report.matching.settings["converged"] is False


def test_small_coverage_study():
    """A small version of benchmarks/matching_coverage.py (its full figures are in docs/matching.md).

    Over 30 simulated datasets: the naive intervals almost never cover the effect; odds weighting and 1:2
    matching with replacement are nearly unbiased and cover it in at least 85% of them; coarsened exact and
    1:1 matching without replacement leave some bias (the full study measures it) but remove at least 85% of
    the naive comparison's."""
    study = load_study("matching_coverage.py", "matching_coverage")
    unbiased = ["propensity odds weighting", "propensity 1:2 with replacement, caliper 0.2"]
    reduced = ["cem: segment, x in 8 quantile bins", "propensity 1:1, caliper 0.2"]
    methods = ["none (naive)", *unbiased, *reduced]
    errors, covered = {name: [] for name in methods}, {name: [] for name in methods}
    for simulation in range(30):
        treated, covariates, outcome = study.simulate(np.random.default_rng(1000 + simulation), 1000)
        for name in methods:
            delta, (low, high), _ = study.estimate(study.METHODS[name], treated, covariates, outcome, 200,
                                                   simulation)
            errors[name].append(delta - study.EFFECT)
            covered[name].append(low <= study.EFFECT <= high)
    naive = np.mean(errors["none (naive)"])
    assert np.mean(covered["none (naive)"]) < 0.1 and naive > 1.0
    for name in unbiased:
        assert abs(np.mean(errors[name])) < 0.05 * naive, name
        assert np.mean(covered[name]) >= 0.85, name
    for name in reduced:
        assert abs(np.mean(errors[name])) < 0.15 * naive, name
