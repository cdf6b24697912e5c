"""Unit economics from the modeled value curve and CAC: payback months and LTV:CAC.

payback = the months of margin per customer, undiscounted and cumulated along the modeled
curve (earned where observed, extrapolated beyond), that it takes to reach the cohort's
CAC; within a month the margin is taken to accrue evenly, so payback is fractional.
It is undefined ("not within horizon") when the cumulative margin never reaches CAC.
LTV:CAC = modeled LTV (discounted, to the horizon) / CAC.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cohortlab.codes import Unavailability
from cohortlab.data.panel import Panel
from cohortlab.metrics.acquisition import acquisition_cost
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable, ratio
from cohortlab.metrics.ltv import block_curve, modeled_account_values, modeled_curve_table, modeled_inputs, value_curve
from cohortlab.metrics.tenure import require_observed


class _UnitEconomics(Metric):
    """Metrics over the modeled curve of customers and the cost of every entrant."""

    counted = "customers"
    reads = ("won", "revenue")
    summed = ("cost", "won")

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        cost = acquisition_cost(panel, context)
        if isinstance(cost, Unavailable):
            return cost
        inputs = modeled_inputs(panel, context, context.economics.horizon_months, shared)
        # CAC as the cac metric has it: the entrants through their conversion window, customers won inside it
        entrant = panel.window_elapsed
        won = panel.reached[:, panel.stage_index(context.journey.won)] & entrant
        arrays = {**inputs.arrays, "cost": np.where(entrant, cost, 0.0), "won": won.astype(float)}
        return Inputs(arrays, inputs.contributing, inputs.extra)

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if inputs.arrays["won"].sum() == 0:
                return Unavailable(Unavailability.NOT_REACHED, f"no {name} account was won")
        return require_observed(treatment, baseline, 0, context)

    def cac(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        return ratio(weights @ inputs.arrays["cost"], weights @ inputs.arrays["won"])

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """CAC's inputs (cost, won within the window) and the modeled curve's."""
        return {"cost": inputs.arrays["cost"], "won": inputs.arrays["won"] > 0, **modeled_account_values(inputs)}


class Payback(_UnitEconomics):
    name = "payback"
    direction = "decrease"
    unit = "months"
    summary = "Months of margin per customer (undiscounted, modeled curve) to recover CAC"
    undefined_meaning = "the cumulative margin per customer does not reach CAC within the horizon (not within horizon)"

    @property
    def label(self) -> str:
        return "Payback"

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return payback_months(block_curve(inputs, block).values, ratio(block.sums["cost"], block.sums["won"]))

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The modeled curve with ``value`` the undiscounted margin per customer over the first m months and
        the cohort's ``cac``: payback is where ``value`` reaches it, the margin taken to accrue evenly within
        the month."""
        table = modeled_curve_table(inputs, weights)
        del table["ltv"]
        cac = self.cac(inputs, weights[None, :])[0]
        return {**table, "value": np.cumsum(table["margin"]), "cac": np.full(len(table["month"]), cac)}

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        curve = value_curve(inputs, weights[None, :])
        return {"cac": float(self.cac(inputs, weights[None, :])[0]), "horizon_months": inputs.extra["horizon"],
                "margin_by_horizon": float(curve.values[0].sum()), "observed_months": curve.observed_months}


def payback_months(monthly: np.ndarray, cac: np.ndarray) -> np.ndarray:
    """The fractional month at which the cumulative ``monthly`` margin (rows × months) reaches ``cac``;
    NaN when it does not within the columns."""
    cumulative = np.cumsum(monthly, axis=1)
    reached = cumulative >= cac[:, None]
    month = np.argmax(reached, axis=1)
    rows = np.arange(len(monthly))
    before = np.where(month > 0, cumulative[rows, month - 1], 0.0)
    within = ratio(cac - before, monthly[rows, month])
    return np.where(reached.any(axis=1) & (cac >= 0), month + np.clip(np.nan_to_num(within), 0.0, 1.0), np.nan)


class LTVCAC(_UnitEconomics):
    name = "ltv_cac"
    direction = "increase"
    unit = "ratio"
    summary = "Modeled LTV over CAC"

    @property
    def label(self) -> str:
        return "LTV:CAC"

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        ltv = block_curve(inputs, block).values @ inputs.extra["discount"]
        return ratio(ltv, ratio(block.sums["cost"], block.sums["won"]))

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The modeled LTV curve (``ltv`` at m months) over the cohort's ``cac``: ``value`` at the horizon is
        LTV:CAC."""
        table = modeled_curve_table(inputs, weights)
        cac = np.full(len(table["month"]), self.cac(inputs, weights[None, :])[0])
        return {**table, "cac": cac, "value": ratio(table["ltv"], cac)}

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        row = weights[None, :]
        return {"ltv": float((value_curve(inputs, row).values @ inputs.extra["discount"])[0]),
                "cac": float(self.cac(inputs, row)[0]), "horizon_months": inputs.extra["horizon"]}
