"""Bad data gets a clear message naming table, column and rows; soft problems are counted warnings."""

from __future__ import annotations

import pytest

from cohortlab.errors import DataError, InputError, SpecError
from cohortlab.report.build import compare

EXPERIMENT = {
    "name": "contract", "metrics": ["cac"],
    "treatment": {"where": "arm = 't'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
    "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
}
CONFIG = {"as_of": "2025-12-31", "journey": {"stages": ["lead", "customer"], "won": "customer"}}


def _tables():
    accounts = [{"account_id": f"{arm}{i}", "created_at": "2025-02-01", "arm": arm, "acquisition_cost": 10.0}
                for arm in "tb" for i in range(3)]
    stages = [{"account_id": row["account_id"], "stage": "customer", "at": "2025-03-01"} for row in accounts]
    revenue = [{"account_id": row["account_id"], "month": "2025-03-01", "amount": 5.0} for row in accounts]
    return {"accounts": accounts, "stages": stages, "revenue": revenue}


def test_duplicate_ids_name_the_rows(project):
    tables = _tables()
    tables["accounts"].append(dict(tables["accounts"][0]))
    with pytest.raises(DataError) as error:
        compare(project(tables, EXPERIMENT, CONFIG))
    assert "table 'accounts'" in error.value.message and "1 duplicated ids" in error.value.message
    assert "account_id='t0'" in error.value.message


def test_negative_amounts(project):
    tables = _tables()
    tables["revenue"][2]["amount"] = -4.0
    with pytest.raises(DataError) as error:
        compare(project(tables, EXPERIMENT, CONFIG))
    assert "table 'revenue'" in error.value.message and "column 'amount' has 1 negative values" in error.value.message
    assert "amount=-4.0" in error.value.message


def test_missing_column_suggests_remapping(project):
    tables = _tables()
    for row in tables["revenue"]:
        row["mrr_usd"] = row.pop("amount")
    with pytest.raises(DataError) as error:
        compare(project(tables, EXPERIMENT, CONFIG))
    assert "table 'revenue'" in error.value.message and "has no column 'amount'" in error.value.message
    assert "tables.revenue.columns.amount" in error.value.hint


def test_remapped_table_and_column(project):
    tables = _tables()
    for row in tables["revenue"]:
        row["mrr_usd"] = row.pop("amount")
    tables["mrr"] = tables.pop("revenue")
    config = {**CONFIG, "tables": {"revenue": {"name": "mrr", "columns": {"amount": "mrr_usd"}}}}
    report = compare(project(tables, EXPERIMENT, config))
    assert report.result("cac").treatment == pytest.approx(10.0)


def test_wrong_type(project):
    tables = _tables()
    for row in tables["revenue"]:
        row["amount"] = "lots"
    with pytest.raises(DataError) as error:
        compare(project(tables, EXPERIMENT, CONFIG))
    assert "column 'amount' has type VARCHAR; expected a number" in error.value.message


def test_nulls_in_required_columns(project):
    tables = _tables()
    tables["stages"][0]["stage"] = None
    with pytest.raises(DataError) as error:
        compare(project(tables, EXPERIMENT, CONFIG))
    assert "table 'stages'" in error.value.message and "column 'stage' has 1 null values" in error.value.message


def test_unknown_ids_and_late_events_are_counted_warnings(project):
    tables = _tables()
    tables["stages"].append({"account_id": "ghost", "stage": "customer", "at": "2025-03-01"})
    tables["stages"].append({"account_id": "t1", "stage": "lead", "at": "2026-02-01"})
    tables["stages"].append({"account_id": "t2", "stage": "demo_booked", "at": "2025-02-02"})
    report = compare(project(tables, EXPERIMENT, CONFIG))
    messages = {warning.code: warning.message for warning in report.warnings}
    assert messages["W101"].startswith("1 of 9 rows of 'stages'") and "'ghost'" in messages["W101"]
    assert messages["W102"].startswith("1 of 9 rows of 'stages'") and "after as_of 2025-12-31" in messages["W102"]
    assert "demo_booked" in messages["W103"]


def test_csv_files_work_like_parquet(project):
    report = compare(project(_tables(), EXPERIMENT, CONFIG, file_format="csv"))
    assert report.result("cac").treatment == pytest.approx(10.0)


def test_unknown_where_column_points_into_the_expression(project):
    experiment = {**EXPERIMENT, "treatment": {**EXPERIMENT["treatment"], "where": "arm = 't' AND segmnt = 'SMB'"}}
    with pytest.raises(SpecError) as error:
        compare(project(_tables(), experiment, CONFIG))
    assert "unknown column 'segmnt'" in error.value.message
    location = error.value.location
    line = open(location.file).read().splitlines()[location.line - 1]
    assert line[location.col - 1:].startswith("segmnt = 'SMB'")
    assert error.value.hint == "accounts columns are: account_id, created_at, arm, acquisition_cost"


def test_overlapping_cohorts_are_an_error(project):
    experiment = {**EXPERIMENT, "baseline": {**EXPERIMENT["baseline"], "where": "arm IN ('b', 't')"}}
    with pytest.raises(DataError) as error:
        compare(project(_tables(), experiment, CONFIG))
    assert "3 accounts fall in both the treatment and the baseline cohort" in error.value.message


def test_missing_data_folder(project, tmp_path):
    path = project(_tables(), EXPERIMENT, {**CONFIG, "source": {"kind": "files", "path": "../nowhere"}})
    with pytest.raises(InputError) as error:
        compare(path)
    assert "data folder not found" in error.value.message


def test_duckdb_source(project, tmp_path):
    import duckdb
    import pandas as pd

    path = project(_tables(), EXPERIMENT, {**CONFIG, "source": {"kind": "duckdb", "path": "../warehouse.duckdb"}})
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        for name in ("accounts", "stages", "revenue"):
            frame = pd.read_parquet(tmp_path / "data" / f"{name}.parquet")
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    assert compare(path).result("cac").treatment == pytest.approx(10.0)
