"""What the rest of cohortlab asks of a data source, whichever engine answers.

A :class:`Source` holds the contract's tables (docs/data.md) as one engine sees them. The
program opens one from the config (:func:`cohortlab.data.registry.open_source`), checks it
against the contract once, then builds from it the per-account panel of each experiment's
cohorts; several experiments of one project may share one checked source. The connection,
the queries and their dialect stay inside the implementation (today
:class:`cohortlab.data.duckdb_source.DuckDBSource`): another engine plugs in by implementing
these methods and registering its class under its ``source.kind``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from cohortlab.data.contract import DataWarning
from cohortlab.data.panel import Panel
from cohortlab.spec.cohorts import CohortFilter
from cohortlab.spec.models import Attribution, Config, Economics, Journey


@dataclass(frozen=True)
class ContractCheck:
    """What checking a source against the data contract found."""

    as_of: dt.date                     # the date the data is observed to: the config's, or inferred
    as_of_basis: str                   # how as_of was found (``contract.AS_OF_FROM_CONFIG``, or how it was inferred)
    warnings: tuple[DataWarning, ...]  # rows set aside (unknown accounts, events after as_of, …), counted


class Source(ABC):
    """The contract's tables in one engine: opened from the config, checked once, then queried for panels.

    Used as a context manager, a source is closed when the block ends, on failure too.
    """

    @classmethod
    @abstractmethod
    def open(cls, config: Config, *, schema_only: bool = False) -> Source:
        """Open the source ``config.source`` names, each table under its contract name with contract column
        names (remapped per ``config.tables``).

        With ``schema_only`` the caller needs only :meth:`account_columns` (`cohortlab validate` without
        ``--check-data``), so the source need not read or generate any rows.

        Raises
        ------
        InputError
            The source or a table cannot be found or read, or it has no accounts table.
        DataError
            A column the config maps is not in its table.
        """

    @abstractmethod
    def account_columns(self) -> dict[str, str]:
        """Each column of the accounts table (contract names) with its type, as DuckDB names types
        (:mod:`cohortlab.spec.types` reads them: ``VARCHAR``, ``DOUBLE``, ``DATE``, ``TIMESTAMP WITH TIME ZONE``, …)."""

    @abstractmethod
    def check(self, journey: Journey, as_of: dt.date | None) -> ContractCheck:
        """Check every table against the contract, once, and keep only the rows that pass for the queries that
        follow.

        Hard problems raise :class:`DataError`; rows with soft problems (an unknown account, an event after
        ``as_of``, a stage outside ``journey``) are set aside and counted in the warnings. Without ``as_of``
        (None) it is inferred from the data.
        """

    @property
    @abstractmethod
    def checked(self) -> ContractCheck:
        """What :meth:`check` found; a source shared by several experiments is checked once."""

    @abstractmethod
    def earliest_entry(self) -> dt.date | None:
        """The first entry date (``accounts.created_at``) of the accounts kept by the check; None without any."""

    @abstractmethod
    def build_panel(self, filters: list[CohortFilter], journey: Journey, economics: Economics,
                    attribution: Attribution, covariates: list[str], milestones: Sequence[str] = (),
                    order: Sequence[str] = ()) -> tuple[Panel, list[DataWarning]]:
        """Both cohorts' accounts of the checked data, aggregated to one row per account, and warnings about
        rows the aggregation left out.

        ``covariates`` are the accounts columns carried into the panel (for matching and breakdowns);
        ``milestones`` the milestones whose first dates it holds. Rows: the treatment cohort first, each cohort
        ordered by the ``order`` columns, then ``account_id``. Raises :class:`DataError` for an account in
        both cohorts and for ``economics.gross_margin: cost`` without a ``revenue.cost`` column.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the engine's connection and what it holds (the checked tables); closing twice is harmless."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
