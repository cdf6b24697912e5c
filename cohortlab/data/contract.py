"""Check the data contract (docs/data.md) and expose clean views of the tables.

Hard problems (missing or mistyped columns, nulls in required columns, duplicate
account ids, negative amounts) raise :class:`DataError` naming the table, column and
a few offending rows. Soft problems (unknown account ids, events after as_of, stages
outside the journey) drop the rows from the clean views and are counted as warnings,
so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

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
AS_OF_FROM_CONFIG = "set in the config"
MAX_AMOUNT = 1e15  # a quadrillion: no amount of money is this large (and sums of them stay exact in DECIMAL(38, 10))
FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")
ENTRY_BOUND = ("stages", "milestones")  # tables whose events cannot come before the account's entry
EVENT_DATES = {"stages": "at", "revenue": "month", "touches": "at", "milestones": "at", "spend": "date"}

NULL_TYPE = '"NULL"'  # the type of a column with no values at all (an empty table written from pandas)
SQL_TYPES = {ID: "VARCHAR", DATE: "DATE", NUMBER: "DOUBLE", TEXT: "VARCHAR"}


def _type_untyped_columns(db: Database, name: str) -> None:
    """Give the contract's columns that have no type at all (no values) their contract type, so that an
    empty table reads as one with no rows rather than failing the type checks or the queries."""
    table = db.tables[name]
    kinds = {**REQUIRED[name], **OPTIONAL.get(name, {})}
    untyped = {column: SQL_TYPES[kinds[column]] for column, kind in table.columns.items()
               if kind == NULL_TYPE and column in kinds}
    if not untyped:
        return
    casts = ", ".join(f"CAST({quote(column)} AS {kind}) AS {quote(column)}" for column, kind in untyped.items())
    db.con.execute(f"ALTER VIEW {quote(name)} RENAME TO {quote(name + '__untyped')}")
    db.con.execute(f"CREATE VIEW {quote(name)} AS SELECT * REPLACE ({casts}) FROM {quote(name + '__untyped')}")
    table.columns.update(untyped)


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
    as_of_basis: str = AS_OF_FROM_CONFIG     # how as_of was found: the config's, or inferred (and how)
    rows: dict[str, int] = field(default_factory=dict)     # rows of each table the source has
    usable: dict[str, int] = field(default_factory=dict)   # of them, rows kept by the checks (``<table>_ok``)

    def has(self, table: str) -> bool:
        return self.db.has(table)

    def unreadable(self, table: str) -> str | None:
        """Why ``table`` can inform no metric (the source has none, it has no rows, every row was set
        aside), or None when it has usable rows."""
        if not self.has(table):
            return f"the source has no '{table}' table"
        origin = self.db.tables[table].origin
        if not self.rows.get(table):
            return f"table '{table}' ({origin}) has no rows"
        if not self.usable.get(table):
            return (f"none of the {self.rows[table]:,} rows of table '{table}' ({origin}) could be used (see the "
                    "warnings)")
        return None


def _examples(db: Database, table: str, condition: str, params: list | None = None, limit: int = 3) -> str:
    # every value as text: messages need no Python type conversions (time zones, decimals, blobs)
    rows = db.con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {quote(table)} WHERE {condition} LIMIT {limit}",
                          params or [])
    names = [column[0] for column in rows.description]
    lines = [", ".join(f"{name}={'NULL' if value is None else value}" for name, value in zip(names, row))
             for row in rows.fetchall()]
    return "; e.g. " + " | ".join(f"{{{line}}}" for line in lines) if lines else ""


def _check_columns(db: Database, name: str) -> int:
    """Check a table's columns and values against the contract; return its number of rows."""
    _type_untyped_columns(db, name)
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
    # one pass over the table counts every kind of bad value in every column that has it
    checks: list[tuple[str, str, str]] = []  # (column, what, condition)
    checks += [(column, "null values", f"{quote(column)} IS NULL") for column in REQUIRED[name]]
    checks += [(column, "infinite dates", f"(isinf({quote(column)})) IS TRUE")
               for column, kind in REQUIRED[name].items() if kind == DATE]
    for column in NON_NEGATIVE.get(name, ()):
        if column in table.columns:
            if table.columns[column] in FLOAT_TYPES:  # NaN and ±inf: a float column's values that are no amount
                # "IS TRUE": Parquet statistics leave NaN out, and DuckDB prunes a plain filter on them
                checks.append((column, "NaN or infinite values", f"(NOT isfinite({quote(column)})) IS TRUE"))
            checks.append((column, "negative values", f"{quote(column)} < 0"))
            checks.append((column, f"values of {MAX_AMOUNT:.0e} or more, too large for an amount",
                           f"({quote(column)} >= {MAX_AMOUNT}) IS TRUE"))
    total, *counts = db.con.execute("SELECT count(*)" + "".join(f", count(*) FILTER (WHERE {condition})"
                                                                for _, _, condition in checks)
                                    + f" FROM {quote(name)}").fetchone()
    for (column, what, condition), count in zip(checks, counts):
        if count:
            raise DataError(
                f"table '{name}' ({table.origin}) column '{table.source_column(column)}' has {count} {what}"
                + _examples(db, name, condition),
            )
    return total


SPARSE_SHARE = 0.05  # trailing months beyond the data: each under 5% of a busy month's rows (the median of the
BUSY_MONTHS = 12     # twelve busiest months)
GAP_MONTHS = 12      # a gap of more than a year with no rows at all, after which fewer rows than before it


def _infer_as_of(db: Database, rows: dict[str, int]) -> tuple[dt.date, str, list[DataWarning]]:
    """as_of when the config sets none: the end of the last month with revenue; without revenue rows, the
    last entry date. Rows in months that look like date errors are left out of the inference: the months
    after a gap of more than :data:`GAP_MONTHS` when they hold fewer rows than the months before it (a
    business does not fall silent for a year and come back smaller: a batch of rows dated two centuries
    ahead), and trailing months each holding under :data:`SPARSE_SHARE` of a busy month's rows (the median
    of the :data:`BUSY_MONTHS` busiest months: a single row dated next month, or a few percent of the rows
    shifted some years ahead). Returns as_of, how it was inferred, and a warning for the rows it left out."""
    table, column = ("revenue", "month") if rows.get("revenue") else ("accounts", "created_at")
    months = db.con.execute(f"SELECT CAST(date_trunc('month', CAST({quote(column)} AS DATE)) AS DATE), count(*) "
                            f"FROM {quote(table)} GROUP BY 1 ORDER BY 1").fetchall()
    total = sum(count for _, count in months)
    kept = months
    for index in range(1, len(months)):
        gap = _month_number(months[index][0]) - _month_number(months[index - 1][0]) - 1
        if gap > GAP_MONTHS and 2 * sum(count for _, count in months[index:]) < total:
            kept = months[:index]
            break
    busy = float(np.median(sorted((count for _, count in kept), reverse=True)[:BUSY_MONTHS]))
    last_month = max(month for month, count in kept if count >= SPARSE_SHARE * busy)
    beyond = [(month, count) for month, count in months if month > last_month]
    origin = db.tables[table].origin
    if table == "revenue":
        as_of = db.scalar("SELECT last_day(CAST(? AS DATE))", [last_month])
        basis = f"inferred: the end of the last month with revenue ({last_month:%Y-%m})"
    else:
        as_of = db.scalar("SELECT max(CAST(created_at AS DATE)) FROM accounts WHERE CAST(created_at AS DATE) < "
                          "CAST(? AS DATE) + INTERVAL 1 MONTH", [last_month])
        basis = "inferred: the last entry date (the source has no revenue rows)"
    if not beyond:
        return as_of, basis, []
    count = sum(rows for _, rows in beyond)
    left_out = f"{_plural(count, f'{table} row')} in {_plural(len(beyond), 'later month')}"
    basis += f"; {left_out} left out as likely date errors (W108)"
    warning = DataWarning(WarningCode.AS_OF_OUTLIERS, (
        f"as_of {as_of} was inferred from '{table}' ({origin}) leaving out {left_out}, up to "
        f"{beyond[-1][0]:%Y-%m}: too few rows to be the data's present (a busy month has {busy:,.0f}), so "
        "probably date errors; set as_of in the config if they are real"
        + _examples(db, table, f"CAST({quote(column)} AS DATE) >= CAST(? AS DATE)", [beyond[0][0]], 2)))
    return as_of, basis, [warning]


def _not_finite(column: str) -> str:
    return f"CAST({quote(column)} AS VARCHAR) IN ('nan', '-nan', 'inf', '-inf')"


def _infinite_attributes(db: Database, columns: list[str]) -> list[DataWarning]:
    """A warning for each numeric attribute of `accounts` holding infinite values (read as missing)."""
    if not columns:
        return []
    infinite = [f"CAST({quote(column)} AS VARCHAR) IN ('inf', '-inf')" for column in columns]
    counts = db.con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {condition})" for condition in infinite)
                            + " FROM accounts").fetchone()
    table = db.tables["accounts"]
    return [DataWarning(WarningCode.INFINITE_ATTRIBUTE,
                        f"{_plural(count, 'account')} ({table.origin}) have an infinite "
                        f"'{table.source_column(column)}', read as missing"
                        + _examples(db, "accounts", condition, limit=2))
            for column, condition, count in zip(columns, infinite, counts) if count]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _month_number(day: dt.date) -> int:
    return day.year * 12 + day.month


def check_contract(db: Database, journey: Journey, as_of: dt.date | None) -> CheckedData:
    """Check every table against the contract and create the clean ``*_ok`` views."""
    rows = {name: _check_columns(db, name) for name in db.tables}
    accounts = db.tables["accounts"]
    if not rows["accounts"]:
        raise DataError(f"table 'accounts' ({accounts.origin}) has no rows")
    duplicates = db.scalar("SELECT count(*) FROM (SELECT account_id FROM accounts GROUP BY 1 HAVING count(*) > 1)")
    if duplicates:
        raise DataError(
            f"table 'accounts' ({accounts.origin}) column '{accounts.source_column('account_id')}' has "
            f"{duplicates} duplicated ids"
            + _examples(db, "accounts", "account_id IN (SELECT account_id FROM accounts GROUP BY 1 HAVING count(*) > 1)"
                        " ORDER BY account_id"),
        )
    warnings: list[DataWarning] = []
    if as_of is None:
        as_of, as_of_basis, warnings = _infer_as_of(db, rows)
    else:
        as_of_basis = AS_OF_FROM_CONFIG
    # NaN in a numeric attribute is missing, as pandas writes it: NULL, so that `where employees > 100` does
    # not select it (DuckDB orders NaN above every number) and matching treats it as missing; an infinite
    # value is no attribute either (missing too, and warned). Tested as text: Parquet statistics leave NaN
    # out, and DuckDB then folds isnan() to false
    attributes = [column for column, kind in accounts.columns.items()
                  if kind in FLOAT_TYPES and column not in (*REQUIRED["accounts"], *NON_NEGATIVE["accounts"])]
    missing = "".join(f", CASE WHEN {_not_finite(column)} THEN NULL ELSE {quote(column)} END AS {quote(column)}"
                      for column in attributes)
    warnings += _infinite_attributes(db, attributes)
    db.con.execute(
        "CREATE VIEW accounts_ok AS SELECT * REPLACE (CAST(account_id AS VARCHAR) AS account_id, "
        f"CAST(created_at AS DATE) AS created_at{missing}) FROM accounts WHERE CAST(created_at AS DATE) <= "
        f"DATE '{as_of.isoformat()}'"  # a date object's ISO form: views cannot hold bound parameters
    )
    late = db.scalar("SELECT count(*) FROM accounts WHERE CAST(created_at AS DATE) > ?", [as_of])
    if late:
        warnings.append(DataWarning(WarningCode.AFTER_AS_OF,
                                    f"{late} accounts ({accounts.origin}) entered after as_of {as_of} and were "
                                    "ignored, with their events" + _examples(db, "accounts",
                                                                             "CAST(created_at AS DATE) > ?", [as_of], 2)))
    usable = {"accounts": rows["accounts"] - late}
    for name in ("stages", "revenue", "spend", "touches", "milestones"):
        if db.has(name):
            warnings += _clean_view(db, name, as_of, journey)
            usable[name] = db.scalar(f"SELECT count(*) FROM {name}_ok")
    return CheckedData(db, as_of, tuple(warnings), as_of_basis, rows, usable)


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
    if name in ENTRY_BOUND:  # a journey stage or milestone cannot come before the account entered the funnel
        entry = (f"(SELECT a.created_at FROM accounts_ok a WHERE a.account_id = CAST({quote(name)}.account_id AS "
                 "VARCHAR))")
        early = f"CAST({date_column} AS DATE) < {entry}"
        count = db.scalar(f"SELECT count(*) FROM {quote(name)} WHERE {early}")
        if count:
            total = db.scalar(f"SELECT count(*) FROM {quote(name)}")
            warnings.append(DataWarning(WarningCode.BEFORE_ENTRY, (
                f"{count} of {total} rows of '{name}' ({table.origin}) are dated before their account entered the "
                "funnel (accounts.created_at); they were taken as on its entry date"
                + _examples(db, name, early, [], 2))))
            casts[0] = f"greatest(CAST({date_column} AS DATE), {entry}) AS {date_column}"
    db.con.execute(
        f"CREATE TABLE {name}_ok AS SELECT * REPLACE ({', '.join(casts)}) FROM {quote(name)} WHERE {' AND '.join(kept)}",
        params,
    )
    return warnings
