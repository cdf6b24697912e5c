"""The scale benchmark's project, small: what benchmarks/scale_data.py writes is a valid project of the
reference shape, and the panel orders each cohort's rows so that every stratum is contiguous."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app
from cohortlab.data.contract import check_contract
from cohortlab.data.panel import build_panel
from cohortlab.data.source import open_database
from cohortlab.engine.matching import match_panel, row_order
from cohortlab.report.build import compare
from cohortlab.spec.cohorts import cohort_filters
from cohortlab.spec.load import load_config, load_experiment
from studies import load_study

ENTRANTS = 4_000


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    rows = load_study("scale_data.py", "scale_data").generate(folder, ENTRANTS, seed=3)
    return folder, rows


def test_the_generated_project_has_the_reference_shape(project):
    folder, rows = project
    # SPEC §10 per entrant: 0.3 customers, 5 touches; about 27 revenue rows per customer
    assert rows["accounts"] == ENTRANTS
    assert rows["customers"] / ENTRANTS == pytest.approx(0.30, abs=0.03)
    assert rows["touches"] / ENTRANTS == pytest.approx(5.0, abs=0.3)
    assert rows["revenue"] / rows["customers"] == pytest.approx(27, rel=0.15)
    assert CliRunner().invoke(app, ["validate", "--strict", str(folder)]).exit_code == 0


def test_every_stratum_is_a_contiguous_run_of_panel_rows(project):
    folder, _ = project
    experiment, loaded = load_experiment(folder / "experiments" / "scale.yaml")
    config, _ = load_config(folder / "configs" / "cohortlab.yaml")
    assert row_order(experiment) == ["segment", "channel", "employees"]  # the breakdown column first
    data = check_contract(open_database(config), config.journey, config.as_of)
    panel, _ = build_panel(data, cohort_filters(experiment, data.db.tables["accounts"].columns, loaded),
                           config.journey, config.economics, config.attribution, ["segment", "channel", "employees"],
                           (), row_order(experiment))
    groups = match_panel(experiment, panel).groups
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    assert len(starts) == len(np.unique(groups))  # each group appears as one run
    assert panel.treated[:panel.treated.sum()].all()  # treatment first
    segment = panel.covariates["segment"]
    for side in (panel.treated, ~panel.treated):
        rows = np.flatnonzero(side)
        assert np.sum(segment[rows][1:] != segment[rows][:-1]) == len(np.unique(segment[rows])) - 1


def test_both_experiments_compare(project):
    folder, _ = project
    report = compare(folder / "experiments" / "scale.yaml", replicates=100)
    overall = [result for result in report.results if result.segment is None]
    assert len(overall) == 10 and all(result.status.value == "ok" for result in overall)
    analytic = compare(folder / "experiments" / "scale-analytic.yaml", ci="analytic")
    assert {result.method for result in analytic.results if result.status.value == "ok"} == {"analytic"}
