"""What a metric is: a named estimator over per-account arrays and replicate weights.

A metric turns the panel into per-account inputs once (:meth:`Metric.prepare`), then
estimates its value for a whole matrix of weights ``W`` (replicates × accounts) in
one vectorized call (:meth:`Metric.estimate`): row 0 is the point estimate, the other
rows are bootstrap replicates. Ratio metrics are ``(W @ num) / (W @ den)``. Metrics
with an analytic form also give each account's influence on the point estimate
(:meth:`Metric.influence`), from which ``ci: analytic`` computes its variance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from cohortlab.codes import WarningCode
from cohortlab.data.panel import Panel
from cohortlab.spec.models import Attribution, Economics, Journey
from cohortlab.spec.problems import Problem

Direction = Literal["increase", "decrease"]
Unit = Literal["currency", "percent", "ratio", "days", "months"]  # ratio: a multiple, e.g. LTV:CAC


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class MetricContext:
    """What metrics need to know beyond the panel."""

    economics: Economics
    journey: Journey
    min_cohort: int
    as_of: dt.date
    confidence: float = 0.95
    attribution: Attribution = field(default_factory=Attribution)


@dataclass(frozen=True)
class Inputs:
    """A metric's per-account inputs (rows aligned with a panel) and its count of contributing accounts."""

    arrays: dict[str, np.ndarray]
    contributing: np.ndarray  # bool per account: counted in the metric's n
    extra: dict[str, Any] = field(default_factory=dict)

    def take(self, rows: np.ndarray | slice, shared: dict[int, np.ndarray] | None = None) -> Inputs:
        """The inputs of ``rows``. With ``shared`` (for one ``rows``), an array that another metric's inputs
        also hold is taken once, so metrics on the same arrays keep sharing them."""
        if shared is None:
            return Inputs({name: values[rows] for name, values in self.arrays.items()}, self.contributing[rows],
                          self.extra)
        arrays = {}
        for name, values in self.arrays.items():
            if id(values) not in shared:
                shared[id(values)] = values[rows]
            arrays[name] = shared[id(values)]
        return Inputs(arrays, self.contributing[rows], self.extra)

    @property
    def count(self) -> int:
        return int(self.contributing.sum())


@dataclass(frozen=True)
class Unavailable:
    """Why a metric cannot be computed on this data."""

    reason: str


class Metric:
    """Base class of every metric; subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    direction: ClassVar[Direction]
    unit: ClassVar[Unit]
    Params: ClassVar[type[BaseModel]] = NoParams
    summary: ClassVar[str] = ""
    # what its n counts: the accounts it is estimated on ("customers" for the metrics of won accounts)
    counted: ClassVar[str] = "accounts"

    # the data its estimate is made of (see :meth:`needs`): "won" (each account's won date: the stages table,
    # or revenue without one), "stages", "revenue", "milestones"
    reads: ClassVar[tuple[str, ...]] = ()

    # what an undefined estimate means for this metric, in the report's reason
    undefined_meaning: ClassVar[str] = ("no matched account has what it needs (e.g. every treatment account was "
                                        "dropped by matching, or no customer has revenue)")

    def __init__(self, params: BaseModel):
        self.params = params

    @classmethod
    def with_defaults(cls, params: BaseModel, economics: Economics, journey: Journey) -> BaseModel:
        """The parameters with defaults that come from the config filled in."""
        return params

    @property
    def key(self) -> str:
        """A stable identifier: the name and its parameters, e.g. ``ltv:earned:12``."""
        return ":".join([self.name, *(str(value) for value in self.param_values().values())])

    @property
    def label(self) -> str:
        raise NotImplementedError

    def param_values(self) -> dict[str, Any]:
        """The parameters as written in YAML (``from``, not ``from_``); unset optional ones left out."""
        return self.params.model_dump(by_alias=True, exclude_none=True)

    def problems(self, journey: Journey) -> list[Problem]:
        """Parameter problems that need the config, with paths relative to the metric's entry."""
        return []

    def needs(self, journey: Journey) -> tuple[str, ...]:
        """The data the estimate is made of: when the source lacks any of it (no table, no rows, every row
        set aside), the metric is unavailable with the reason (:meth:`Panel.missing`), never a number computed
        from nothing. Cost is checked by the cost metrics themselves (its source decides)."""
        return self.reads

    def prepare(self, panel: Panel, context: MetricContext) -> Inputs | Unavailable:
        raise NotImplementedError

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        """A reason the comparison cannot be made on these cohorts, or None."""
        return None

    def estimate(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        """The metric for each row of ``weights`` (replicates × accounts); NaN where undefined."""
        raise NotImplementedError

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The point estimate for ``weights`` (one per account) and each account's influence on it, for
        analytic intervals (:mod:`cohortlab.stats.analytic`); None when the metric has no analytic form
        and its interval comes from the bootstrap."""
        return None

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        """Model details for the report, from the point-estimate weights (one per account)."""
        return {}

    def warnings(self, details: dict[str, dict[str, Any]]) -> list[tuple[WarningCode, str]]:
        """Warnings about the result, from each cohort's details."""
        return []

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray] | None:
        """The curve behind the estimate for one cohort (one weight per account), for notebooks: columns of
        equal length, the first the time axis (``month`` or ``day``), and ``value``; None when the metric has
        no curve. Where the axis reaches the metric's ``months``, ``value`` there is the estimate."""
        return None

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Each account's inputs to the estimate worth showing an analyst (rows as in ``inputs``); the
        accounts counted in the metric's n are added by the caller."""
        return {}


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio with NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / np.where(denominator != 0, denominator, 1.0), np.nan)


class _Batched:
    """Weighted sums of per-account vectors computed together for one bootstrap chunk (see
    :func:`cohortlab.metrics.estimation.estimate_replicates`): one matrix product per block of weights reads
    the block once, where a product per vector and metric would read it again each time."""

    def __init__(self):
        self.sums: dict[int, tuple[dict[int, int], np.ndarray]] = {}  # id(block) → (id(vector) → column, sums)


BATCHED = _Batched()


def weighted_sum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights @ values``, from the chunk's batched sums when ``weights`` is a chunk block and ``values`` one
    of its vectors."""
    found = BATCHED.sums.get(id(weights))
    if found is not None and values.ndim == 1:
        column = found[0].get(id(values))
        if column is not None:
            return found[1][:, column]
    return weights @ values


_PASS_CACHES: list[PassCache] = []


class PassCache:
    """The last few results of a computation during a bootstrap pass, found again by the identity of the
    arrays they came from (an entry holds them, so their ids cannot be reused while it lives).

    Every pass cache, like the batched sums, is emptied by :func:`end_pass`: when a pass over the replicates
    ends and when a comparison's results are built, so nothing outlives its arrays' run. Like the batched
    sums, they assume one comparison at a time in a process.
    """

    def __init__(self, size: int):
        self.size = size
        self.entries: list[tuple[tuple, tuple, Any]] = []
        _PASS_CACHES.append(self)

    def get(self, key: tuple, objects: tuple, compute: Callable[[], Any]) -> Any:
        for entry_key, entry_objects, value in self.entries:
            if entry_key == key and all(a is b for a, b in zip(entry_objects, objects)):
                return value
        value = compute()
        self.entries = [(key, objects, value), *self.entries[:self.size - 1]]
        return value


def end_pass() -> None:
    """Empty the batched sums and every pass cache."""
    BATCHED.sums = {}
    for cache in _PASS_CACHES:
        cache.entries = []
