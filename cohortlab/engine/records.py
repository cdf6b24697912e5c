"""The typed records the engine hands on: settings, per-cohort summaries, the matching and its balance table,
each metric's result (overall and per breakdown segment), the funnel, warnings, and per-account weights.

They are plain frozen records; :class:`cohortlab.report.model.Report` arranges them into the report and its JSON
contract.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cohortlab.codes import Correction, Inference, Interval, Status, Unavailability, Verdict, WarningCode
from cohortlab.match.balance import BalanceRow


@dataclass(frozen=True)
class Settings:
    confidence: float
    ci: Inference
    replicates: int
    seed: int
    correction: Correction
    interval: Interval = Interval.PERCENTILE   # the bootstrap's interval: percentile or bca

    def __post_init__(self):  # the settings as their enums, whether given as them or by name
        for name, kind in (("ci", Inference), ("correction", Correction), ("interval", Interval)):
            object.__setattr__(self, name, kind(getattr(self, name)))


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
    reason: str | None = None          # why it is unavailable, in words
    # the kind of reason (not part of the JSON report: its reason says it)
    reason_code: Unavailability | None = field(default=None, metadata={"json": False})
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
    method: Inference = Inference.BOOTSTRAP   # analytic, or bootstrap (also where an analytic form is missing)
    interval: Interval = Interval.PERCENTILE  # normal (analytic), percentile or bca
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
    code: WarningCode
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


# each metric's curve: key → cohort → column → values (see Metric.curve_table)
CurveTables = dict[str, dict[str, dict[str, np.ndarray]]]
# each metric's per-account inputs: key → column → values, in AccountWeights' (the panel's) row order
AccountInputs = dict[str, dict[str, np.ndarray]]




@dataclass(frozen=True)
class ReplicateSummary:
    """The distribution a comparison's interval and p-value are read from, for the delta: the bootstrap's
    defined replicates (how many, and how many were undefined), or the analytic normal's moments."""

    method: Inference
    replicates: int                # defined bootstrap replicates (0: analytic)
    undefined: int                 # replicates where the delta was undefined
    mean: float
    standard_error: float
    quantiles: dict[float, float]  # level → the delta's quantile at it (QUANTILES)


QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)
