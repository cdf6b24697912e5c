"""The Report: what `cohortlab compare` found, as plain frozen records (the JSON report: docs/metrics.md).

Renderers (text, json, markdown) draw the same Report; :meth:`Report.to_dict` is the
versioned JSON contract.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cohortlab.codes import Status, Verdict
from cohortlab.data.contract import AS_OF_FROM_CONFIG
from cohortlab.match.balance import BalanceRow

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


@dataclass(frozen=True)
class Settings:
    confidence: float
    ci: str
    replicates: int
    seed: int
    correction: str
    interval: str = "percentile"   # the bootstrap's interval: percentile or bca


@dataclass(frozen=True)
class CohortSummary:
    accounts: int
    customers: int
    effective_size: float
    where: str
    entered: tuple[dt.date, dt.date]
    dropped_unmatched: int | None = None


@dataclass(frozen=True)
class MatchingSummary:
    method: str
    covariates: tuple[str, ...]     # the accounts columns matching used
    balanced: bool | None
    max_smd: float
    estimand: str
    dropped: int                    # treatment accounts without support
    subclasses: int                 # strata (exact, cem) or matched sets (nearest neighbour)
    settings: dict[str, Any]        # what the method fixed: cutpoints, caliper, score terms…
    balance: tuple[BalanceRow, ...]


@dataclass(frozen=True)
class MetricResult:
    metric: str
    params: dict[str, Any]
    label: str
    direction: str
    unit: str
    status: Status
    reason: str | None = None
    baseline: float = math.nan
    treatment: float = math.nan
    delta: float = math.nan
    ci: tuple[float, float] = (math.nan, math.nan)
    delta_relative: float = math.nan
    ci_relative: tuple[float, float] = (math.nan, math.nan)
    p_value: float = math.nan
    p_adjusted: float = math.nan
    verdict: Verdict = Verdict.UNAVAILABLE
    # the intervals the verdict is read from: at the comparison's adjusted level (1 − α·p/p_adjusted), so
    # they exclude 0 exactly when the verdict is better or worse
    confidence_adjusted: float = math.nan
    ci_adjusted: tuple[float, float] = (math.nan, math.nan)
    ci_relative_adjusted: tuple[float, float] = (math.nan, math.nan)
    n: dict[str, int] = field(default_factory=dict)
    n_unit: str = "accounts"           # what n counts: accounts, or customers
    effective_n: dict[str, float] = field(default_factory=dict)
    method: str = "bootstrap"          # analytic, or bootstrap (also where an analytic form is missing)
    interval: str = "percentile"       # normal (analytic), percentile or bca
    standard_error: float = math.nan   # of the delta
    standard_error_relative: float = math.nan
    mde: float = math.nan              # minimum detectable effect at 80% power, the family's Bonferroni level
    mde_relative: float = math.nan
    segment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return ":".join([self.metric, *(str(value) for value in self.params.values())])


@dataclass(frozen=True)
class FunnelStage:
    """One journey stage in the funnel table: accounts reaching it (entrants through their conversion
    window), conversion from the stage before, and cost per account reaching it."""

    stage: str
    reached: dict[str, int]
    conversion: MetricResult | None  # None for the first stage
    cost_per: MetricResult

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "reached": self.reached,
                "conversion": None if self.conversion is None else _comparison(self.conversion),
                "cost_per": _comparison(self.cost_per)}


def _comparison(result: MetricResult) -> dict[str, Any]:
    """A funnel cell: the comparison without adjusted p-value or verdict (the funnel is descriptive)."""
    fields = ("label", "status", "reason", "baseline", "treatment", "delta", "ci", "delta_relative", "ci_relative",
              "p_value", "n")
    return {name: getattr(result, name) for name in fields}


@dataclass(frozen=True)
class ReportWarning:
    code: str
    message: str


@dataclass(frozen=True)
class AccountWeights:
    """Matching's output per account, in panel order: not part of the JSON report."""

    account_id: np.ndarray
    treated: np.ndarray
    weight: np.ndarray
    subclass: np.ndarray        # stratum or matched-set id; -1 for none

    def order(self) -> np.ndarray:
        """The rows of the weights file, in panel rows: the treatment cohort first, each by account_id."""
        return np.lexsort((self.account_id, ~self.treated))

    def rows(self) -> dict[str, np.ndarray]:
        """The columns of the weights file: the treatment cohort first, each by account_id."""
        order = self.order()
        return {"account_id": self.account_id[order],
                "cohort": np.where(self.treated[order], "treatment", "baseline"),
                "weight": self.weight[order], "subclass": self.subclass[order]}


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


# each metric's curve: key → cohort → column → values (see Metric.curve_table)
CurveTables = dict[str, dict[str, dict[str, np.ndarray]]]
# each metric's per-account inputs: key → column → values, in AccountWeights' (the panel's) row order
AccountInputs = dict[str, dict[str, np.ndarray]]


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
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value) if isinstance(value, (Status, Verdict)) else value
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
