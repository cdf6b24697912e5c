"""The Report: what `cohortlab compare` found, as plain frozen records (the JSON report: docs/metrics.md).

Renderers (text, json, markdown) draw the same Report; :meth:`Report.to_dict` is the
versioned JSON contract.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any


from cohortlab.codes import Status
from cohortlab.data.contract import AS_OF_FROM_CONFIG
from cohortlab.engine.records import (AccountInputs, AccountWeights, CohortSummary, CurveTables, FunnelStage,
                                      MatchingSummary, MetricResult, ReportWarning, Settings)

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    title: str | None
    file: str
    owner: str | None = None
    hypothesis: str | None = None
    primary: str | None = None
    mde: dict[str, float] = field(default_factory=dict)   # the relative effects it declares it must detect


class ResultLookupError(KeyError):
    """:meth:`Report.result` found no result for a key, or several for a metric name (``ambiguous``), or
    :meth:`Report.curve` no curve; the message lists the ``candidates`` (full keys) and how to pick one.
    A KeyError, as a mapping's lookup."""

    def __init__(self, message: str, candidates: tuple[str, ...], ambiguous: bool = False):
        super().__init__(message)
        self.candidates = candidates
        self.ambiguous = ambiguous

    def __str__(self) -> str:  # KeyError's would quote the message as a repr
        return str(self.args[0])


@dataclass(frozen=True)
class Report:
    experiment: ExperimentInfo
    as_of: dt.date
    settings: Settings
    cohorts: dict[str, CohortSummary]
    matching: MatchingSummary
    results: tuple[MetricResult, ...]
    warnings: tuple[ReportWarning, ...]
    funnel: tuple[FunnelStage, ...] = ()
    accounts: AccountWeights | None = field(default=None, repr=False, compare=False)
    as_of_basis: str = AS_OF_FROM_CONFIG   # how as_of was found: the config's, or inferred from the data (how)
    # for notebooks, not part of the JSON report: the overall results' curves and per-account inputs
    curve_tables: CurveTables = field(default_factory=dict, repr=False, compare=False)
    account_inputs: AccountInputs = field(default_factory=dict, repr=False, compare=False)

    @property
    def as_of_inferred(self) -> bool:
        return self.as_of_basis != AS_OF_FROM_CONFIG

    @property
    def primary_result(self) -> MetricResult | None:
        """The result of the experiment's primary metric: the first listed with its name."""
        return next((result for result in self.overall if result.metric == self.experiment.primary), None)

    @property
    def overall(self) -> tuple[MetricResult, ...]:
        """The results on the whole cohorts (the breakdown's segments left out)."""
        return tuple(result for result in self.results if result.segment is None)

    @property
    def breakdown(self) -> tuple[MetricResult, ...]:
        """The results within breakdown segments, segment by segment."""
        return tuple(result for result in self.results if result.segment is not None)

    def buildup_result(self) -> MetricResult | None:
        """The modeled LTV whose build-up the report shows: the primary metric if it is one, else the first."""
        modeled = [result for result in self.overall if result.metric == "ltv" and result.status is Status.OK
                   and result.params.get("basis") == "modeled"]
        primary = self.primary_result
        return primary if primary in modeled else (modeled[0] if modeled else None)

    def result(self, key: str, segment: str | None = None) -> MetricResult:
        """The result for a metric, overall or in a breakdown ``segment`` such as ``segment=SMB``.

        ``key`` is a full key (:attr:`MetricResult.key`: ``cac``, ``cac:paid``, ``ltv:earned:12``) or a metric
        name (``ltv``) that names one result only. A full key is looked up first, so ``cac`` is the CAC
        over all cost even where ``cac:paid`` is listed too.

        Raises
        ------
        ResultLookupError
            A KeyError listing the candidate keys: when ``key`` names several results (pass one of their
            keys), or none (the available keys, and the segments when ``segment`` is not one).
        """
        among = [result for result in self.results if result.segment == segment]
        for result in among:
            if result.key == key:
                return result
        named = [result for result in among if result.metric == key]
        if len(named) == 1:
            return named[0]
        where = "" if segment is None else f" in segment '{segment}'"
        if named:
            candidates = tuple(result.key for result in named)
            raise ResultLookupError(f"metric '{key}' has {len(named)} results{where}: "
                                    f"{', '.join(candidates)}; pass one of these keys, e.g. "
                                    f"report.result('{candidates[0]}')", candidates, ambiguous=True)
        if not among:
            segments = list(dict.fromkeys(result.segment for result in self.breakdown))
            raise ResultLookupError(f"no segment '{segment}'; the segments are: "
                                    f"{', '.join(segments) if segments else 'none (the experiment has no breakdown)'}",
                                    ())
        candidates = tuple(result.key for result in among)
        raise ResultLookupError(f"no result for metric '{key}'{where}; the keys are: {', '.join(candidates)}",
                                candidates)

    def to_frame(self) -> pd.DataFrame:
        """The results as a pandas DataFrame, one row per metric and segment (overall first, then the
        breakdown's segments), with ``key`` and every field of the JSON report's results
        (:func:`cohortlab.report.notebook.results_frame`)."""
        from cohortlab.report.notebook import results_frame

        return results_frame(self)

    def curve(self, key: str) -> pd.DataFrame:
        """The curve behind an overall result (``key`` as for :meth:`result`), one row per cohort and month
        or day (:func:`cohortlab.report.notebook.curve_frame`)."""
        from cohortlab.report.notebook import curve_frame

        return curve_frame(self, self.result(key).key)

    def curves(self) -> dict[str, pd.DataFrame]:
        """Every overall result's curve by key, for the metrics that have one."""
        from cohortlab.report.notebook import curve_frame

        return {key: curve_frame(self, key) for key in self.curve_tables}

    def accounts_frame(self) -> pd.DataFrame:
        """One row per account of both cohorts: account_id, cohort, matching weight and subclass, and each
        overall result's per-account inputs (:func:`cohortlab.report.notebook.accounts_frame`)."""
        from cohortlab.report.notebook import accounts_frame

        return accounts_frame(self)

    @property
    def bottom_line(self) -> str:
        """One to three sentences: the primary metric's change, how sure, and whether the comparison could have
        detected the experiment's declared mde."""
        from cohortlab.report.summary import bottom_line

        return bottom_line(self)

    def text(self, width: int = 100) -> str:
        """The terminal report as plain text, laid out for ``width`` columns."""
        from io import StringIO

        from cohortlab.report.render.text import render_text

        buffer = StringIO()
        render_text(self, buffer, False, width)
        return buffer.getvalue()

    def __str__(self) -> str:
        return self.text()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: plain values, NaN and infinities as null, dates as ISO strings."""
        return _plain({
            "schema_version": SCHEMA_VERSION,
            "experiment": self.experiment,
            "as_of": self.as_of,
            "as_of_basis": self.as_of_basis,
            "bottom_line": self.bottom_line,
            "settings": self.settings,
            "cohorts": self.cohorts,
            "matching": self.matching,
            "results": list(self.results),
            "funnel": [stage.to_dict() for stage in self.funnel],
            "warnings": list(self.warnings),
        })


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):  # its fields, less those kept out of the JSON
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)
                if item.metadata.get("json", True)}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value) if isinstance(value, Enum) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        # 12 significant digits: enough for any report, and stable across BLAS summation orders
        return float(f"{value:.12g}") if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)
