"""Breakdowns: every metric within each segment, matched within it, with p-values adjusted across
metrics × segments. A segment's result must equal an experiment whose cohorts are restricted to
the segment by its `where` filter (a different path: SQL selection instead of splitting the panel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from cohortlab.codes import Check, Status
from cohortlab.report.build import Overrides, run
from cohortlab.spec.load import load_config
from cohortlab.spec.models import Experiment
from cohortlab.validate.run import validate

ROOT = Path(__file__).resolve().parents[1]
METRICS = [{"metric": "cac"}, {"metric": "conversion", "from": "qualified", "to": "opportunity", "days": 90},
           {"metric": "retention", "months": 3}]


def _experiment(where: str = "", breakdown: list[str] | None = None) -> Experiment:
    return Experiment.model_validate({
        "name": "nurture", "metrics": METRICS, "breakdown": breakdown or [],
        "match": {"method": "exact", "on": ["segment", "channel"]},
        "treatment": {"where": f"journey = 'orchestrated'{where}",
                      "entered": {"from": "2025-10-01", "to": "2026-03-31"}},
        "baseline": {"where": f"journey = 'standard'{where}", "entered": {"from": "2025-04-01", "to": "2025-09-30"}},
    })


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "configs" / "cohortlab.yaml")[0]


@pytest.mark.parametrize("ci", ["bootstrap", "analytic"])
def test_a_segment_is_the_experiment_restricted_to_it(config, ci):
    overrides = Overrides(replicates=200, ci=ci)
    report = run(_experiment(breakdown=["segment"]), config, overrides=overrides)
    assert [result.segment for result in report.results] == [None] * 3 + [
        f"segment={level}" for level in ("Enterprise", "Mid-Market", "SMB") for _ in METRICS]
    for level in ("Enterprise", "SMB"):
        alone = run(_experiment(f" AND segment = '{level}'"), config, overrides=overrides)
        for expected in alone.results:
            found = report.result(expected.key, f"segment={level}")
            assert (found.status, found.reason) == (expected.status, expected.reason)
            if found.status is Status.UNAVAILABLE:  # Enterprise retention: too few customers at month 3
                continue
            assert found.n == expected.n
            # the same sums in another order (batched over the panel's vectors): equal to rounding
            assert (found.baseline, found.treatment) == pytest.approx((expected.baseline, expected.treatment), rel=1e-12)
            if ci == "analytic":
                assert found.ci == pytest.approx(expected.ci, rel=1e-12)
                assert found.p_value == pytest.approx(expected.p_value, rel=1e-12)
            else:
                # the segment shares the experiment's replicates (its strata are the experiment's, split by the
                # matched column): the same resampling design, other draws, so the endpoints agree within
                # Monte Carlo error of 200 replicates
                width = expected.ci[1] - expected.ci[0]
                assert found.ci == pytest.approx(expected.ci, abs=0.15 * width)


def test_a_segment_of_a_matched_column_shares_the_experiments_replicates(config):
    """Breaking down by a column matched exactly keeps the strata whole: the segment's matching is the
    experiment's restricted to it, so its bootstrap weights are the experiment's restricted to its rows; by a
    column not matched on, the segment's strata differ and it draws its own replicates."""
    from cohortlab.data.contract import check_contract
    from cohortlab.data.panel import build_panel
    from cohortlab.data.source import open_database
    from cohortlab.engine.matching import match_panel, segments
    from cohortlab.spec.cohorts import cohort_filters
    from cohortlab.stats.bootstrap import replicate_counts

    experiment = _experiment(breakdown=["segment", "vertical"])
    data = check_contract(open_database(config), config.journey, config.as_of)
    panel, _ = build_panel(data, cohort_filters(experiment, data.db.tables["accounts"].columns, None), config.journey,
                           config.economics, config.attribution, ["segment", "channel", "vertical"])
    matching = match_panel(experiment, panel)
    found = {segment.label: segment for segment in segments(experiment, panel)}
    counts = list(replicate_counts(matching.groups, 50, seed=3))[1]
    for level in ("Enterprise", "Mid-Market", "SMB"):
        segment = found[f"segment={level}"]
        assert matching.restricts_to(segment.matching, segment.rows)
        restricted = matching.bootstrap_weights(counts)[:, segment.rows]
        np.testing.assert_array_equal(restricted, segment.matching.replicate_weights(counts[:, segment.rows]))
    vertical = [segment for label, segment in found.items() if label.startswith("vertical=")]
    assert len(vertical) == 6
    assert not any(matching.restricts_to(segment.matching, segment.rows) for segment in vertical)


def test_p_values_are_adjusted_across_metrics_and_segments(config):
    report = run(_experiment(breakdown=["segment"]), config, overrides=Overrides(replicates=200, ci="analytic"))
    tested = [result for result in report.results if result.status is Status.OK]
    assert len(tested) == 11  # Enterprise retention is unavailable: too few customers observed at month 3
    holm = multipletests([result.p_value for result in tested], method="holm")[1]
    assert [result.p_adjusted for result in tested] == pytest.approx(list(holm), rel=1e-12)
    # the overall CAC's adjusted p is at least its raw p times the family's size over its rank (Holm's steps)
    assert report.result("cac").p_adjusted >= report.result("cac").p_value


def test_a_segment_without_baseline_support_is_unavailable_not_an_error(config):
    """Channel 'events' accounts matched within one channel: fine; a where that leaves one segment with only
    treatment accounts makes its metrics unavailable, and the rest of the report stands."""
    experiment = _experiment(breakdown=["segment"])
    experiment = experiment.model_copy(update={"baseline": experiment.baseline.model_copy(
        update={"where": "journey = 'standard' AND segment <> 'Enterprise'"})})
    report = run(experiment, config, overrides=Overrides(replicates=200, ci="analytic"))
    enterprise = [result for result in report.breakdown if result.segment == "segment=Enterprise"]
    assert [result.status for result in enterprise] == [Status.UNAVAILABLE] * 3
    assert enterprise[0].reason == "the baseline cohort has no accounts"
    assert all(result.status is Status.OK for result in report.overall)


def test_validate_checks_breakdown_columns(project):
    tables = {"accounts": [{"account_id": "a", "created_at": "2025-01-01", "tier": "gold"}]}
    january = {"from": "2025-01-01", "to": "2025-01-31"}
    path = project(tables, {"name": "e", "metrics": ["cac"], "breakdown": ["tier", "teir"],
                            "treatment": {"where": "tier = 'gold'", "entered": january},
                            "baseline": {"where": "tier = 'lead'", "entered": january}})
    findings = [finding for finding in validate([path]).findings if finding.code is Check.UNKNOWN_COLUMN]
    assert [(finding.path, finding.message) for finding in findings] == [
        ("$.breakdown[1]", "breakdown: unknown column 'teir' in accounts")]
    assert findings[0].hint == "did you mean 'tier'?"
