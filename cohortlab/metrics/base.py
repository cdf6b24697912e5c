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
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from cohortlab.codes import Unavailability, WarningCode
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
    """Why a metric cannot be computed on this data: the kind of reason, and the reason in words."""

    kind: Unavailability
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

    # the per-account float vectors (names in its inputs' arrays) whose weighted sums its estimate is made of:
    # the engine computes them for every metric on a block of weights at once and hands them to evaluate
    summed: ClassVar[tuple[str, ...]] = ()

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

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        """The per-account inputs on ``panel``; ``shared`` is the analysis's workspace for inputs several metrics
        derive alike (modeled LTV, LTV:CAC and payback read the same value-curve arrays)."""
        raise NotImplementedError

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        """A reason the comparison cannot be made on these cohorts, or None."""
        return None

    def estimate(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        """The metric for each row of ``weights`` (replicates × accounts); NaN where undefined."""
        return self.evaluate(inputs, Block.of(self, inputs, weights))

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        """:meth:`estimate` on a block of weights, with the sums of :attr:`summed` computed by the engine."""
        raise NotImplementedError

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The point estimate for ``weights`` (one per account) and each account's influence on it, for
        analytic intervals (:mod:`cohortlab.stats.analytic`); None when the metric has no analytic form
        and its interval comes from the bootstrap."""
        return None

    def details(self, inputs: Inputs, weights: np.ndarray) -> Mapping[str, Any]:
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


class Memo:
    """Values computed once per key while the engine keeps the memo: a workspace it hands metrics explicitly
    (for one analysis's preparation, or one block of a bootstrap pass), never state of its own."""

    def __init__(self):
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]


@dataclass(frozen=True)
class Block:
    """One block of weights as a metric's estimate sees it: ``weights`` (rows: the point estimate or bootstrap
    replicates; columns: one cohort's accounts) and the weighted sums of the per-account vectors the metric
    declares (:attr:`Metric.summed`), which the engine computes for every metric on the block in one matrix
    product; and two workspaces the engine hands every metric on the block: ``shared`` for what they compute
    alike on these weights (kept for one chunk of replicates), ``cohort`` for what they derive alike from the
    cohort's inputs whatever the weights (kept for the pass)."""

    weights: np.ndarray
    sums: dict[str, np.ndarray]
    shared: Memo = field(default_factory=Memo)
    cohort: Memo = field(default_factory=Memo)

    @classmethod
    def of(cls, metric: Metric, inputs: Inputs, weights: np.ndarray) -> Block:
        """A block on its own, outside a bootstrap pass: each declared sum one product."""
        return cls(weights, {name: weights @ inputs.arrays[name] for name in metric.summed})
