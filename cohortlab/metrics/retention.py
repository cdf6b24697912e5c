"""Logo retention at tenure month T by Kaplan–Meier (SPEC §5).

A customer churns in the month after its last month with revenue; one still paying
in its last observed month is censored there. Retention(T) is the probability of
still paying in tenure month T. Customers with no revenue at all churned at once
(an event at t = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Inputs, Metric, MetricContext, Unavailable
from cohortlab.metrics.tenure import customer_arrays, require_observed
from cohortlab.stats.survival import event_matrices, kaplan_meier


class RetentionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    months: int = Field(default=12, ge=1, le=240)


def churn_times(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Per account: churn time (or last observed tenure month when censored) and whether churn was observed.

    Non-customers and customers with no complete month get time −1 (never at risk).
    """
    months = panel.revenue.shape[1]
    observed = panel.observed_months
    active = (panel.revenue > 0) & (np.arange(months)[None, :] < observed[:, None])
    last_paid = np.where(active.any(axis=1), months - 1 - np.argmax(active[:, ::-1], axis=1), -1)
    customer = panel.won & (observed > 0)
    churned = customer & (last_paid + 1 < observed)
    time = np.where(churned, last_paid + 1, observed - 1)
    return np.where(customer, time, -1), churned


class Retention(Metric):
    name = "retention"
    direction = "increase"
    unit = "percent"
    Params = RetentionParams
    summary = "Share of customers still paying in tenure month T (Kaplan–Meier)"

    @property
    def label(self) -> str:
        return f"Retention ({self.params.months}m)"

    def prepare(self, panel: Panel, context: MetricContext) -> Inputs:
        time, churned = churn_times(panel)
        events, at_risk = event_matrices(time, churned, self.params.months)
        return Inputs({**customer_arrays(panel), "events": events, "at_risk": at_risk}, time >= 0)

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        return require_observed(treatment, baseline, self.params.months, context)

    def estimate(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        return kaplan_meier(weights @ inputs.arrays["events"], weights @ inputs.arrays["at_risk"])

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        return {"churned_by_T": int(inputs.arrays["events"].sum()),
                "at_risk_at_T": int(inputs.arrays["at_risk"][:, -1].sum())}
