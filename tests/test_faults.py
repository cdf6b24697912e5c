"""Fault injection: broken inputs and unlucky moments, as a careless or unlucky user meets them.

Each case breaks one thing in a small, complete project (tests/faults.py) and checks what the
user sees: the exit code, a message naming the file, table, column, line or value, no traceback,
no number computed from data that could not be read, and no input or output file damaged.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faults import EXPERIMENT, READS, cli, make_project, tables

EVENT_TABLES = ("stages", "revenue", "spend", "touches", "milestones")


@pytest.fixture(scope="module")
def data():
    return tables()


@pytest.fixture
def project(tmp_path, data):
    return make_project(tmp_path / "project", data)


def compare_json(project, *args):
    return cli("compare", project.experiment, "--format", "json", *args)


def assert_unavailable_exactly(outcome, missing_table: str, reason: str):
    """Every metric reading ``missing_table`` is unavailable with ``reason``; every other one is computed."""
    results = outcome.results()
    assert set(results) == set(READS)
    for key, result in results.items():
        if missing_table in READS[key]:
            assert result["status"] == "unavailable", key
            assert reason in result["reason"], (key, result["reason"])
            assert result["treatment"] is None and result["baseline"] is None and result["ci"] == [None, None]
        else:
            assert result["status"] == "ok", (key, result["reason"])
            assert math.isfinite(result["treatment"]) and math.isfinite(result["baseline"])
    unavailable = [warning["message"] for warning in outcome.report["warnings"] if warning["code"] == "W301"]
    assert len(unavailable) == sum(missing_table in reads for reads in READS.values())


# ---------------------------------------------------------------- tables absent, empty, unreadable


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_absent_table_makes_its_metrics_unavailable(project, table):
    project.table_file(table).unlink()
    outcome = compare_json(project)
    assert outcome.code == 0
    if table in ("spend", "touches"):  # cost then comes from accounts.acquisition_cost, which this source lacks
        reason = "no cost data"
    elif table == "stages":  # won dates then come from revenue: every metric but the stage-based ones survives
        reason = "the source has no 'stages' table"
        results = outcome.results()
        assert results["conversion:lead:customer:90"]["status"] == "unavailable"
        assert reason in results["conversion:lead:customer:90"]["reason"]
        assert results["ltv:earned:6"]["status"] == "ok"
        return
    else:
        reason = f"the source has no '{table}' table"
    assert_unavailable_exactly(outcome, table, reason)


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_empty_table_makes_its_metrics_unavailable(project, data, table):
    project.write_table(table, data[table].iloc[:0])
    outcome = compare_json(project)
    assert outcome.code == 0
    assert_unavailable_exactly(outcome, table, f"table '{table}' ({project.table_file(table)}) has no rows")


@pytest.mark.parametrize("table", ["revenue", "milestones", "stages"])
def test_table_whose_every_row_is_set_aside_makes_its_metrics_unavailable(project, data, table):
    frame = data[table].copy()
    frame["account_id"] = "Z" + frame["account_id"]  # no such accounts: every row ignored (W101)
    project.write_table(table, frame)
    outcome = compare_json(project)
    assert outcome.code == 0
    assert_unavailable_exactly(outcome, table, f"none of the {len(frame):,} rows of table '{table}'")
    assert any(warning["code"] == "W101" and f"{len(frame)} of {len(frame)} rows of '{table}'" in warning["message"]
               for warning in outcome.report["warnings"])


@pytest.mark.parametrize("table", ["accounts", *EVENT_TABLES])
def test_broken_symlink_is_an_error_naming_table_and_file(project, tmp_path, table):
    path = project.table_file(table)
    path.unlink()
    path.symlink_to(tmp_path / "gone" / f"{table}.parquet")
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"cannot read table '{table}': {path} is a broken symbolic link" in outcome.err
    assert outcome.out == ""


def test_folder_in_place_of_a_table_file_is_an_error(project):
    path = project.table_file("revenue")
    path.unlink()
    path.mkdir()
    outcome = compare_json(project)
    assert outcome.code == 2 and f"cannot read table 'revenue': {path} is not a file" in outcome.err


@pytest.mark.parametrize("table,suffixes", [("accounts", (".parquet", ".csv")), ("revenue", (".parquet", ".tsv")),
                                            ("spend", (".parquet", ".csv.gz"))])
def test_two_files_for_one_table_are_ambiguous(project, data, table, suffixes):
    for suffix in suffixes[1:]:
        data[table].to_csv(project.data / f"{table}{suffix}", index=False, sep="\t" if suffix == ".tsv" else ",")
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table '{table}' has 2 files in {project.data}" in outcome.err
    assert all(f"{table}{suffix}" in outcome.err for suffix in suffixes)


@pytest.mark.parametrize("name", ["Revenue.parquet", "revenue.xlsx", "revenue.CSV"])
def test_file_that_looks_like_a_table_but_is_not_read_is_an_error(project, name):
    project.table_file("revenue").rename(project.data / name)
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table 'revenue': {project.data / name} is not read" in outcome.err


def test_table_named_in_the_config_but_absent_is_an_error(project):
    project.set_config(tables={"revenue": {"name": "mrr"}})
    outcome = compare_json(project)
    assert outcome.code == 2
    assert "table 'revenue' not found: no mrr.parquet" in outcome.err and "tables.revenue.name" in outcome.err


def test_corrupt_parquet_file_is_an_error_naming_it(project):
    path = project.table_file("revenue")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"cannot read table 'revenue' from {path}" in outcome.err


def _duckdb_project(project, data, skip=(), empty=()):
    import duckdb

    path = project.root / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for table, frame in data.items():
            if table not in skip:
                con.register("frame", frame.iloc[:0] if table in empty else frame)
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
                con.unregister("frame")
    project.set_config(source={"kind": "duckdb", "path": "../warehouse.duckdb"})
    return path


def test_duckdb_source_without_revenue_table(project, data):
    _duckdb_project(project, data, skip=("revenue",))
    outcome = compare_json(project)
    assert outcome.code == 0
    assert_unavailable_exactly(outcome, "revenue", "the source has no 'revenue' table")


def test_duckdb_source_with_empty_revenue_table(project, data):
    path = _duckdb_project(project, data, empty=("revenue",))
    outcome = compare_json(project)
    assert outcome.code == 0
    assert_unavailable_exactly(outcome, "revenue", f"table 'revenue' ({path}:revenue) has no rows")


def test_duckdb_source_missing_a_table_the_config_names(project, data):
    _duckdb_project(project, data)
    project.set_config(tables={"revenue": {"name": "mrr"}})
    outcome = compare_json(project)
    assert outcome.code == 2 and "has no table 'mrr'" in outcome.err


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize("table,column", [("revenue", "amount"), ("revenue", "cost"), ("spend", "amount"),
                                          ("accounts", "acquisition_cost")])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinite_amounts_are_errors_with_example_rows(project, data, table, column, value):
    frame = data[table].copy()
    if column not in frame:
        frame[column] = 1.0
    frame.loc[frame.index[7], column] = value
    project.write_table(table, frame)
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table '{table}' ({project.table_file(table)}) column '{column}' has 1 NaN or infinite values" in outcome.err
    shown = {"nan": "nan", "inf": "inf", "-inf": "-inf"}[str(value)]
    assert f"{column}={shown}" in outcome.err  # the offending row, as an example


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(min_value=0, max_value=10_000),
       value=st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.01, -1e9]))
def test_any_bad_amount_anywhere_in_revenue_is_refused(tmp_path_factory, data, row, value):
    project = make_project(tmp_path_factory.mktemp("p") / "project", data)
    frame = data["revenue"].copy()
    row = row % len(frame)
    frame.loc[frame.index[row], "amount"] = value
    project.write_table("revenue", frame)
    outcome = compare_json(project)
    assert outcome.code == 2
    what = "negative values" if math.isfinite(value) else "NaN or infinite values"
    assert f"column 'amount' has 1 {what}" in outcome.err
    assert f"account_id={frame['account_id'].iloc[row]}" in outcome.err
    assert outcome.out == ""


def _long_revenue_csv(project, data, line: int, value: str, column: str = "amount"):
    """Revenue as a CSV longer than the engine's type sample, with ``value`` in ``column`` on file ``line``."""
    frame = pd.concat([data["revenue"]] * 30, ignore_index=True)  # about 30,000 rows: past the 20,480 sampled
    frame["month"] = frame["month"].astype(str)
    frame["amount"] = frame["amount"].astype(str)
    frame.loc[frame.index[line - 2], column] = value  # line 1 is the header
    return project.write_table("revenue", frame, ".csv")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.integers(min_value=21_000, max_value=25_000), value=st.sampled_from(["12O.5", "n/a", "$30", "1e"]))
def test_csv_value_that_does_not_convert_deep_in_the_file(tmp_path_factory, data, line, value):
    project = make_project(tmp_path_factory.mktemp("p") / "project", data)
    path = _long_revenue_csv(project, data, line, value)
    outcome = compare_json(project)
    assert outcome.code == 2
    assert (f"table 'revenue' ({path}) line {line}: column 'amount' has '{value}', which is not a number"
            in outcome.err), outcome.err


def test_csv_line_that_splits_differently_deep_in_the_file_is_shown(project, data):
    path = _long_revenue_csv(project, data, 23_456, "1,5")  # written quoted: "1,5"
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table 'revenue' ({path}) line 23456: column 'amount'" in outcome.err
    assert ',"1,5"' in outcome.err  # the line as the file has it


def test_csv_date_that_does_not_convert_deep_in_the_file(project, data):
    path = _long_revenue_csv(project, data, 22_222, "2025-13-45", column="month")
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table 'revenue' ({path}) line 22222: column 'month' has '2025-13-45', which is not a date" in outcome.err


def test_infinite_amount_in_csv_is_bad_data_not_an_internal_error(project, data):
    frame = data["spend"].copy()
    frame["amount"] = frame["amount"].astype(str)
    frame.loc[frame.index[3], "amount"] = "inf"
    path = project.write_table("spend", frame, ".csv")
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"table 'spend' ({path}) column 'amount' has 1 NaN or infinite values" in outcome.err


# ---------------------------------------------------------------- as_of


def _as_of_inferred(project, data, extra_revenue_rows=()):
    project.set_config(as_of=None)
    frame = pd.concat([data["revenue"], pd.DataFrame(list(extra_revenue_rows), columns=["account_id", "month",
                                                                                          "amount"])],
                      ignore_index=True) if extra_revenue_rows else data["revenue"]
    project.write_table("revenue", frame)
    return compare_json(project)


def test_inferred_as_of_is_the_end_of_the_last_month_with_revenue(project, data):
    outcome = _as_of_inferred(project, data)
    last = max(data["revenue"]["month"])
    assert outcome.report["as_of"] == "2026-06-30" == (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date().isoformat()
    assert outcome.report["as_of_basis"] == "inferred: the end of the last month with revenue (2026-06)"
    assert not any(warning["code"] == "W108" for warning in outcome.report["warnings"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dates=st.lists(st.dates(min_value=pd.Timestamp("2027-08-01").date(),
                               max_value=pd.Timestamp("2225-12-31").date()), min_size=1, max_size=3))
def test_a_few_rows_dated_far_ahead_do_not_move_an_inferred_as_of(tmp_path_factory, data, dates):
    clean = _as_of_inferred(make_project(tmp_path_factory.mktemp("p") / "project", data), data)
    outcome = _as_of_inferred(make_project(tmp_path_factory.mktemp("p") / "project", data), data,
                              [("A0001", day, 10.0) for day in dates])
    assert outcome.code == 0
    assert outcome.report["as_of"] == clean.report["as_of"] == "2026-06-30"
    assert outcome.report["results"] == clean.report["results"]  # the same numbers: the far rows left out
    assert f"{len(dates)} revenue row" in outcome.report["as_of_basis"]
    far = [warning["message"] for warning in outcome.report["warnings"] if warning["code"] == "W108"]
    assert len(far) == 1 and f"up to {max(dates):%Y-%m}" in far[0]


def test_a_few_rows_dated_next_month_do_not_move_an_inferred_as_of(project, data):
    outcome = _as_of_inferred(project, data, [("A0001", pd.Timestamp("2026-07-01").date(), 5.0),
                                              ("A0002", pd.Timestamp("2026-07-01").date(), 5.0)])
    assert outcome.report["as_of"] == "2026-06-30"
    assert "2 revenue rows in 1 later month left out" in outcome.report["as_of_basis"]


def test_inferred_as_of_without_revenue_ignores_a_far_entry_date(project, data):
    project.table_file("revenue").unlink()
    accounts = data["accounts"].copy()
    accounts.loc[accounts.index[5], "created_at"] = pd.Timestamp("2199-01-01").date()
    project.write_table("accounts", accounts)
    project.set_config(as_of=None)
    outcome = compare_json(project)
    assert outcome.code == 0
    kept = sorted(accounts["created_at"])[-2]
    assert outcome.report["as_of"] == kept.isoformat()
    assert outcome.report["as_of_basis"].startswith("inferred: the last entry date")
    assert any(warning["code"] == "W108" and "up to 2199-01" in warning["message"]
               for warning in outcome.report["warnings"])


def test_as_of_from_the_config_says_so(project):
    outcome = compare_json(project)
    assert outcome.report["as_of"] == "2026-06-30" and outcome.report["as_of_basis"] == "set in the config"


# ---------------------------------------------------------------- outputs never destroy inputs


def _refused(project, *args, message: str):
    before = project.files()
    outcome = cli("compare", project.experiment, *args)
    assert outcome.code == 2
    assert message in outcome.err, outcome.err
    assert "never writes over its inputs" in outcome.err or "are the same file" in outcome.err
    assert project.files() == before  # nothing written, nothing overwritten, no temporary file left
    return outcome


@pytest.mark.parametrize("option,target,what", [
    ("--output", "experiments/guided.yaml", "is the experiment being compared"),
    ("--output", "configs/cohortlab.yaml", "is the project config"),
    ("--output", "data/revenue.parquet", "is table 'revenue' of the source"),
    ("--output", "data/accounts.csv", "is where the source would read table 'accounts'"),
    ("--output", "experiments/../data/stages.parquet", "is table 'stages' of the source"),
    ("--weights", "data/revenue.parquet", "is table 'revenue' of the source"),
    ("--weights", "data/touches.csv", "is where the source would read table 'touches'"),
    ("--weights", "configs/../data/milestones.parquet", "is table 'milestones' of the source"),
])
def test_outputs_never_land_on_an_input(project, option, target, what):
    path = project.root / target
    _refused(project, option, path, message=f"{option} {path} {what}")


def test_output_through_a_symlink_to_an_input_is_refused(project):
    link = project.root / "report.txt"
    link.symlink_to(project.experiment)
    _refused(project, "--output", link, message="is the experiment being compared")


def test_output_that_is_a_hard_link_to_an_input_is_refused(project):
    link = project.root / "report.txt"
    os.link(project.config, link)
    _refused(project, "--output", link, message="is the project config")


def test_output_onto_the_duckdb_source_is_refused(project, data):
    path = _duckdb_project(project, data)
    _refused(project, "--output", path, message="is the source's DuckDB file")


def test_output_and_weights_on_one_file_are_refused(project):
    target = project.root / "out.csv"
    _refused(project, "--output", target, "--weights", target, message="--output and --weights are the same file")
    assert not target.exists()


def test_after_a_refused_output_the_next_run_still_works(project):
    _refused(project, "--output", project.table_file("revenue"), message="is table 'revenue' of the source")
    assert compare_json(project).code == 0


def test_same_experiment_twice_writes_each_weight_once(project, tmp_path):
    weights = tmp_path / "weights.csv"
    spelled = project.root / "experiments" / ".." / "experiments" / "guided.yaml"
    outcome = cli("compare", project.experiment, project.experiment, spelled, "--weights", weights,
                  "--format", "json")
    assert outcome.code == 0
    frame = pd.read_csv(weights)
    assert not frame.duplicated(["experiment", "account_id"]).any()
    cohorts = outcome.report["cohorts"]
    assert len(frame) == cohorts["treatment"]["accounts"] + cohorts["baseline"]["accounts"]


def test_two_experiments_with_one_name_cannot_share_a_weights_file(project, tmp_path):
    twin = project.root / "experiments" / "twin.yaml"
    twin.write_text(project.experiment.read_text())
    outcome = cli("compare", project.experiment, twin, "--weights", tmp_path / "w.parquet")
    assert outcome.code == 2 and "are both named 'guided'" in outcome.err
    assert not (tmp_path / "w.parquet").exists()


def test_output_into_a_missing_folder_is_a_clear_error(project, tmp_path):
    outcome = cli("compare", project.experiment, "--output", tmp_path / "nope" / "report.txt")
    assert outcome.code == 2 and f"the folder {tmp_path / 'nope'} does not exist" in outcome.err


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_a_write_that_fails_midway_leaves_the_old_file_whole(project, tmp_path, monkeypatch, failure):
    from cohortlab.report.render import RENDERERS

    target = tmp_path / "report.json"
    target.write_text("the previous report\n")

    def broken(reports, stream, color):
        stream.write('{"schema_version": 1, "half": ')
        stream.flush()
        raise failure(28, "No space left on device") if failure is OSError else failure()

    monkeypatch.setitem(RENDERERS, "json", broken)
    outcome = cli("compare", project.experiment, "--format", "json", "--output", target)
    assert outcome.code == (130 if failure is KeyboardInterrupt else 2)
    assert outcome.err.strip().splitlines()[-1] == "interrupted" if failure is KeyboardInterrupt else \
        f"cannot write {target}: No space left on device" in outcome.err
    assert target.read_text() == "the previous report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["project", "report.json"]  # no temporary file


def test_output_keeps_the_permissions_a_plain_write_gives(project, tmp_path):
    target = tmp_path / "report.md"
    assert cli("compare", project.experiment, "--format", "markdown", "--output", target).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert target.read_text().startswith("### guided")


def test_demo_never_writes_over_a_project(project):
    before = project.files()
    outcome = cli("demo", project.root)
    assert outcome.code == 2 and "differ from the demo's and were left as written (demo wrote nothing)" in outcome.err
    assert project.files() == before


# ---------------------------------------------------------------- YAML tags and table names


@pytest.mark.parametrize("text,position", [
    ("name: guided\nmetrics:\n  - cac\n  - !!python/object/apply:os.system [ls]\n", (4, 5)),
    ("name: guided\ntitle: !!python/object/apply:os.system [ls]\n", (2, 8)),
    ("name: !!str guided\n", (1, 7)),
    ("!!map\nname: guided\n", (1, 1)),
    ("name: guided\nmatch: !custom {method: none}\n", (2, 8)),
    ("name: guided\nmetrics: !!seq [cac]\n", (2, 10)),
    ("? !!python/name:os.system\n: x\n", (1, 3)),
])
def test_every_yaml_tag_is_refused_wherever_it_stands(project, text, position):
    project.experiment.write_text(text)
    outcome = cli("validate", project.experiment)
    line, col = position
    assert outcome.code == 1
    assert f"guided.yaml:{line}:{col}: CL009 YAML tags are not allowed" in outcome.out, outcome.out
    compared = cli("compare", project.experiment)
    assert compared.code == 2 and "YAML tags are not allowed" in compared.err


@pytest.mark.parametrize("name", ["../../outside/accounts", "/etc/passwd", "sub/accounts", "..", ".hidden",
                                  "accounts\\..\\x"])
def test_table_names_are_names_not_paths(project, name):
    outside = project.root.parent / "outside"
    outside.mkdir(exist_ok=True)
    tables()["accounts"].to_parquet(outside / "accounts.parquet")
    project.set_config(tables={"accounts": {"name": name}})
    outcome = cli("validate", project.config)
    assert outcome.code == 1
    assert f"CL009 tables.accounts.name: '{name}' is not a table name" in outcome.out, outcome.out
    compared = cli("compare", project.experiment)
    assert compared.code == 2 and "is not a table name" in compared.err


# ---------------------------------------------------------------- validate agrees with compare


@pytest.mark.parametrize("fault", ["nan revenue", "inf spend", "negative revenue", "ambiguous accounts",
                                   "broken revenue link", "csv conversion"])
def test_data_that_compare_refuses_fails_validate_check_data(project, data, tmp_path, fault):
    if fault == "nan revenue" or fault == "negative revenue":
        frame = data["revenue"].copy()
        frame.loc[frame.index[0], "amount"] = np.nan if fault == "nan revenue" else -5.0
        project.write_table("revenue", frame)
    elif fault == "inf spend":
        frame = data["spend"].copy()
        frame.loc[frame.index[0], "amount"] = np.inf
        project.write_table("spend", frame)
    elif fault == "ambiguous accounts":
        data["accounts"].to_csv(project.data / "accounts.csv", index=False)
    elif fault == "broken revenue link":
        project.table_file("revenue").unlink()
        project.table_file("revenue").symlink_to(tmp_path / "nowhere.parquet")
    else:
        _long_revenue_csv(project, data, 21_500, "abc")
    compared = cli("compare", project.experiment)
    assert compared.code == 2
    message = compared.err.removeprefix("error: ").splitlines()[0]
    validated = cli("validate", "--check-data", project.root)
    assert validated.code == 1
    assert "CL301" in validated.out and message in validated.out, (message, validated.out)  # word for word


def test_validate_check_data_passes_on_the_intact_project(project):
    outcome = cli("validate", "--check-data", project.root)
    assert outcome.code == 0, outcome.out


def test_a_metric_without_its_table_is_a_validate_warning_as_compare_reports_it(project):
    project.table_file("milestones").unlink()
    outcome = cli("validate", "--check-data", "--format", "json", project.experiment)
    import json

    findings = json.loads(outcome.out)["findings"]
    unavailable = [finding for finding in findings if finding["code"] == "CL306"]
    assert outcome.code == 0 and len(unavailable) == 1
    assert "the source has no 'milestones' table" in unavailable[0]["message"]
    assert unavailable[0]["severity"] == "warning"
    assert EXPERIMENT["metrics"][5]["metric"] == "time_to_value"


def test_nan_in_an_accounts_attribute_is_missing_not_above_every_number(tmp_path, data):
    accounts = data["accounts"].copy()
    accounts["employees"] = np.random.default_rng(1).integers(1, 500, len(accounts)).astype(float)
    accounts.loc[accounts.index[:40], "employees"] = np.nan
    project = make_project(tmp_path / "project", {**data, "accounts": accounts})
    guided = accounts[(accounts["onboarding_flow"] == "guided")]
    counts = {}
    for condition in ("employees > 100", "employees IS NULL", "employees <= 100"):
        experiment = {**EXPERIMENT, "treatment": {**EXPERIMENT["treatment"],
                                                  "where": f"onboarding_flow = 'guided' AND {condition}"}}
        project.experiment.write_text(yaml.safe_dump(experiment))
        counts[condition] = compare_json(project).report["cohorts"]["treatment"]["accounts"]
    assert counts["employees > 100"] == int((guided["employees"] > 100).sum())  # NaN compares false, as NULL does
    assert counts["employees IS NULL"] == int(guided["employees"].isna().sum()) > 0
    assert counts["employees <= 100"] == int((guided["employees"] <= 100).sum())
    assert sum(counts.values()) == len(guided)


def test_output_to_a_device_is_written_in_place_not_replaced(project):
    import stat

    outcome = cli("compare", project.experiment, "--format", "json", "--output", "/dev/null")
    assert outcome.code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device, not a file renamed over it


def test_output_through_a_symlink_replaces_the_file_it_points_to(project, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "latest.md").write_text("old\n")
    link = tmp_path / "report.md"
    link.symlink_to(reports / "latest.md")
    assert cli("compare", project.experiment, "--format", "markdown", "--output", link).code == 0
    assert link.is_symlink() and (reports / "latest.md").read_text().startswith("### guided")
    assert sorted(path.name for path in reports.iterdir()) == ["latest.md"]


# ---------------------------------------------------------------- data that ends early


def test_revenue_cut_short_is_not_observed_rather_than_zero(project, data):
    revenue = data["revenue"][pd.to_datetime(data["revenue"]["month"]) < "2025-01-01"]
    project.write_table("revenue", revenue)
    outcome = compare_json(project)
    assert outcome.code == 0
    warning = [w["message"] for w in outcome.report["warnings"] if w["code"] == "W110"]
    assert len(warning) == 1 and "ends in 2024-12, 18 months before the last month complete by as_of" in warning[0]
    results = outcome.results()
    for key in ("ltv:earned:6", "ltv:modeled:36", "retention:3", "nrr:6"):  # the 2025 cohort has no observed month
        assert results[key]["status"] == "unavailable", (key, results[key]["treatment"])
        assert "only 0 treatment customers are observed" in results[key]["reason"]


def test_revenue_ending_early_censors_tenure_there(project, data):
    """Revenue through 2026-03 with as_of 2026-06-30: each customer is observed through 2026-03, as with
    as_of 2026-03-31 on the same revenue (the cohorts and their stages are the same: all entered by 2025)."""
    revenue = data["revenue"][pd.to_datetime(data["revenue"]["month"]) < "2026-04-01"]
    project.write_table("revenue", revenue)
    cut = compare_json(project)
    assert [w["code"] for w in cut.report["warnings"]].count("W110") == 1
    stages = data["stages"][pd.to_datetime(data["stages"]["at"]) <= "2026-03-31"]
    project.write_table("stages", stages)
    project.set_config(as_of="2026-03-31")
    early = compare_json(project)
    for key in ("ltv:earned:6", "retention:3", "nrr:6"):
        assert cut.results()[key]["treatment"] == pytest.approx(early.results()[key]["treatment"], rel=1e-12)
        assert cut.results()[key]["baseline"] == pytest.approx(early.results()[key]["baseline"], rel=1e-12)


def test_spend_cut_short_makes_cost_unknown_not_zero(project, data):
    spend = data["spend"][pd.to_datetime(data["spend"]["date"]) < "2024-06-01"]
    project.write_table("spend", spend)
    outcome = compare_json(project)
    assert outcome.code == 0
    cac = outcome.results()["cac"]
    assert cac["status"] == "unavailable" and cac["treatment"] is None
    assert f"table 'spend' ({project.table_file('spend')}) ends 2024-05-31" in cac["reason"]


# ---------------------------------------------------------------- more faults around the same classes


def test_infinite_accounts_attribute_is_missing_and_warned(tmp_path, data):
    accounts = data["accounts"].copy()
    accounts["employees"] = np.random.default_rng(2).integers(1, 500, len(accounts)).astype(float)
    accounts.loc[accounts.index[3], "employees"] = np.inf
    accounts.loc[accounts.index[4], "employees"] = -np.inf
    project = make_project(tmp_path / "project", {**data, "accounts": accounts})
    experiment = {**EXPERIMENT, "match": {"method": "propensity", "covariates": ["employees", "segment"]}}
    project.experiment.write_text(yaml.safe_dump(experiment))
    outcome = compare_json(project)
    assert outcome.code == 0
    warning = [w["message"] for w in outcome.report["warnings"] if w["code"] == "W109"]
    assert len(warning) == 1 and "2 accounts" in warning[0] and "have an infinite 'employees'" in warning[0]
    assert all(math.isfinite(row["smd_after"]) for row in outcome.report["matching"]["balance"])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(share=st.floats(min_value=0.002, max_value=0.3), years=st.integers(min_value=4, max_value=199))
def test_a_batch_of_rows_dated_years_ahead_does_not_move_an_inferred_as_of(tmp_path_factory, data, share, years):
    """Up to 30% of the revenue rows shifted 4 to 199 years ahead (after a silent gap of over a year)."""
    revenue = data["revenue"].copy()
    moved = revenue.sample(frac=share, random_state=1).index
    revenue.loc[moved, "month"] = [day.replace(year=day.year + years) for day in revenue.loc[moved, "month"]]
    project = make_project(tmp_path_factory.mktemp("p") / "project", {**data, "revenue": revenue})
    project.set_config(as_of=None)
    outcome = compare_json(project)
    assert outcome.report["as_of"] == "2026-06-30"
    assert any(w["code"] == "W108" for w in outcome.report["warnings"])


def test_output_named_like_a_table_in_the_data_folder_is_refused(project):
    _refused(project, "--output", project.data / "Milestones.md",
             message="is a name the source keeps for table 'milestones'")


def test_revenue_that_starts_after_customers_were_won_leaves_them_unobserved(project, data):
    revenue = data["revenue"][pd.to_datetime(data["revenue"]["month"]) >= "2025-06-01"]
    project.write_table("revenue", revenue)
    outcome = compare_json(project)
    assert outcome.code == 0
    warning = [w["message"] for w in outcome.report["warnings"] if w["code"] == "W112"]
    assert len(warning) == 1 and "starts in 2025-06, after" in warning[0]
    nrr = outcome.results()["nrr:6"]  # the baseline (won in 2024) would start from nothing: thousands of percent
    assert nrr["status"] == "unavailable" and "only 0 baseline customers are observed" in nrr["reason"]


def test_a_cohort_whose_customers_have_no_revenue_at_all_is_unavailable(project, data):
    revenue = data["revenue"]
    guided = set(data["accounts"].loc[data["accounts"]["onboarding_flow"] == "guided", "account_id"])
    project.write_table("revenue", revenue[revenue["account_id"].isin(guided)])  # no baseline revenue
    outcome = compare_json(project)
    for key in ("ltv:earned:6", "ltv:modeled:36", "retention:3", "nrr:6"):
        result = outcome.results()[key]
        assert result["status"] == "unavailable" and result["baseline"] is None, key
        assert "observed baseline customers has a revenue row in the data" in result["reason"], result["reason"]


def test_a_stage_dated_before_its_account_entered_is_taken_at_entry(project, data):
    stages = data["stages"].copy()
    won = stages.index[stages["stage"] == "customer"][0]
    account = stages.loc[won, "account_id"]
    entered = data["accounts"].set_index("account_id").loc[account, "created_at"]
    stages.loc[won, "at"] = pd.Timestamp("0001-01-01").date()
    project.write_table("stages", stages)
    outcome = compare_json(project, "--weights", project.root / "weights.csv")
    warning = [w["message"] for w in outcome.report["warnings"] if w["code"] == "W111"]
    assert len(warning) == 1 and f"account_id={account}" in warning[0]
    clamped = data["stages"].copy()
    clamped.loc[won, "at"] = entered
    project.write_table("stages", clamped)
    same = compare_json(project)
    assert outcome.report["results"] == same.report["results"]  # as if won on its entry date


@pytest.mark.parametrize("table,column,value,message", [
    ("spend", "amount", 1e30, "values of 1e+15 or more, too large for an amount"),
    ("revenue", "amount", 1.7e308, "values of 1e+15 or more, too large for an amount"),
])
def test_amounts_too_large_to_be_money_are_errors(project, data, table, column, value, message):
    frame = data[table].copy()
    frame.loc[frame.index[2], column] = value
    project.write_table(table, frame)
    outcome = compare_json(project)
    assert outcome.code == 2 and f"table '{table}' ({project.table_file(table)}) column '{column}' has 1 {message}" \
        in outcome.err


def test_infinite_dates_are_errors(project):
    import duckdb

    path = project.table_file("stages")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT account_id, stage, CAST(\"at\" AS DATE) AS \"at\" FROM '{path}' UNION ALL "
                    f"SELECT 'A0001', 'lead', DATE '-infinity') TO '{project.root / 'stages.parquet'}'")
    (project.root / "stages.parquet").replace(path)
    outcome = compare_json(project)
    assert outcome.code == 2 and f"table 'stages' ({path}) column 'at' has 1 infinite dates" in outcome.err


@pytest.mark.parametrize("place", ["on", "breakdown"])
def test_list_column_to_match_or_break_down_on_is_a_clear_error(project, data, place):
    accounts = data["accounts"].copy()
    accounts["tags"] = [["a", "b"]] * len(accounts)
    project.write_table("accounts", accounts)
    experiment = dict(EXPERIMENT)
    if place == "on":
        experiment["match"] = {"method": "exact", "on": ["segment", "tags"]}
    else:
        experiment["breakdown"] = ["tags"]
    project.experiment.write_text(yaml.safe_dump(experiment))
    outcome = cli("compare", project.experiment)
    assert outcome.code == 2 and "CL111" in outcome.err and "'tags' is VARCHAR[]" in outcome.err
    assert cli("validate", project.experiment).code == 1


@pytest.mark.parametrize("target", ["--output", "stdout"])
def test_a_full_disk_is_a_clear_error(project, target):
    import subprocess
    import sys

    args = [sys.executable, "-m", "cohortlab", "compare", str(project.experiment), "--replicates", "100"]
    if target == "--output":
        run = subprocess.run([*args, "--output", "/dev/full"], capture_output=True, text=True)
        expected = "error: cannot write /dev/full: No space left on device"
    else:
        with open("/dev/full", "w") as full:
            run = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True)
        expected = "error: cannot write the report to standard output: No space left on device"
    assert run.returncode == 2 and run.stderr.strip() == expected


def test_a_csv_file_not_in_utf8_says_so(project, data):
    accounts = data["accounts"].copy()
    accounts.loc[accounts.index[0], "segment"] = "Pequeña"
    project.table_file("accounts").unlink()
    accounts.to_csv(project.data / "accounts.csv", index=False, encoding="latin-1")
    outcome = compare_json(project)
    assert outcome.code == 2
    assert f"cannot read table 'accounts' from {project.data / 'accounts.csv'}" in outcome.err
    assert "This file is not utf-8 encoded" in outcome.err


def test_touches_without_any_spend_after_the_spend_data_ends_cost_nothing(project, data):
    """Paid campaign c1 stops at the end of 2024; c2 never had spend (organic): its later touches cost $0,
    a cost the data holds, so CAC stays available."""
    spend = data["spend"][(data["spend"]["campaign"] == "c1") & (pd.to_datetime(data["spend"]["date"]) < "2025-01-01")]
    touches = data["touches"]
    touches = touches[~((touches["campaign"] == "c1") & (pd.to_datetime(touches["at"]) >= "2025-01-01"))]
    project.write_table("spend", spend)
    project.write_table("touches", touches)
    cac = compare_json(project).results()["cac"]
    assert cac["status"] == "ok" and cac["treatment"] == 0.0 and cac["baseline"] > 0


def test_revenue_rows_of_zero_are_data_not_missing(project, data):
    revenue = data["revenue"].copy()
    guided = set(data["accounts"].loc[data["accounts"]["onboarding_flow"] == "guided", "account_id"])
    revenue.loc[revenue["account_id"].isin(guided), "amount"] = 0.0
    project.write_table("revenue", revenue)
    results = compare_json(project).results()
    assert results["ltv:earned:6"]["status"] == "ok" and results["ltv:earned:6"]["treatment"] == 0.0
