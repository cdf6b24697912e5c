"""Acquisition metrics: CAC and cost per journey stage (SPEC §5).

Cost counts every funnel entrant of the cohort, converted or not, so spend on leads
that never convert raises CAC.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from cohortlab.codes import Check
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Inputs, Metric, MetricContext, Unavailable, ratio
from cohortlab.spec.models import Journey
from cohortlab.spec.problems import Problem, did_you_mean


def acquisition_cost(panel: Panel) -> np.ndarray | Unavailable:
    """Per-account acquisition cost, or why there is none."""
    if panel.cost_source.kind is None:
        return Unavailable(panel.cost_source.reason or "no cost data")
    missing = int(np.isnan(panel.cost).sum())
    if missing:
        return Unavailable(f"{missing} cohort accounts have no acquisition_cost")
    return panel.cost


class _CostPerAccount(Metric):
    """Σ w·cost / Σ w·reached over the cohort's entrants."""

    direction = "decrease"
    unit = "currency"

    def reached(self, panel: Panel) -> np.ndarray:
        raise NotImplementedError

    def prepare(self, panel: Panel, context: MetricContext) -> Inputs | Unavailable:
        cost = acquisition_cost(panel)
        if isinstance(cost, Unavailable):
            return cost
        reached = self.reached(panel).astype(float)
        return Inputs({"cost": cost, "reached": reached}, np.ones(panel.size, dtype=bool),
                      {"cost_source": panel.cost_source})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if inputs.arrays["reached"].sum() == 0:
                return Unavailable(f"no {name} account reached {self.stage_name(context)}")
        return None

    def stage_name(self, context: MetricContext) -> str:
        raise NotImplementedError

    def estimate(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        return ratio(weights @ inputs.arrays["cost"], weights @ inputs.arrays["reached"])

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        source = inputs.extra["cost_source"]
        details: dict[str, Any] = {"reached": int(inputs.arrays["reached"].sum()), "cost_source": source.kind,
                                   "total_cost": float(weights @ inputs.arrays["cost"])}
        if source.kind == "spend":
            details["unattributed_spend_share"] = source.unattributed_share
        return details


class CAC(_CostPerAccount):
    name = "cac"
    summary = "Customer acquisition cost: every entrant's cost over customers won"

    @property
    def label(self) -> str:
        return "CAC"

    def reached(self, panel: Panel) -> np.ndarray:
        return panel.won

    def stage_name(self, context: MetricContext) -> str:
        return f"the won stage '{context.journey.won}'"


class CostPerParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: str


class CostPer(_CostPerAccount):
    name = "cost_per"
    Params = CostPerParams
    summary = "Cost per account reaching a journey stage"

    @property
    def label(self) -> str:
        return f"Cost per {self.params.stage.replace('_', ' ')}"

    def problems(self, journey: Journey) -> list[Problem]:
        if self.params.stage in journey.stages:
            return []
        hint = did_you_mean(self.params.stage, journey.stages, f"the journey stages are: {', '.join(journey.stages)}")
        return [Problem(Check.UNKNOWN_STAGE, f"cost_per: unknown stage '{self.params.stage}'", ("stage",), hint)]

    def reached(self, panel: Panel) -> np.ndarray:
        return panel.reached[:, panel.stage_index(self.params.stage)]

    def stage_name(self, context: MetricContext) -> str:
        return f"stage '{self.params.stage}'"
