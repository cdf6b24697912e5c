"""Lifetime value: earned over the first T tenure months, or modeled to a horizon H.

earned LTV(T) = Σ_{t<T} δ_t · ḡ_t, where ḡ_t is the weighted mean margin in tenure
month t over the customers *observed* at t (churned customers count with 0), and
δ_t = (1 + d)^(−t/12) discounts at the annual rate d with the acquisition month
undiscounted. Averaging each month over the customers observed at it lets young
customers inform early months without biasing later ones.

modeled LTV(H) = the same sum to H, where the months beyond the cohort's observed tenure
L (the months at which at least ``min_cohort`` of its customers are observed) are
extrapolated: ḡ_t = ḡ_{L−1} · S(⌊t/p⌋) / S(⌊(L−1)/p⌋) · (1 + e)^((t − L + 1)/12), with S the
shifted-beta-geometric survival fitted on the cohort's churn at renewal period p months
and e the configured annual expansion rate of survivors' revenue (0: held at the last
observed level). The model is refitted in every bootstrap replicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.codes import WarningCode
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable, ratio
from cohortlab.metrics.tenure import churn_times, customer_arrays, months_matrix, require_observed
from cohortlab.records import Details
from cohortlab.spec.models import Economics, Journey
from cohortlab.stats.sbg import SBGFits, fit_sbg_counts
from cohortlab.stats.survival import code_totals

# a modeled LTV is flagged when more than this share of it is extrapolated, or driven by expansion
EXTRAPOLATED_ALERT = 0.5
EXPANSION_ALERT = 0.5


class LTVParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Literal["earned", "modeled"] = "modeled"
    months: int | None = Field(default=None, ge=1, le=240)


def discount_factors(months: int, annual_rate: float) -> np.ndarray:
    """δ_t = (1 + d)^(−t/12) for tenure months t = 0..months−1."""
    return (1.0 + annual_rate) ** (-np.arange(months) / 12.0)


def earned_inputs(panel: Panel, months: int) -> dict[str, np.ndarray]:
    """Margin and observed indicators (accounts × months) over each customer's observed tenure months."""
    arrays = customer_arrays(panel)
    observed = (np.arange(months)[None, :] < panel.observed_months[:, None]) & arrays["customer"][:, None]
    return {**arrays, "margin": months_matrix(panel.margin, months) * observed, "observed": observed.astype(float)}


def modeled_inputs(panel: Panel, context: MetricContext, horizon: int, shared: Memo | None = None) -> Inputs:
    """Per-account inputs of the value curve modeled to ``horizon`` months, shared by modeled LTV, payback and
    LTV:CAC: computed once per horizon in the analysis's ``shared`` workspace (which is for one panel and
    context)."""
    if shared is None:
        return _modeled_inputs(panel, context, horizon)
    return shared.get(("modeled inputs", horizon), lambda: _modeled_inputs(panel, context, horizon))


def _modeled_inputs(panel: Panel, context: MetricContext, horizon: int) -> Inputs:
    economics = context.economics
    months = min(horizon, max(int(panel.observed_months.max(initial=0)), 1))
    arrays = customer_arrays(panel)
    time, churned = churn_times(panel)
    period = economics.renewal_period_months
    customer = time >= 0
    # the renewal model is fitted on customers who paid at least once: churn at renewal ⌈τ/p⌉ for a
    # customer lost in tenure month τ ≥ 1; a customer still paying in month c−1 made ⌊(c−1)/p⌋ renewals
    arrays["churn_period"] = np.where(customer & churned & (time >= 1), -(-time // period), -1)
    arrays["renewals"] = np.where(customer & ~churned, time // period, -1)
    arrays["last_paid"] = np.where(churned, time - 1, np.iinfo(np.int64).max)
    arrays["first_margin"] = months_matrix(panel.margin, 1)[:, 0]
    # views of the panel's matrices: the customers' observed months are taken from them when a curve needs
    # them (customer_values), so the inputs hold no (accounts × months) matrix of their own
    arrays["margin_months"] = months_matrix(panel.margin, months)
    arrays["revenue_months"] = months_matrix(panel.revenue, months)
    return Inputs(arrays, arrays["customer"], {
        "discount": discount_factors(horizon, economics.discount_rate), "horizon": horizon,
        "period": period, "expansion": economics.expansion_rate, "min_cohort": context.min_cohort,
        "periods": -(-int(panel.observed_months.max(initial=0)) // period) + 1, "gross_margin": economics.gross_margin,
        "discount_rate": economics.discount_rate,
    })


@dataclass(frozen=True)
class Curve:
    """Mean value per customer by tenure month (rows × H): observed for t < observed_months, then modeled."""

    values: np.ndarray
    observed_months: int
    fits: SBGFits


def observed_tenure(inputs: Inputs) -> int:
    """L: the leading tenure months at which at least ``min_cohort`` of the cohort's customers are observed."""
    arrays = inputs.arrays
    width = arrays["margin_months"].shape[1]
    months = np.minimum(arrays["observed_months"][arrays["customer"]], width)
    counts = np.cumsum(np.bincount(months, minlength=width + 1)[::-1])[::-1][1:]  # counts[t]: customers observed at t
    short = np.flatnonzero(counts < inputs.extra["min_cohort"])
    return int(short[0]) if len(short) else width


def fit_renewals(inputs: Inputs, weights: np.ndarray) -> SBGFits:
    width = inputs.extra["periods"]
    churned = code_totals(weights, inputs.arrays["churn_period"], width)
    survived = code_totals(weights, inputs.arrays["renewals"], width)
    return fit_sbg_counts(churned, survived)


def customer_values(inputs: Inputs, value: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customers' rows, their observed indicators over the observed tenure L (customers × L), and ``value``
    over the same months: margin, revenue, or kept_margin (the month-0 margin in every month the customer
    is still paying: the value of retention alone)."""
    arrays = inputs.arrays
    rows = np.flatnonzero(arrays["customer"])
    limit = observed_tenure(inputs)
    months = np.arange(limit)[None, :]
    observed = (months < arrays["observed_months"][rows, None]).astype(float)
    if value == "margin":
        values = arrays["margin_months"][rows, :limit] * observed
    elif value == "revenue":
        values = arrays["revenue_months"][rows, :limit] * observed
    else:
        values = arrays["first_margin"][rows, None] * (months <= arrays["last_paid"][rows, None]) * observed
    return rows, observed, values


def block_curve(inputs: Inputs, block: Block) -> Curve:
    """The margin curve on a block of weights. Modeled LTV, LTV:CAC and payback evaluate the same curve on the
    same weights (a bootstrap chunk's block of a cohort): it is computed once for the three in the block's
    shared workspace (the renewal model fitted once), and the cohort's customers' values once per pass."""
    extra = inputs.extra
    # what the curve depends on beyond the weights: the horizon, the renewal model's settings, and the months
    # of margin the inputs hold (a breakdown segment's block may coincide with the experiment's)
    model = (extra["horizon"], extra["period"], extra["periods"], extra["expansion"], extra["min_cohort"],
             inputs.arrays["margin_months"].shape[1])
    customers = block.cohort.get(("customer margins", *model), lambda: customer_values(inputs, "margin"))
    return block.shared.get(("value curve", *model),
                            lambda: _value_curve(inputs, block.weights, True, None, customers))


def value_curve(inputs: Inputs, weights: np.ndarray, value: str = "margin", expansion: bool = True,
                fits: SBGFits | None = None) -> Curve:
    """The per-customer curve of ``value`` (margin, revenue or kept_margin) to the horizon, for each row of
    ``weights``; ``expansion`` False leaves out the configured expansion rate."""
    return _value_curve(inputs, weights, expansion, fits, customer_values(inputs, value))


def _value_curve(inputs: Inputs, weights: np.ndarray, expansion: bool, fits: SBGFits | None,
                 customers: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Curve:
    extra = inputs.extra
    horizon, period = extra["horizon"], extra["period"]
    rows, observed_rows, value_rows = customers
    limit = min(observed_rows.shape[1], horizon)
    # only customers have observed months: the products run over their columns of the weights alone
    customers = weights.T[rows].T
    observed = customers @ observed_rows[:, :limit]
    earned = ratio(customers @ value_rows[:, :limit], observed)
    fits = fits if fits is not None else fit_renewals(inputs, weights)
    future = np.arange(limit, horizon)
    if limit == 0 or not len(future):
        return Curve(earned[:, :horizon], limit, fits)
    survival = fits.survival(np.arange(future[-1] // period + 1))
    kept = survival[:, future // period] / survival[:, [(limit - 1) // period]]
    growth = (1.0 + (extra["expansion"] if expansion else 0.0)) ** ((future - limit + 1) / 12.0)
    return Curve(np.hstack([earned, earned[:, [-1]] * kept * growth[None, :]]), limit, fits)


class LTV(Metric):
    name = "ltv"
    counted = "customers"
    reads = ("won", "revenue")
    direction = "increase"
    unit = "currency"
    Params = LTVParams
    summary = "Margin per customer over T tenure months (earned), or to the horizon (modeled), discounted"

    @classmethod
    def with_defaults(cls, params: LTVParams, economics: Economics, journey: Journey) -> LTVParams:
        if params.months is not None:
            return params
        return params.model_copy(update={"months": 12 if params.basis == "earned" else economics.horizon_months})

    @property
    def modeled(self) -> bool:
        return self.params.basis == "modeled"

    @property
    def label(self) -> str:
        return f"LTV ({self.params.basis}, {self.params.months}m)"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs:
        if self.modeled:
            return modeled_inputs(panel, context, self.params.months, shared)
        months = self.params.months
        arrays = earned_inputs(panel, months)
        return Inputs(arrays, arrays["customer"],
                      {"discount": discount_factors(months, context.economics.discount_rate),
                       "gross_margin": context.economics.gross_margin,
                       "discount_rate": context.economics.discount_rate})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        return require_observed(treatment, baseline, 0 if self.modeled else self.params.months - 1, context)

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        if self.modeled:
            return block_curve(inputs, block).values @ inputs.extra["discount"]
        monthly = ratio(block.weights @ inputs.arrays["margin"], block.weights @ inputs.arrays["observed"])
        return monthly @ inputs.extra["discount"]

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray] | None:
        """Earned LTV = Σ_t d_t·M_t/O_t (margin and customers observed in month t): each account's
        influence is wᵢ·Σ_t d_t·(m_it − (M_t/O_t)·o_it)/O_t. Modeled LTV has no analytic form."""
        if self.modeled:
            return None
        margin, observed, discount = inputs.arrays["margin"], inputs.arrays["observed"], inputs.extra["discount"]
        totals = weights @ observed
        if not np.all(totals > 0):
            return float("nan"), np.full(len(weights), np.nan)
        monthly = (weights @ margin) / totals
        return float(monthly @ discount), weights * (((margin - monthly * observed) / totals) @ discount)

    def details(self, inputs: Inputs, weights: np.ndarray) -> Mapping[str, Any]:
        extra = inputs.extra
        details = {"gross_margin": extra["gross_margin"], "discount_rate": extra["discount_rate"]}
        if not self.modeled:
            observed = inputs.arrays["observed"]
            return {**details, "customers_observed_by_month": [int(count) for count in observed.sum(axis=0)]}
        return decomposition(inputs, weights[None, :])

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The value curve: for each month m, ``value`` is the discounted margin per customer over the first m
        tenure months (so the LTV at m months), ``margin`` tenure month m − 1's mean margin per customer
        observed at it (modeled beyond the observed tenure: ``extrapolated``), ``customers`` how many are
        observed at it."""
        if self.modeled:
            table = modeled_curve_table(inputs, weights)
            value = table.pop("ltv")
            return {**table, "value": value}
        margin, observed = inputs.arrays["margin"], inputs.arrays["observed"]
        monthly = ratio(weights @ margin, weights @ observed)
        return {"month": np.arange(1, len(monthly) + 1), "customers": observed.sum(axis=0).astype(np.int64),
                "margin": monthly, "value": np.cumsum(monthly * inputs.extra["discount"])}

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Customers' observed months and margin earned in them, within the first T months (earned) or to
        the horizon (modeled: with the month of churn, where it was seen)."""
        if self.modeled:
            return modeled_account_values(inputs)
        margin, observed = inputs.arrays["margin"], inputs.arrays["observed"]
        return {"customer": inputs.arrays["customer"], "observed_months": observed.sum(axis=1).astype(np.int64),
                "margin": margin.sum(axis=1), "discounted_margin": margin @ inputs.extra["discount"]}

    def warnings(self, details: dict[str, dict[str, Any]]) -> list[tuple[WarningCode, str]]:
        if not self.modeled:
            return []
        found = []
        for side, values in details.items():
            if values.get("extrapolated_share", 0.0) > EXTRAPOLATED_ALERT:
                found.append((WarningCode.LTV_EXTRAPOLATED,
                              f"{self.label}: {values['extrapolated_share']:.0%} of the {side} cohort's value is "
                              f"extrapolated beyond its {values['observed_months']} observed months by the "
                              "retention model; treat it as a projection, and compare earned LTV too"))
            if values.get("expansion_share", 0.0) > EXPANSION_ALERT:
                found.append((WarningCode.LTV_EXPANSION_DRIVEN,
                              f"{self.label}: {values['expansion_share']:.0%} of the {side} cohort's value comes "
                              "from expansion (revenue above each customer's first month), not from keeping "
                              "customers; check the expansion assumption"))
        return found


def modeled_curve_table(inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The modeled curve to the horizon for one cohort (one weight per account), by month m = 1..H: customers
    observed in tenure month m − 1, its mean margin per customer (``extrapolated`` past the observed tenure),
    and ``ltv``, the discounted margin cumulated over the first m months."""
    arrays = inputs.arrays
    curve = value_curve(inputs, weights[None, :])
    margin = curve.values[0]
    horizon = len(margin)
    observed = np.minimum(arrays["observed_months"][arrays["customer"]], horizon)
    customers = np.cumsum(np.bincount(observed, minlength=horizon + 1)[::-1])[::-1][1:]
    months = np.arange(1, horizon + 1)
    return {"month": months, "customers": customers, "margin": margin, "extrapolated": months > curve.observed_months,
            "ltv": np.cumsum(margin * inputs.extra["discount"][:horizon])}


def modeled_account_values(inputs: Inputs) -> dict[str, np.ndarray]:
    """Per account of the modeled curve's inputs: customer, observed months, margin earned in them (up to
    the horizon), and the tenure month of churn (NaN: not seen to churn)."""
    arrays = inputs.arrays
    margin = arrays["margin_months"]
    observed = np.arange(margin.shape[1])[None, :] < arrays["observed_months"][:, None]
    churned = arrays["last_paid"] != np.iinfo(np.int64).max
    return {"customer": arrays["customer"], "observed_months": arrays["observed_months"],
            "margin": np.where(observed, margin, 0.0).sum(axis=1),
            "churn_month": np.where(churned, arrays["last_paid"] + 1.0, np.nan)}


@dataclass(frozen=True)
class RenewalFit(Details):
    """The shifted-beta-geometric renewal model fitted on a cohort's churn at each renewal."""

    alpha: float
    beta: float
    converged: bool
    renewal_period_months: int


@dataclass(frozen=True)
class Buildup(Details):
    """Modeled LTV's build-up for one cohort, per customer: what was earned in the observed months and what the
    renewal model extrapolates beyond them, what keeping customers is worth and what expansion adds, revenue
    against margin LTV, and the fitted renewal model."""

    gross_margin: float
    discount_rate: float
    horizon_months: int
    observed_months: int
    earned: float
    extrapolated: float
    extrapolated_share: float
    retention_driven: float
    expansion_driven: float
    expansion_share: float
    revenue_ltv: float
    margin_ltv: float
    sbg: RenewalFit
    expansion_rate: float


def decomposition(inputs: Inputs, weights: np.ndarray) -> Buildup:
    """Modeled LTV's build-up for one row of weights: observed vs extrapolated, retention vs expansion,
    revenue vs margin, and the fitted renewal model."""
    discount = inputs.extra["discount"]
    curve = value_curve(inputs, weights)
    fits = curve.fits
    total = float(curve.values[0] @ discount)
    limit = curve.observed_months
    earned = float(curve.values[0, :limit] @ discount[:limit])
    kept = float(value_curve(inputs, weights, "kept_margin", expansion=False, fits=fits).values[0] @ discount)
    revenue = float(value_curve(inputs, weights, "revenue", fits=fits).values[0] @ discount)
    return Buildup(
        gross_margin=inputs.extra["gross_margin"], discount_rate=inputs.extra["discount_rate"],
        horizon_months=inputs.extra["horizon"], observed_months=limit,
        earned=earned, extrapolated=total - earned, extrapolated_share=_share(total - earned, total),
        retention_driven=kept, expansion_driven=total - kept, expansion_share=_share(total - kept, total),
        revenue_ltv=revenue, margin_ltv=total,
        sbg=RenewalFit(float(fits.alpha[0]), float(fits.beta[0]), bool(fits.converged[0]), inputs.extra["period"]),
        expansion_rate=inputs.extra["expansion"],
    )


def _share(part: float, total: float) -> float:
    return part / total if total > 0 else float("nan")
