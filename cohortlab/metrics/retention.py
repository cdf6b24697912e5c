"""Logo retention and early churn at tenure month T by Kaplan–Meier (docs/metrics.md).

A customer churns in the month after its last month with revenue; one still paying
in its last observed month is censored there. Retention(T) is the probability of
still paying in tenure month T; early churn(T) is 1 − retention(T). Customers with
no revenue at all churned at once (an event at t = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable
from cohortlab.metrics.tenure import churn_times, customer_arrays, require_observed
from cohortlab.stats.analytic import km_influence
from cohortlab.stats.survival import event_matrices, greenwood, kaplan_meier


class RetentionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    months: int = Field(default=12, ge=1, le=240)


class Retention(Metric):
    name = "retention"
    counted = "customers"
    reads = ("won", "revenue")
    direction = "increase"
    unit = "percent"
    Params = RetentionParams
    summary = "Share of customers still paying in tenure month T (Kaplan–Meier)"

    @property
    def label(self) -> str:
        return f"Retention ({self.params.months}m)"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs:
        time, churned = churn_times(panel)
        events, at_risk = event_matrices(time, churned, self.params.months)
        return Inputs({**customer_arrays(panel), "events": events, "at_risk": at_risk}, time >= 0,
                      {"confidence": context.confidence})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        return require_observed(treatment, baseline, self.params.months, context)

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return kaplan_meier(block.weights @ inputs.arrays["events"], block.weights @ inputs.arrays["at_risk"])

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Greenwood's linearization of S(T) (:func:`cohortlab.stats.analytic.km_influence`)."""
        return km_influence(inputs.arrays["events"], inputs.arrays["at_risk"], weights)

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        """Counts behind the estimate and the cohort's own Greenwood interval for retention(T)."""
        events, at_risk = weights @ inputs.arrays["events"], weights @ inputs.arrays["at_risk"]
        survival, standard_error, low, high = greenwood(events, at_risk, inputs.extra["confidence"])
        return {"churned_by_T": int(inputs.arrays["events"].sum()),
                "at_risk_at_T": int(inputs.arrays["at_risk"][:, -1].sum()),
                "retention": survival, "greenwood_se": standard_error, "greenwood_ci": [low, high]}

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Kaplan–Meier retention in each tenure month 0..T (``value``), with Greenwood's standard error and
        interval (on the log(−log) scale, as in the details) and the weighted customers at risk and churning
        in the month."""
        events, at_risk = weights @ inputs.arrays["events"], weights @ inputs.arrays["at_risk"]
        confidence = inputs.extra["confidence"]
        rows = [greenwood(events[:month + 1], at_risk[:month + 1], confidence) for month in range(len(events))]
        survival, standard_error, low, high = (np.array(column, dtype=float) for column in zip(*rows))
        return {"month": np.arange(len(events)), "at_risk": at_risk, "churned": events, "value": survival,
                "standard_error": standard_error, "ci_low": low, "ci_high": high}

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Whether the customer churned by tenure month T and in which month (NaN: not seen to), and its
        months at risk among 0..T."""
        events = inputs.arrays["events"] > 0
        churned = events.any(axis=1)
        return {"churned": churned, "churn_month": np.where(churned, np.argmax(events, axis=1), np.nan),
                "months_at_risk": inputs.arrays["at_risk"].sum(axis=1).astype(np.int64)}


class EarlyChurnParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    months: int = Field(default=3, ge=1, le=240)


class EarlyChurn(Retention):
    name = "early_churn"
    direction = "decrease"
    Params = EarlyChurnParams
    summary = "Share of customers lost by tenure month T: 1 − retention(T)"

    @property
    def label(self) -> str:
        return f"Early churn ({self.params.months}m)"

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return 1.0 - super().evaluate(inputs, block)

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray]:
        survival, influence = super().influence(inputs, weights)
        return 1.0 - survival, -influence

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        """Retention's details, with the churn share and its Greenwood interval (1 − the retention interval)."""
        details = super().details(inputs, weights)
        low, high = details["greenwood_ci"]
        return {**details, "early_churn": 1.0 - details["retention"], "early_churn_ci": [1.0 - high, 1.0 - low]}

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Retention's curve with ``value`` the share churned by each month, 1 − S, and its interval flipped."""
        table = super().curve_table(inputs, weights)
        low, high = table["ci_low"], table["ci_high"]
        return {**table, "value": 1.0 - table["value"], "ci_low": 1.0 - high, "ci_high": 1.0 - low}
