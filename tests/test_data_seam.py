"""The data layer's seam: outside cohortlab/data/, the program reaches data only through a `Source`.

No connection, no query, no view name and no DuckDB outside data/ (STYLE.md: SQL lives in
`data/` alone), so that another engine plugs in by implementing `Source`.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import get_args

import pytest

from cohortlab.data.base import ContractCheck, Source
from cohortlab.data.contract import AS_OF_FROM_CONFIG
from cohortlab.data.registry import SOURCES, open_source
from cohortlab.spec import models
from cohortlab.spec.load import load_config
from faults import AS_OF, make_project, tables

PACKAGE = Path(__file__).resolve().parents[1] / "cohortlab"

# the DuckDB implementation's handles and the calls that run SQL on them
ENGINE_ATTRIBUTES = {"con", "db"}
QUERY_CALLS = {"execute", "executemany", "scalar", "sql", "query", "fetchone", "fetchall", "fetchnumpy", "fetchdf"}
# what only the DuckDB implementation may import from data/ (None: all of the module); the rest of the program
# opens a Source and may import the values it hands over (Panel, DataWarning)
ENGINE_MODULES = {"cohortlab.data.duckdb_source": None,
                  "cohortlab.data.contract": {"check_contract", "CheckedData"},
                  "cohortlab.data.panel": {"build_panel"},
                  "cohortlab.data.source": {"open_database", "Database", "Connection", "quote"}}
QUERY = re.compile(r"\b(SELECT|CREATE|ALTER|DROP|INSERT|ATTACH|DESCRIBE)\b.*\b(FROM|VIEW|TABLE|INTO)\b", re.DOTALL)
# the contract module's clean views and the panel's temporary tables
VIEW = re.compile(rf"\b({'|'.join(models.TABLE_NAMES)})_ok\b|__untyped|\btouch_cost\b|\bcohort_credit\b")


def offences(code: str) -> list[str]:
    """What in ``code`` reaches past the Source: engine handles, query calls, DuckDB and engine imports, SQL."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {alias.name}" for alias in node.names
                      if _reaches_engine(alias.name, None)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if _reaches_engine(node.module, names):
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.JoinedStr | ast.Constant):
            text = _text(node)
            if text is not None and (QUERY.search(text) or VIEW.search(text)):
                found.append(f"line {node.lineno}: SQL {text[:60]!r}")
    return found


def _reaches_engine(module: str, names: set[str] | None) -> bool:
    """Whether importing ``names`` of ``module`` (None: the module itself) reaches DuckDB or the internals of
    the DuckDB implementation."""
    if module.split(".")[0] == "duckdb":
        return True
    if module not in ENGINE_MODULES:
        return False
    private = ENGINE_MODULES[module]
    return private is None or names is None or bool(private & names)


def _text(node: ast.JoinedStr | ast.Constant) -> str | None:
    """A string literal's text; an f-string's with ``{}`` where it formats a value."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)


def outside_data() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if (PACKAGE / "data") not in path.parents)


@pytest.mark.parametrize("path", outside_data(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_engine_outside_data(path):
    assert offences(path.read_text()) == [], f"{path.relative_to(PACKAGE)} reaches past the Source"


@pytest.mark.parametrize("code", [
    'data.db.scalar("SELECT min(CAST(created_at AS DATE)) FROM accounts_ok")',
    "database.con.close()",
    "cursor.execute(query)",
    "import duckdb",
    "from duckdb import connect",
    "from cohortlab.data.source import open_database",
    "from cohortlab.data.contract import check_contract",
    "from cohortlab.data.panel import build_panel",
    "from cohortlab.data.duckdb_source import DuckDBSource",
    "import cohortlab.data.source",
    'view = "stages_ok"',
    'name = f"{table}__untyped"',
    'query = f"SELECT count(*) FROM {table} WHERE x > ?"',
])
def test_the_scan_finds_each_kind_of_offence(code):
    assert offences(code), code


@pytest.mark.parametrize("code", [
    "from cohortlab.data.registry import open_source",
    "from cohortlab.data.panel import Panel",
    "from cohortlab.data.contract import AS_OF_FROM_CONFIG",
    "from cohortlab.data.source import missing_source, reserved_name",
    "source.build_panel(filters, journey, economics, attribution, columns)",
    'message = "select the cohorts FROM the panel"',
    'folder.mkdir(parents=True, exist_ok=True)',
])
def test_the_scan_passes_the_source_interface(code):
    assert offences(code) == [], code


def test_every_source_kind_of_the_config_has_a_source():
    kinds = {kind for model in get_args(get_args(models.Source)[0])
             for kind in get_args(model.model_fields["kind"].annotation)}
    assert set(SOURCES) == kinds
    for source in SOURCES.values():
        assert issubclass(source, Source) and not inspect.isabstract(source), source


def test_a_source_answers_in_domain_terms(tmp_path):
    project = make_project(tmp_path)
    config, _ = load_config(project.config)
    accounts = tables()["accounts"]
    with open_source(config, schema_only=True) as source:
        assert list(source.account_columns()) == list(accounts.columns)
    with open_source(config) as source:
        with pytest.raises(RuntimeError):  # queries read the checked rows: check first
            source.earliest_entry()
        checked = source.check(config.journey, config.as_of)
        assert checked == source.checked == ContractCheck(AS_OF, AS_OF_FROM_CONFIG, ())
        assert source.account_columns()["created_at"] == "DATE"
        assert source.earliest_entry() == min(accounts["created_at"])
        with pytest.raises(RuntimeError):  # once: a shared source is checked by whoever opened it
            source.check(config.journey, config.as_of)

