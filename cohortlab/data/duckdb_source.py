"""The :class:`Source` of files, a DuckDB file or the demo: each table a view in an in-memory DuckDB database.

Serves every ``source.kind`` the config has today (``files``, ``duckdb``, ``demo``; the
config's ``spec.models.DuckDBSource`` is only the ``duckdb`` kind's settings). Its parts:
:mod:`cohortlab.data.source` opens the tables as views, :mod:`cohortlab.data.contract`
checks them into clean ``<table>_ok`` views, :mod:`cohortlab.data.panel` aggregates those
to the panel. The connection and every query stay in this module and those three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cohortlab.data.base import ContractCheck, Source
from cohortlab.data.contract import CheckedData, DataWarning, check_contract
from cohortlab.data.panel import Panel, build_panel
from cohortlab.data.source import Database, open_database
from cohortlab.spec.cohorts import CohortFilter
from cohortlab.spec.models import Attribution, Config, Economics, Journey


class DuckDBSource(Source):
    """The contract's tables as DuckDB views over the configured files, DuckDB file or demo."""

    def __init__(self, database: Database):
        self._database = database
        self._data: CheckedData | None = None  # the database once checked: its clean views

    @classmethod
    def open(cls, config: Config, *, schema_only: bool = False) -> DuckDBSource:
        return cls(open_database(config, schema_only=schema_only))

    def account_columns(self) -> dict[str, str]:
        return dict(self._database.tables["accounts"].columns)

    def check(self, journey: Journey, as_of: dt.date | None) -> ContractCheck:
        if self._data is not None:
            raise RuntimeError("the source is already checked: its clean views exist")
        self._data = check_contract(self._database, journey, as_of)
        return self.checked

    @property
    def checked(self) -> ContractCheck:
        data = self._checked_data()
        return ContractCheck(data.as_of, data.as_of_basis, data.warnings)

    def earliest_entry(self) -> dt.date | None:
        return self._checked_data().db.scalar("SELECT min(CAST(created_at AS DATE)) FROM accounts_ok")

    def build_panel(self, filters: list[CohortFilter], journey: Journey, economics: Economics,
                    attribution: Attribution, covariates: list[str], milestones: Sequence[str] = (),
                    order: Sequence[str] = ()) -> tuple[Panel, list[DataWarning]]:
        return build_panel(self._checked_data(), filters, journey, economics, attribution, covariates,
                           list(milestones), list(order))

    def close(self) -> None:
        self._database.con.close()

    def _checked_data(self) -> CheckedData:
        if self._data is None:
            raise RuntimeError("check() the source against the contract before querying it")
        return self._data
