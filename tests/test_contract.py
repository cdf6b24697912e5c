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
    assert "account_id=t0" in error.value.message


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
    assert messages["W101"].startswith("1 of 9 rows of 'stages'") and "account_id=ghost" in messages["W101"]
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


def test_accounts_after_as_of_are_counted_and_ignored(project):
    tables = _tables()
    tables["accounts"].append({"account_id": "t9", "created_at": "2026-01-05", "arm": "t", "acquisition_cost": 999.0})
    report = compare(project(tables, {**EXPERIMENT, "treatment": {**EXPERIMENT["treatment"],
                                                                   "entered": {"from": "2025-01-01", "to": "2026-12-31"}}},
                             CONFIG))
    assert report.cohorts["treatment"].accounts == 3
    assert any(w.code == "W102" and w.message.startswith("1 accounts") for w in report.warnings)


def test_margin_from_cost_needs_a_cost_column(project):
    with pytest.raises(DataError) as error:
        compare(project(_tables(), {**EXPERIMENT, "metrics": [{"metric": "nrr", "months": 1}]},
                        {**CONFIG, "economics": {"gross_margin": "cost"}}))
    assert "gross_margin is 'cost' but table 'revenue'" in error.value.message


def test_timestamps_with_time_zones_become_utc_dates(project):
    """Same data, same dates on every machine: 01:00 at +02:00 on 1 March is 28 February in UTC.

    The won month is then February, which has no revenue, so earned LTV over one month is 0
    in every time zone (in Tokyo's local time it would be March's revenue). DuckDB reads the
    zone when a process starts, hence one process per zone.
    """
    import subprocess
    import sys

    import pandas as pd

    config = {**CONFIG, "economics": {"gross_margin": 1.0, "discount_rate": 0.0}}
    path = project(_tables(), {**EXPERIMENT, "metrics": [{"metric": "ltv", "basis": "earned", "months": 1}]}, config)
    stages = pd.read_parquet(path.parents[1] / "data" / "stages.parquet")
    stages["at"] = pd.to_datetime(["2025-03-01 01:00:00+02:00"] * len(stages))
    stages.to_parquet(path.parents[1] / "data" / "stages.parquet")
    code = ("import sys; from cohortlab.report.build import compare; "
            "print(compare(sys.argv[1]).result('ltv:earned:1').treatment)")
    for zone in ("UTC", "Asia/Tokyo", "America/Los_Angeles"):
        output = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                                env={**__import__("os").environ, "TZ": zone}).stdout
        assert float(output) == 0.0, zone


@pytest.mark.parametrize("where, token, message", [
    ("acquisition_cost > 'abc'", "'abc'", "column 'acquisition_cost' is a number but 'abc' is text"),
    ("created_at > 5", "5", "column 'created_at' is a date but 5 is number"),
    ("arm = TRUE", "TRUE", "column 'arm' is text but TRUE is boolean"),
    ("arm IN ('t', 3)", "3)", "column 'arm' is text but 3 is number"),
    ("created_at BETWEEN '2025-01-01' AND 2025-02-01", "'2025-01-01'", "is a date but '2025-01-01' is text"),
])
def test_where_values_must_match_the_column_type(project, where, token, message):
    experiment = {**EXPERIMENT, "treatment": {**EXPERIMENT["treatment"], "where": where}}
    with pytest.raises(SpecError) as error:
        compare(project(_tables(), experiment, CONFIG))
    assert message in error.value.message
    location = error.value.location
    line = open(location.file).read().splitlines()[location.line - 1]
    assert line[location.col - 1:].startswith(token)
