"""Open the contract's tables (docs/data.md) in DuckDB, from files, a DuckDB file or the demo.

Every contract table becomes a view under its contract name with contract column
names (remapped per config), so the rest of the data layer writes plain SQL against
``accounts``, ``stages``, ``revenue``, ``spend``, ``touches`` and ``milestones``.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
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


# errors of the engine that come from the data (a value that does not convert, a file that cannot be
# read or ends early): the user's to fix, so they become DataError naming the table; any other engine error
# is a bug in a query of ours and stays an internal error
DATA_ERRORS = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.IOException,
               duckdb.OutOfRangeException, duckdb.OutOfMemoryException)


class Connection:
    """The source's DuckDB connection, through which every query of the data layer runs.

    An engine error caused by the data becomes a :class:`DataError` that names the table, its file, and
    where the engine says so the line, column and value; a query interrupted by Ctrl-C becomes a
    ``KeyboardInterrupt`` again (DuckDB reports it as a ``RuntimeError``).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: dict[str, Table]):
        self._con, self._tables = con, tables
        self._jobs: queue.SimpleQueue | None = None  # calls for the worker thread that runs them (see below)
        self._stop: weakref.finalize | None = None  # ends the worker: on close, when collected, at exit

    def execute(self, query: str, params: list | dict | None = None) -> Connection:
        if params is None:
            self._interruptible(self._con.execute, query)
        else:
            self._interruptible(self._con.execute, query, params)
        return self

    def fetchone(self):
        return self._interruptible(self._con.fetchone)

    def fetchall(self):
        return self._interruptible(self._con.fetchall)

    def fetchnumpy(self):
        return self._interruptible(self._con.fetchnumpy)

    def _interruptible(self, call, *args):
        """``call(*args)`` on the connection's worker thread while this one waits, so that Ctrl-C always stops
        a query.

        Python runs its SIGINT handler only in the main thread and only between bytecodes: a query run in
        the main thread holds it inside the engine, and DuckDB's own check for the signal misses it about
        half the time. Waiting here instead, the main thread sees the interrupt (or any exception raised
        while it waits) at once, asks the engine to stop (``interrupt``) and waits for the worker before
        raising it. The worker lives as long as the
        connection, and is waited for when it ends: a thread that ran queries and ends while the interpreter
        exits can abort the process in the engine's thread-local clean-up.
        """
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            worker = threading.Thread(target=_serve, args=(self._jobs,), name="cohortlab-query", daemon=True)
            worker.start()
            self._stop = weakref.finalize(self, _stop, self._con, self._jobs, worker)  # ends with the connection
        outcome: list = []
        done = threading.Event()
        queued = False
        with self.translated():
            try:
                self._jobs.put((call, args, outcome, done))
                queued = True
                while not done.wait(0.25):
                    pass
            except BaseException:  # Ctrl-C, or any other exception raised while waiting (a timeout's signal)
                if not queued:
                    raise
                self._con.interrupt()
                while True:  # the worker must be out of the engine before this thread goes on
                    try:
                        done.wait()
                        break
                    except BaseException:  # interrupted again: already stopping
                        continue
                raise
            finished, value = outcome[0]
            if not finished:
                raise value
            return value

    @property
    def description(self):
        return self._con.description

    def register(self, name: str, frame) -> None:
        self._con.register(name, frame)

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Engine errors caused by the data as :class:`DataError`; an interrupted query as KeyboardInterrupt."""
        try:
            yield
        except (duckdb.Error, RuntimeError) as error:
            if interrupted(error):
                raise KeyboardInterrupt from None
            if isinstance(error, DATA_ERRORS):
                raise data_error(error, self._tables.values()) from None
            raise

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self._jobs = self._stop = None
        self._con.close()


def _stop(con: duckdb.DuckDBPyConnection, jobs: queue.SimpleQueue, worker: threading.Thread) -> None:
    """End a connection's worker thread and wait until it has; a query it still runs (another thread's, at
    interpreter exit) is interrupted first."""
    jobs.put(None)
    if worker is threading.current_thread():
        return
    while worker.is_alive():
        con.interrupt()
        worker.join(0.25)


def _serve(jobs: queue.SimpleQueue) -> None:
    """The worker thread of a :class:`Connection`: run each call, hand back its value or error, until None."""
    while (job := jobs.get()) is not None:
        call, args, outcome, done = job
        try:
            outcome.append((True, call(*args)))
        except BaseException as error:  # handed to the waiting thread, which raises it
            outcome.append((False, error))
        del call, args, job
        done.set()


def interrupted(error: Exception) -> bool:
    """Whether an engine error is a query interrupted by Ctrl-C (DuckDB raises a RuntimeError for it)."""
    return isinstance(error, duckdb.InterruptException) or (
        type(error) is RuntimeError and "interrupted" in str(error).lower())


def engine_reason(error: Exception) -> str:
    """The engine's first line about a file it could not read, with the line that names an encoding problem
    when there is one (DuckDB puts "not utf-8 encoded" further down)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[0] if lines else type(error).__name__
    encoding = next((line for line in lines[1:] if "utf-8" in line.lower() or "encoding" in line.lower()), None)
    return f"{reason} ({encoding})" if encoding else reason


def data_error(error: Exception, tables) -> DataError:
    """A :class:`DataError` for an engine error caused by the data, naming the table it came from (the one
    whose file the engine names, else every table of the source), and the line, column and value the engine
    names (CSV conversion errors do)."""
    text = str(error)
    first = engine_reason(error)
    found = [table for table in tables if table.origin in text]
    where = (f"table '{found[0].name}' ({found[0].origin})" if found else
             "the data source (" + ", ".join(f"'{table.name}'" for table in tables) + ")")
    line = re.search(r"CSV Error on Line: (\d+)", text)
    column = re.search(r'converting column "([^"]+)"', text)
    value = re.search(r'Could not convert string "(.*)" to \'([^\']+)\'', text)
    original = re.search(r"^Original Line: (.*)$", text, re.MULTILINE)
    if line and column and value:
        return DataError(f"{where} line {line.group(1)}: column '{column.group(1)}' has '{value.group(1)}', which "
                         f"is not {_kind(value.group(2))} like the rows before it"
                         + (f" (the line reads: {original.group(1)[:200]})" if original else ""),
                         hint="fix the value, or leave the cell empty for a missing value")
    detail = first.split(": ", 1)[1] if ": " in first and first.split(": ", 1)[0].endswith("Error") else first
    return DataError(f"cannot read {where}: {detail}" + (f" ({line.group(0).strip()})" if line else ""))


def _kind(engine_type: str) -> str:
    engine_type = engine_type.upper()
    if engine_type.startswith(("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT")):
        return "a number"
    if engine_type.startswith(("DATE", "TIMESTAMP")):
        return "a date"
    if engine_type.startswith("BOOLEAN"):
        return "true or false"
    return f"a {engine_type}"


@dataclass
class Database:
    """A DuckDB connection holding one view per contract table that the source provides."""

    con: Connection
    tables: dict[str, Table]

    def has(self, name: str) -> bool:
        return name in self.tables

    def scalar(self, query: str, params: list | None = None):
        return self.con.execute(query, params or []).fetchone()[0]


def quote(identifier: str) -> str:
    """A DuckDB identifier, double-quoted with embedded quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


def table_names(config: Config) -> dict[str, str]:
    """Each contract table's name in the source: the config's ``tables.<table>.name``, else the contract name."""
    return {table: (config.tables[table].name if table in config.tables and config.tables[table].name else table)
            for table in TABLE_NAMES}


def source_files(config: Config) -> list[tuple[str, Path]]:
    """The files the source reads or would read, as (what it is, path): every table's candidate file in a
    files source (existing or not: writing one would change what the next run reads), the database file of
    a DuckDB source."""
    source = config.source
    if isinstance(source, FilesSource):
        folder = config.resolve(source.path)
        candidates = [(table, folder / f"{name}{suffix}") for table, name in table_names(config).items()
                      for suffix in FILE_SUFFIXES]
        return [(f"table '{table}' of the source" if os.path.lexists(path) else
                 f"where the source would read table '{table}'", path) for table, path in candidates]
    if isinstance(source, DuckDBSource):
        path = config.resolve(source.path)
        return [("the source's DuckDB file", path), ("the source's DuckDB write-ahead log", path.with_name(
            path.name + ".wal"))]
    return []


def reserved_name(config: Config, path: Path) -> str | None:
    """What a file at ``path`` would be to a files source (a name its data folder keeps for a table, which
    the next run would read or refuse as one: ``data/milestones.md``), or None."""
    source = config.source
    if not isinstance(source, FilesSource):
        return None
    folder = os.path.realpath(config.resolve(source.path))
    if os.path.realpath(Path(path).parent) != folder:
        return None
    stem = Path(path).name.split(".")[0].lower()
    for table, name in table_names(config).items():
        if stem == name.lower():
            return f"a name the source keeps for table '{table}'"
    return None


def _named_in_config(config: Config, table: str) -> str | None:
    """Where the config names ``table`` (it must then be found), or None."""
    mapping = config.tables.get(table)
    if mapping is None:
        return None
    return f"tables.{table}.name in {config.file}" if mapping.name else f"tables.{table} in {config.file}"


def _table_file(config: Config, folder: Path, table: str, name: str) -> Path | None:
    """The one file holding ``table`` in a files source, None when there is none.

    Two files for one table (``accounts.csv`` beside ``accounts.parquet``) are ambiguous; a file that is
    there by name but cannot be read (a broken symbolic link, a folder) and a file that looks like the
    table but is in a format cohortlab does not read (``revenue.xlsx``, ``Revenue.CSV``) are errors, not a
    table silently left out. A table the config names must be found.
    """
    candidates = [folder / f"{name}{suffix}" for suffix in FILE_SUFFIXES]
    present = [path for path in candidates if os.path.lexists(path)]
    if len(present) > 1:
        raise InputError(f"table '{table}' has {len(present)} files in {folder}: "
                         f"{', '.join(path.name for path in present)}; cohortlab cannot tell which to read",
                         hint="keep one file per table in the data folder")
    if present:
        path = present[0]
        if path.is_file():
            return path
        if path.is_symlink() and not path.exists():
            problem = f"a broken symbolic link (to {os.readlink(path)})"
        else:
            problem = "not a file"
        raise InputError(f"cannot read table '{table}': {path} is {problem}")
    lookalikes = sorted(entry.name for entry in folder.iterdir()
                        if entry.name.split(".")[0].lower() == name.lower() and entry.name not in
                        {candidate.name for candidate in candidates})
    if lookalikes:
        raise InputError(f"table '{table}': {folder / lookalikes[0]} is not read (cohortlab reads {name}.parquet, "
                         f"{name}.csv, {name}.csv.gz or {name}.tsv; names are case-sensitive)",
                         hint=f"convert or rename it to {name}.parquet or {name}.csv")
    named = _named_in_config(config, table)
    if named:
        raise InputError(f"table '{table}' not found: no {name}.parquet, {name}.csv, {name}.csv.gz or {name}.tsv "
                         f"in {folder} (named by {named})")
    return None


MISSING_SOURCE_HINT = ("source.path is relative to the config file's folder; correct it, or put the data there "
                       "before running (see `cohortlab docs data`)")


def missing_source(config: Config) -> str | None:
    """Why the folder or DuckDB file that ``source.path`` names is not there, or None (it is; or the demo)."""
    source = config.source
    if isinstance(source, DemoSource):
        return None
    path = config.resolve(source.path)
    where = f"(source.path in {config.file})"
    if isinstance(source, FilesSource):
        if path.is_dir():
            return None
        if path.exists():
            return f"not a data folder: {path} is a file {where}; a files source reads a folder of table files"
        return f"data folder not found: {path} {where}"
    if path.is_file():
        return None
    return f"not a DuckDB file: {path} is a folder {where}" if path.exists() else \
        f"DuckDB file not found: {path} {where}"


def _source_relations(con: duckdb.DuckDBPyConnection, config: Config, schema_only: bool
                      ) -> dict[str, tuple[str, str]]:
    """Map each available contract table to (source relation SQL, origin for messages)."""
    source = config.source
    names = table_names(config)
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
            elif _named_in_config(config, table):
                raise InputError(f"table '{table}' not found: the demo has no table '{names[table]}' (named by "
                                 f"{_named_in_config(config, table)})", hint=f"its tables are: {', '.join(frames)}")
    elif isinstance(source, FilesSource):
        folder = config.resolve(source.path)
        if (missing := missing_source(config)) is not None:
            raise InputError(missing, hint=MISSING_SOURCE_HINT)
        for table in TABLE_NAMES:
            path = _table_file(config, folder, table, names[table])
            if path is not None:
                literal = str(path).replace("'", "''")
                reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
                relations[table] = (f"{reader}('{literal}')", str(path))
    elif isinstance(source, DuckDBSource):
        path = config.resolve(source.path)
        if (missing := missing_source(config)) is not None:
            raise InputError(missing, hint=MISSING_SOURCE_HINT)
        literal = str(path).replace("'", "''")
        try:
            con.execute(f"ATTACH '{literal}' AS src (READ_ONLY)")
        except duckdb.Error as error:
            raise InputError(f"cannot open DuckDB file {path}: {str(error).splitlines()[0]}") from None
        present: dict[str, list[str]] = {}
        for schema, name in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                        "WHERE table_catalog = 'src' ORDER BY 1, 2").fetchall():
            present.setdefault(name, []).append(schema)
        for table in TABLE_NAMES:
            schemas = present.get(names[table], [])
            if len(schemas) > 1:
                raise InputError(f"table '{table}': {path} has a table '{names[table]}' in {len(schemas)} schemas "
                                 f"({', '.join(schemas)}); cohortlab cannot tell which to read",
                                 hint="keep the contract's tables in one schema")
            if schemas:
                relations[table] = (f"src.{quote(schemas[0])}.{quote(names[table])}", f"{path}:{names[table]}")
            elif _named_in_config(config, table):
                raise InputError(f"table '{table}' not found: {path} has no table '{names[table]}' (named by "
                                 f"{_named_in_config(config, table)})")
    return relations


def open_database(config: Config, *, schema_only: bool = False) -> Database:
    """Open the configured source and expose each contract table as a view with contract names.

    With ``schema_only`` the caller needs only the tables' columns (`cohortlab validate`): the demo
    source is then a set of empty tables with the demo's columns.
    """
    raw = duckdb.connect(":memory:")
    tables: dict[str, Table] = {}
    con = Connection(raw, tables)
    try:
        # timestamps with a time zone become dates in UTC, whatever the machine's zone: same data, same numbers
        con.execute("SET TimeZone = 'UTC'")
        with con.translated():  # Ctrl-C while a file is read
            relations = _source_relations(raw, config, schema_only)
        for table, (relation, origin) in relations.items():
            try:
                source_columns = [row[0] for row in raw.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
            except (duckdb.Error, RuntimeError) as error:
                if interrupted(error):
                    raise KeyboardInterrupt from None
                if not isinstance(error, duckdb.Error):
                    raise
                raise InputError(f"cannot read table '{table}' from {origin}: {engine_reason(error)}") from None
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
    except BaseException:  # the connection and its worker thread end with the failure
        con.close()
        raise
    return Database(con, tables)


def _describe(config: Config) -> str:
    source = config.source
    if isinstance(source, DemoSource):
        return f"demo, seed {source.seed}"
    return f"{source.kind}: {config.resolve(source.path)}"
