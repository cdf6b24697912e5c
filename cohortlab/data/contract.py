"""Check the data contract (SPEC §3) and expose clean views of the tables.

Hard problems (missing or mistyped columns, nulls in required columns, duplicate
account ids, negative amounts) raise :class:`DataError` naming the table, column and
a few offending rows. Soft problems (unknown account ids, events after as_of, stages
outside the journey) drop the rows from the clean views and are counted as warnings,
so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohortlab.codes import WarningCode
from cohortlab.data.source import Database, quote
from cohortlab.errors import DataError
from cohortlab.spec.models import Journey
from cohortlab.spec.types import INTEGER_TYPES, type_family

ID, DATE, NUMBER, TEXT = "an id", "a date", "a number", "text"

REQUIRED: dict[str, dict[str, str]] = {
    "accounts": {"account_id": ID, "created_at": DATE},
    "stages": {"account_id": ID, "stage": TEXT, "at": DATE},
    "revenue": {"account_id": ID, "month": DATE, "amount": NUMBER},
    "spend": {"date": DATE, "amount": NUMBER},
    "touches": {"account_id": ID, "at": DATE},
    "milestones": {"account_id": ID, "milestone": TEXT, "at": DATE},
}
OPTIONAL: dict[str, dict[str, str]] = {
    "accounts": {"acquisition_cost": NUMBER},
    "revenue": {"cost": NUMBER},
    "spend": {"campaign": TEXT, "channel": TEXT},
    "touches": {"campaign": TEXT, "channel": TEXT},
}
NON_NEGATIVE = {"revenue": ("amount", "cost"), "spend": ("amount",), "accounts": ("acquisition_cost",)}
EVENT_DATES = {"stages": "at", "revenue": "month", "touches": "at", "milestones": "at", "spend": "date"}

def _is_type(duckdb_type: str, kind: str) -> bool:
    family = type_family(duckdb_type)
    if kind == DATE:
        return family == "date"
    if kind == NUMBER:
        return family == "number"
    if kind == ID:
        return duckdb_type == "VARCHAR" or duckdb_type in INTEGER_TYPES
    return True


@dataclass(frozen=True)
class DataWarning:
    code: WarningCode
    message: str


@dataclass(frozen=True)
class CheckedData:
    """The database after contract checks: clean views named ``<table>_ok`` and what was set aside."""

    db: Database
    as_of: dt.date
    warnings: tuple[DataWarning, ...]

    def has(self, table: str) -> bool:
        return self.db.has(table)


def _examples(db: Database, table: str, condition: str, params: list | None = None, limit: int = 3) -> str:
    # every value as text: messages need no Python type conversions (time zones, decimals, blobs)
    rows = db.con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {quote(table)} WHERE {condition} LIMIT {limit}",
                          params or [])
    names = [column[0] for column in rows.description]
    lines = [", ".join(f"{name}={'NULL' if value is None else value}" for name, value in zip(names, row))
             for row in rows.fetchall()]
    return "; e.g. " + " | ".join(f"{{{line}}}" for line in lines) if lines else ""


def _check_columns(db: Database, name: str) -> None:
    table = db.tables[name]
    for column, kind in REQUIRED[name].items():
        if column not in table.columns:
            raise DataError(
                f"table '{name}' ({table.origin}) has no column '{column}'",
                hint=f"its columns are: {', '.join(table.columns)}; map a differently named column with "
                     f"tables.{name}.columns.{column} in the config",
            )
    for column, kind in {**REQUIRED[name], **OPTIONAL.get(name, {})}.items():
        if column in table.columns and not _is_type(table.columns[column], kind):
            source = table.source_column(column)
            raise DataError(
                f"table '{name}' ({table.origin}) column '{source}' has type {table.columns[column]}; expected {kind}"
                + _examples(db, name, f"{quote(column)} IS NOT NULL"),
            )
    for column in REQUIRED[name]:
        nulls = db.scalar(f"SELECT count(*) FROM {quote(name)} WHERE {quote(column)} IS NULL")
        if nulls:
            raise DataError(
                f"table '{name}' ({table.origin}) column '{table.source_column(column)}' has {nulls} null values"
                + _examples(db, name, f"{quote(column)} IS NULL"),
            )
    for column in NON_NEGATIVE.get(name, ()):
        if column in table.columns:
            negative = db.scalar(f"SELECT count(*) FROM {quote(name)} WHERE {quote(column)} < 0")
            if negative:
                raise DataError(
                    f"table '{name}' ({table.origin}) column '{table.source_column(column)}' has {negative} "
                    f"negative values" + _examples(db, name, f"{quote(column)} < 0"),
                )


def _default_as_of(db: Database) -> dt.date:
    """The last day of the last month with revenue; without revenue, the last entry date."""
    if db.has("revenue"):
        last = db.scalar("SELECT max(CAST(month AS DATE)) FROM revenue")
        if last is not None:
            return db.scalar("SELECT last_day(CAST(? AS DATE))", [last])
    last = db.scalar("SELECT max(CAST(created_at AS DATE)) FROM accounts")
    if last is None:
        raise DataError(f"table 'accounts' ({db.tables['accounts'].origin}) has no rows")
    return last


def check_contract(db: Database, journey: Journey, as_of: dt.date | None) -> CheckedData:
    """Check every table against the contract and create the clean ``*_ok`` views."""
    for name in db.tables:
        _check_columns(db, name)
    accounts = db.tables["accounts"]
    duplicates = db.scalar("SELECT count(*) FROM (SELECT account_id FROM accounts GROUP BY 1 HAVING count(*) > 1)")
    if duplicates:
        raise DataError(
            f"table 'accounts' ({accounts.origin}) column '{accounts.source_column('account_id')}' has "
            f"{duplicates} duplicated ids"
            + _examples(db, "accounts", "account_id IN (SELECT account_id FROM accounts GROUP BY 1 HAVING count(*) > 1)"
                        " ORDER BY account_id"),
        )
    as_of = as_of or _default_as_of(db)
    db.con.execute(
        "CREATE VIEW accounts_ok AS SELECT * REPLACE (CAST(account_id AS VARCHAR) AS account_id, "
        f"CAST(created_at AS DATE) AS created_at) FROM accounts WHERE CAST(created_at AS DATE) <= "
        f"DATE '{as_of.isoformat()}'"  # a date object's ISO form: views cannot hold bound parameters
    )
    warnings: list[DataWarning] = []
    late = db.scalar("SELECT count(*) FROM accounts WHERE CAST(created_at AS DATE) > ?", [as_of])
    if late:
        warnings.append(DataWarning(WarningCode.AFTER_AS_OF,
                                    f"{late} accounts ({accounts.origin}) entered after as_of {as_of} and were "
                                    "ignored, with their events" + _examples(db, "accounts",
                                                                             "CAST(created_at AS DATE) > ?", [as_of], 2)))
    for name in ("stages", "revenue", "spend", "touches", "milestones"):
        if db.has(name):
            warnings += _clean_view(db, name, as_of, journey)
    return CheckedData(db, as_of, tuple(warnings))


def _clean_view(db: Database, name: str, as_of: dt.date, journey: Journey) -> list[DataWarning]:
    table = db.tables[name]
    date_column = quote(EVENT_DATES[name])
    casts = [f"CAST({date_column} AS DATE) AS {date_column}"]
    if "account_id" in table.columns:
        casts.append("CAST(account_id AS VARCHAR) AS account_id")
    # revenue belongs to the whole month it is dated in, so a month is kept when it starts by as_of
    date_value = f"date_trunc('month', {date_column})" if name == "revenue" else date_column
    problems: list[tuple[WarningCode, str, str, list]] = [
        (WarningCode.AFTER_AS_OF, f"CAST({date_value} AS DATE) > CAST(? AS DATE)", f"dated after as_of {as_of}", [as_of]),
    ]
    if "account_id" in table.columns:
        problems.insert(0, (WarningCode.UNKNOWN_ACCOUNT,
                            "CAST(account_id AS VARCHAR) NOT IN (SELECT account_id FROM accounts_ok)",
                            "with an account_id not in accounts", []))
    if name == "stages":
        problems.append((WarningCode.UNKNOWN_STAGE, "stage NOT IN (SELECT unnest(?))",
                         f"with a stage outside the journey {list(journey.stages)}", [list(journey.stages)]))
    warnings, kept, params = [], [], []
    for code, condition, what, condition_params in problems:
        count = db.scalar(f"SELECT count(*) FROM {quote(name)} WHERE {condition}", condition_params)
        if count:
            total = db.scalar(f"SELECT count(*) FROM {quote(name)}")
            warnings.append(DataWarning(code, f"{count} of {total} rows of '{name}' ({table.origin}) {what} were "
                                              f"ignored" + _examples(db, name, condition, condition_params, 2)))
        kept.append(f"NOT ({condition})")
        params += condition_params
    db.con.execute(
        f"CREATE TABLE {name}_ok AS SELECT * REPLACE ({', '.join(casts)}) FROM {quote(name)} WHERE {' AND '.join(kept)}",
        params,
    )
    return warnings
