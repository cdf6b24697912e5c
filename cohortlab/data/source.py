"""Open the contract's tables (SPEC §3) in DuckDB, from files, a DuckDB file or the demo.

Every contract table becomes a view under its contract name with contract column
names (remapped per config), so the rest of the data layer writes plain SQL against
``accounts``, ``stages``, ``revenue``, ``spend``, ``touches`` and ``milestones``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cohortlab.errors import DataError, InputError
from cohortlab.spec.models import TABLE_NAMES, Config, DemoSource, DuckDBSource, FilesSource

FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")


@dataclass
class Table:
    """A contract table as seen through its view: where it came from and its column types."""

    name: str
    origin: str
    columns: dict[str, str]
    renamed: dict[str, str] = field(default_factory=dict)  # contract column -> source column

    def source_column(self, column: str) -> str:
        return self.renamed.get(column, column)


@dataclass
class Database:
    """A DuckDB connection holding one view per contract table that the source provides."""

    con: duckdb.DuckDBPyConnection
    tables: dict[str, Table]

    def has(self, name: str) -> bool:
        return name in self.tables

    def scalar(self, query: str, params: list | None = None):
        return self.con.execute(query, params or []).fetchone()[0]


def quote(identifier: str) -> str:
    """A DuckDB identifier, double-quoted with embedded quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


def _source_relations(con: duckdb.DuckDBPyConnection, config: Config, schema_only: bool
                      ) -> dict[str, tuple[str, str]]:
    """Map each available contract table to (source relation SQL, origin for messages)."""
    source = config.source
    names = {table: (config.tables[table].name if table in config.tables and config.tables[table].name else table)
             for table in TABLE_NAMES}
    relations: dict[str, tuple[str, str]] = {}
    if isinstance(source, DemoSource):
        if schema_only:  # empty tables of the demo's columns: no need to generate it
            from cohortlab.data.demo_schema import DEMO_TABLES

            for name, columns in DEMO_TABLES.items():
                con.execute(f"CREATE TABLE {quote('demo_' + name)} ("
                            f"{', '.join(f'{quote(column)} {kind}' for column, kind in columns.items())})")
            frames = dict.fromkeys(DEMO_TABLES)
        else:
            from cohortlab.data import demo

            frames = demo.generate(source.seed)
            for name, frame in frames.items():
                con.register(f"demo_{name}", frame)
        for table in TABLE_NAMES:
            if names[table] in frames:
                relations[table] = (f"demo_{names[table]}", f"demo table '{names[table]}'")
    elif isinstance(source, FilesSource):
        folder = config.resolve(source.path)
        if not folder.is_dir():
            raise InputError(f"data folder not found: {folder} (source.path in {config.file})")
        for table in TABLE_NAMES:
            for suffix in FILE_SUFFIXES:
                path = folder / f"{names[table]}{suffix}"
                if path.is_file():
                    literal = str(path).replace("'", "''")
                    reader = "read_parquet" if suffix == ".parquet" else "read_csv_auto"
                    relations[table] = (f"{reader}('{literal}')", str(path))
                    break
    elif isinstance(source, DuckDBSource):
        path = config.resolve(source.path)
        if not path.is_file():
            raise InputError(f"DuckDB file not found: {path} (source.path in {config.file})")
        literal = str(path).replace("'", "''")
        try:
            con.execute(f"ATTACH '{literal}' AS src (READ_ONLY)")
        except duckdb.Error as error:
            raise InputError(f"cannot open DuckDB file {path}: {error}") from None
        present = {row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'").fetchall()}
        for table in TABLE_NAMES:
            if names[table] in present:
                relations[table] = (f"src.{quote(names[table])}", f"{path}:{names[table]}")
    return relations


def open_database(config: Config, *, schema_only: bool = False) -> Database:
    """Open the configured source and expose each contract table as a view with contract names.

    With ``schema_only`` the caller needs only the tables' columns (`cohortlab validate`): the demo
    source is then a set of empty tables with the demo's columns.
    """
    con = duckdb.connect(":memory:")
    # timestamps with a time zone become dates in UTC, whatever the machine's zone: same data, same numbers
    con.execute("SET TimeZone = 'UTC'")
    tables: dict[str, Table] = {}
    for table, (relation, origin) in _source_relations(con, config, schema_only).items():
        try:
            source_columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        except duckdb.Error as error:
            raise InputError(f"cannot read table '{table}' from {origin}: {str(error).splitlines()[0]}") from None
        renamed = dict(config.tables[table].columns) if table in config.tables else {}
        missing = [source for source in renamed.values() if source not in source_columns]
        if missing:
            raise DataError(
                f"table '{table}' ({origin}) has no column '{missing[0]}' (named in tables.{table}.columns of the config)",
                hint=f"its columns are: {', '.join(source_columns)}",
            )
        renames = ", ".join(f"{quote(src)} AS {quote(dst)}" for dst, src in renamed.items())
        select = f"SELECT * RENAME ({renames}) FROM {relation}" if renames else f"SELECT * FROM {relation}"
        con.execute(f"CREATE VIEW {quote(table)} AS {select}")
        columns = {row[0]: row[1] for row in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
        tables[table] = Table(table, origin, columns, renamed)
    if "accounts" not in tables:
        raise InputError(f"no 'accounts' table found in the data source ({_describe(config)})",
                         hint="expected accounts.parquet or accounts.csv, or a table named in tables.accounts.name")
    return Database(con, tables)


def _describe(config: Config) -> str:
    source = config.source
    if isinstance(source, DemoSource):
        return f"demo, seed {source.seed}"
    return f"{source.kind}: {config.resolve(source.path)}"
