"""Lifetime value (SPEC §5): earned LTV over the first T tenure months, censoring-aware.

earned LTV(T) = Σ_{t<T} δ_t · ḡ_t, where ḡ_t is the weighted mean margin in tenure
month t over the customers *observed* at t (churned customers count with 0), and
δ_t = (1 + d)^(−t/12) discounts at the annual rate d with the acquisition month
undiscounted. Averaging each month over the customers observed at it lets young
customers inform early months without biasing later ones.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Inputs, Metric, MetricContext, Unavailable, ratio
from cohortlab.metrics.tenure import customer_arrays, months_matrix, require_observed


class LTVParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Literal["earned", "modeled"] = Field(default="modeled", validate_default=True)
    months: int = Field(default=12, ge=1, le=240)

    @field_validator("basis")
    @classmethod
    def _available(cls, basis: str) -> str:
        if basis == "modeled":
            raise ValueError("'modeled' is not available in this version; use basis: earned (realized margin over "
                             "the observed months)")
        return basis


def discount_factors(months: int, annual_rate: float) -> np.ndarray:
    """δ_t = (1 + d)^(−t/12) for tenure months t = 0..months−1."""
    return (1.0 + annual_rate) ** (-np.arange(months) / 12.0)


class LTV(Metric):
    name = "ltv"
    direction = "increase"
    unit = "currency"
    Params = LTVParams
    summary = "Margin per customer over the first T tenure months, discounted"

    @property
    def label(self) -> str:
        return f"LTV ({self.params.basis}, {self.params.months}m)"

    def prepare(self, panel: Panel, context: MetricContext) -> Inputs:
        months = self.params.months
        arrays = customer_arrays(panel)
        observed = (np.arange(months)[None, :] < panel.observed_months[:, None]) & arrays["customer"][:, None]
        margin = months_matrix(panel.margin, months)
        return Inputs({**arrays, "margin": margin * observed, "observed": observed.astype(float)}, arrays["customer"],
                      {"discount": discount_factors(months, context.economics.discount_rate),
                       "gross_margin": context.economics.gross_margin,
                       "discount_rate": context.economics.discount_rate})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        return require_observed(treatment, baseline, self.params.months - 1, context)

    def estimate(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        monthly = ratio(weights @ inputs.arrays["margin"], weights @ inputs.arrays["observed"])
        return monthly @ inputs.extra["discount"]

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        observed = inputs.arrays["observed"]
        return {"gross_margin": inputs.extra["gross_margin"], "discount_rate": inputs.extra["discount_rate"],
                "customers_observed_by_month": [int(count) for count in observed.sum(axis=0)]}
