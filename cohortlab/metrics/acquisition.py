"""Acquisition metrics: CAC and cost per journey stage (docs/metrics.md).

Cost counts every funnel entrant of the cohort, converted or not, so spend on leads
that never convert raises CAC. With a conversion window (``journey.window_days``) the
entrants are those whose window has ended by as_of, and stages count when reached
inside it; younger entrants are left out, not counted as failures. ``spend: paid``
counts only the part of each account's cost that the attribution model gives to the
channels marked paid (``attribution.paid_channels``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from cohortlab.codes import Check, Unavailability
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable, ratio
from cohortlab.spec.models import Journey
from cohortlab.spec.problems import Problem, did_you_mean
from cohortlab.stats.analytic import ratio_influence


def acquisition_cost(panel: Panel, context: MetricContext, spend: str | None = None) -> np.ndarray | Unavailable:
    """Per-account acquisition cost (only its paid channels' share with ``spend="paid"``), or why there is none."""
    source = panel.cost_source
    if source.kind is None:
        return Unavailable(Unavailability.NO_COST, source.reason or "no cost data")
    missing = int(np.isnan(panel.cost[panel.window_elapsed]).sum())  # of the entrants the metric counts
    if missing:
        if source.unknown_reason:
            return Unavailable(Unavailability.NO_COST, f"the cost of {missing} cohort accounts is unknown: {source.unknown_reason}")
        return Unavailable(Unavailability.NO_COST, f"{missing} cohort accounts have no acquisition_cost")
    if spend != "paid":
        return panel.cost
    paid = context.attribution.paid_channels
    if not paid:
        return Unavailable(Unavailability.NOT_CONFIGURED, "no channel is marked paid: list them in the config's attribution.paid_channels")
    if source.kind != "spend":
        return Unavailable(Unavailability.NO_DATA, "paid-only cost needs spend allocated through touches; this source's cost comes from "
                           "accounts.acquisition_cost")
    if not source.has_channels:
        return Unavailable(Unavailability.NO_DATA, "neither touches nor spend have a channel column, so no cost is known to be paid")
    return sum((panel.cost_by_channel[name] for name in paid if name in panel.cost_by_channel),
               np.zeros(panel.size))


def stage_label(stage: str) -> str:
    return stage.replace("_", " ")


def unknown_stage(metric: str, stage: str, journey: Journey, path: tuple = ("stage",)) -> list[Problem]:
    """A CL104 problem when ``stage`` is not a journey stage."""
    if stage in journey.stages:
        return []
    hint = did_you_mean(stage, journey.stages, f"the journey stages are: {', '.join(journey.stages)}")
    return [Problem(Check.UNKNOWN_STAGE, f"{metric}: unknown stage '{stage}'", path, hint)]


def window_unavailable(name: str, panel: Panel) -> Unavailable:
    """No account of the ``name`` cohort has had its whole conversion window by as_of."""
    entered = panel.entered[panel.treated == (name == "treatment")]
    first = entered.min() + np.timedelta64(panel.window_days, "D")
    return Unavailable(Unavailability.WINDOW_OPEN, f"no {name} account's {panel.window_days}-day conversion window has ended by as_of; "
                       f"available from {first}")


CHANNEL = "channel:"  # prefix of the input arrays holding each channel's share of the cost


# paid cost among accounts that no paid channel reached: $0 in both cohorts would be no finding, only noise in the
# family of p-values
NO_PAID_COST = "not applicable: no paid channel's cost reaches these accounts"


class CostParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    spend: Literal["paid"] | None = None


class _CostPerAccount(Metric):
    """Σ w·cost / Σ w·reached over the cohort's entrants whose conversion window has ended."""

    direction = "decrease"
    unit = "currency"
    Params = CostParams
    reads = ("won",)
    summed = ("cost", "reached")
    reached_column: ClassVar[str] = "reached"  # the name of the per-account flag in notebooks' account frame

    def reached(self, panel: Panel, context: MetricContext) -> np.ndarray:
        raise NotImplementedError

    def stage_name(self, context: MetricContext) -> str:
        raise NotImplementedError

    def paid_suffix(self) -> str:
        return " (paid)" if self.params.spend == "paid" else ""

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        cost = acquisition_cost(panel, context, self.params.spend)
        if isinstance(cost, Unavailable):
            return cost
        entrant = panel.window_elapsed
        reached = self.reached(panel, context) & entrant
        arrays = {"cost": np.where(entrant, cost, 0.0), "reached": reached.astype(float),
                  **{CHANNEL + name: np.where(entrant, values, 0.0) for name, values in panel.cost_by_channel.items()}}
        return Inputs(arrays, entrant, {"cost_source": panel.cost_source, "panel": panel})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if not inputs.contributing.any():
                return window_unavailable(name, inputs.extra["panel"])
            if inputs.arrays["reached"].sum() == 0:
                return Unavailable(Unavailability.NOT_REACHED, f"no {name} account reached {self.stage_name(context)}")
        if self.params.spend == "paid" and not (treatment.arrays["cost"].any() or baseline.arrays["cost"].any()):
            return Unavailable(Unavailability.NOT_APPLICABLE, NO_PAID_COST)
        return None

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return ratio(block.sums["cost"], block.sums["reached"])

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray]:
        return ratio_influence(inputs.arrays["cost"], inputs.arrays["reached"], weights)

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        source = inputs.extra["cost_source"]
        total = float(weights @ inputs.arrays["cost"])
        details: dict[str, Any] = {"entrants": inputs.count, "reached": int(inputs.arrays["reached"].sum()),
                                   "not_yet_through_window": int((~inputs.contributing).sum()),
                                   "cost_source": source.kind, "total_cost": total}
        if source.kind == "spend":
            details["attribution"] = source.model
            details["unattributed_spend_share"] = source.unattributed_share
            if self.params.spend is None and total > 0:
                details["cost_share_by_channel"] = {
                    name.removeprefix(CHANNEL) or "(none)": float(weights @ values) / total
                    for name, values in sorted(inputs.arrays.items()) if name.startswith(CHANNEL)}
        return details

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """The cost the metric counts (0 for entrants whose conversion window has not ended) and whether the
        account reached the stage within it."""
        return {"cost": inputs.arrays["cost"], self.reached_column: inputs.arrays["reached"] > 0}


class CAC(_CostPerAccount):
    name = "cac"
    summary = "Customer acquisition cost: every entrant's cost over customers won"
    reached_column = "won"

    @property
    def label(self) -> str:
        return "CAC" + self.paid_suffix()

    def reached(self, panel: Panel, context: MetricContext) -> np.ndarray:
        return panel.reached[:, panel.stage_index(context.journey.won)]

    def stage_name(self, context: MetricContext) -> str:
        return f"the won stage '{context.journey.won}'"


class CostPerParams(CostParams):
    stage: str


class CostPer(_CostPerAccount):
    name = "cost_per"
    Params = CostPerParams
    summary = "Cost per account reaching a journey stage"

    @property
    def label(self) -> str:
        return f"Cost per {stage_label(self.params.stage)}{self.paid_suffix()}"

    def param_values(self) -> dict[str, Any]:
        # the stage first, as written: {metric: cost_per, stage: opportunity}
        values = super().param_values()
        return {"stage": values.pop("stage"), **values}

    def problems(self, journey: Journey) -> list[Problem]:
        return unknown_stage("cost_per", self.params.stage, journey)

    def needs(self, journey: Journey) -> tuple[str, ...]:
        # without a stages table only the won stage has dates (from revenue)
        return ("won",) if self.params.stage == journey.won else ("won", "stages")

    def reached(self, panel: Panel, context: MetricContext) -> np.ndarray:
        return panel.reached[:, panel.stage_index(self.params.stage)]

    def stage_name(self, context: MetricContext) -> str:
        return f"stage '{self.params.stage}'"
