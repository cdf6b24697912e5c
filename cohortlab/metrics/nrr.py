"""Net and gross revenue retention at tenure month T on a fixed starting cohort (docs/metrics.md).

NRR(T) = Σ w·r_T / Σ w·r_0 over the customers observed at T: what the customers who
started together pay at month T, expansion included, over what they paid at month 0.
GRR(T) = Σ w·min(r_T, r_0) / Σ w·r_0: the same with each customer capped at its
starting revenue, so expansion cannot hide churn and contraction.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable, ratio
from cohortlab.metrics.tenure import customer_arrays, months_matrix, require_observed
from cohortlab.stats.analytic import ratio_influence


class NRRParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    months: int = Field(default=12, ge=1, le=240)


class NRR(Metric):
    name = "nrr"
    counted = "customers"
    reads = ("won", "revenue")
    direction = "increase"
    unit = "percent"
    Params = NRRParams
    summed = ("ending", "starting")
    summary = "Revenue at tenure month T over revenue at month 0, same customers"
    capped = False  # GRR caps each customer at its starting revenue

    @property
    def label(self) -> str:
        return f"NRR ({self.params.months}m)"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs:
        months = self.params.months
        arrays = customer_arrays(panel)
        at_t = arrays["customer"] & (panel.observed_months > months)
        revenue = months_matrix(panel.revenue, months + 1)
        ending = revenue[:, months]
        if self.capped:
            ending = np.minimum(ending, revenue[:, 0])
        return Inputs({**arrays, "ending": ending * at_t, "starting": revenue[:, 0] * at_t}, at_t)

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        return require_observed(treatment, baseline, self.params.months, context)

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return ratio(block.sums["ending"], block.sums["starting"])

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray]:
        return ratio_influence(inputs.arrays["ending"], inputs.arrays["starting"], weights)

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Revenue in tenure month 0 and T (capped at month 0's for GRR), for customers observed at T."""
        return {"starting": inputs.arrays["starting"], "ending": inputs.arrays["ending"]}


class GRR(NRR):
    name = "grr"
    summary = "Like NRR, with each customer capped at its month-0 revenue (no expansion)"
    capped = True

    @property
    def label(self) -> str:
        return f"GRR ({self.params.months}m)"
