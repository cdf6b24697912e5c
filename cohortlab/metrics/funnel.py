"""Movement between journey stages: conversion over elapsed windows, and stage velocity.

Both count time from the date an account reached the ``from`` stage, over a window of
``days`` (default: the journey's conversion window, else 90 days).

conversion(s → u) = Σ w·[reached u within days of s] / Σ w·[reached s], over the accounts
that reached s at least ``days`` before as_of: an account that reached s last week has not
had its chance yet, so it is left out rather than counted as not converting.

velocity(s → u) = the median days from s to u among the accounts that reach u within the
window, by Kaplan–Meier: each account that reached s is followed until it reaches u, the
window ends, or as_of (censored). With F(t) = 1 − S(t) the share reaching u by day t, the
velocity is the day t at which F(t) = F(days) / 2, the median of the time to convert given
conversion within the window; the curve is joined linearly between event days.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.codes import Check, Unavailability
from cohortlab.data.panel import Panel
from cohortlab.metrics.acquisition import stage_label, unknown_stage
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable, ratio
from cohortlab.spec.models import Economics, Journey
from cohortlab.spec.problems import Problem
from cohortlab.stats.analytic import ratio_influence
from cohortlab.stats.survival import coded_survival, coded_times, median_time, time_codes

DEFAULT_DAYS = 90


class StepParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    days: int | None = Field(default=None, ge=1, le=3650)


class _Step(Metric):
    """A metric of the movement from one stage to a later one."""

    Params = StepParams
    reads = ("stages",)

    @classmethod
    def with_defaults(cls, params: StepParams, economics: Economics, journey: Journey) -> StepParams:
        if params.days is not None:
            return params
        return params.model_copy(update={"days": journey.window_days or DEFAULT_DAYS})

    def problems(self, journey: Journey) -> list[Problem]:
        start, end = self.params.from_, self.params.to
        problems = unknown_stage(self.name, start, journey, ("from",)) + unknown_stage(self.name, end, journey, ("to",))
        if not problems and journey.stages.index(start) >= journey.stages.index(end):
            problems.append(Problem(Check.BAD_PARAMETER, f"{self.name}: stage '{end}' does not come after "
                                    f"'{start}' in the journey ({' → '.join(journey.stages)})", ("to",)))
        return problems

    def step(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """Days from entering ``from`` to ``to`` (−1: not reached) and days of follow-up after ``from``
        (−1: ``from`` not reached), capped at the window."""
        start = panel.stage_at[:, panel.stage_index(self.params.from_)]
        end = panel.stage_at[:, panel.stage_index(self.params.to)]
        started = ~np.isnat(start)
        days = self.params.days
        follow_up = np.where(started, (np.datetime64(panel.as_of, "D") - start).astype(np.int64), -1)
        took = np.where(started & ~np.isnat(end), (end - start).astype(np.int64), -1)
        took = np.where(took > days, -1, took)  # after the window: not converted within it
        return took, np.minimum(follow_up, days)


class Conversion(_Step):
    name = "conversion"
    direction = "increase"
    unit = "percent"
    summary = "Share of accounts reaching a stage that reach a later one within a window"
    summed = ("to", "from")
    undefined_meaning = "no matched account has had the whole window since reaching the first stage"

    @property
    def label(self) -> str:
        return f"Conversion {stage_label(self.params.from_)} → {stage_label(self.params.to)} ({self.params.days}d)"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        took, follow_up = self.step(panel)
        elapsed = follow_up >= self.params.days
        converted = elapsed & (took >= 0)
        waiting = (follow_up >= 0) & ~elapsed
        return Inputs({"from": elapsed.astype(float), "to": converted.astype(float), "waiting": waiting}, elapsed)

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if not inputs.contributing.any():
                return Unavailable(Unavailability.WINDOW_OPEN, f"no {name} account reached '{self.params.from_}' at least {self.params.days} "
                                   "days before as_of")
        return None

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return ratio(block.sums["to"], block.sums["from"])

    def influence(self, inputs: Inputs, weights: np.ndarray) -> tuple[float, np.ndarray]:
        return ratio_influence(inputs.arrays["to"], inputs.arrays["from"], weights)

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        return {"reached_from": inputs.count, "converted": int(inputs.arrays["to"].sum()),
                "still_in_window": int(inputs.arrays["waiting"].sum()), "days": self.params.days}

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Whether the account reached ``to`` within the window (counted: reached ``from`` a window ago)."""
        return {"converted": inputs.arrays["to"] > 0}


class Velocity(_Step):
    name = "velocity"
    direction = "decrease"
    unit = "days"
    summary = "Median days from one stage to a later one, among accounts converting within the window (Kaplan–Meier)"
    undefined_meaning = "no matched account is known to have reached the later stage within the window"

    @property
    def label(self) -> str:
        return f"Days {stage_label(self.params.from_)} → {stage_label(self.params.to)}"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        took, follow_up = self.step(panel)
        started = follow_up >= 0
        event = took >= 0
        times, events, censored = time_codes(np.where(event, took, follow_up), started, event)
        return Inputs({"event": events, "censored": censored}, started, {"times": times})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if not (inputs.arrays["event"] >= 0).any():
                return Unavailable(Unavailability.NOT_REACHED, f"no {name} account reached '{self.params.to}' within {self.params.days} days "
                                   f"of '{self.params.from_}'")
        return None

    def curve(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        """Kaplan–Meier S(t) of not yet converting, per row of weights; past the last account at risk
        (NaN in a replicate) it keeps its last value, and with nobody at all it is 1."""
        arrays = inputs.arrays
        survival = coded_survival(arrays["event"], arrays["censored"], len(inputs.extra["times"]), weights)
        # a NaN tail follows the last time anyone is at risk: the running minimum carries the last value on
        return np.nan_to_num(np.fmin.accumulate(survival, axis=1), nan=1.0)

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        survival = self.curve(inputs, block.weights)
        # every time is within the window, so S after the last time is S at the window's end
        converting = 1.0 - (survival[:, -1] if survival.shape[1] else np.ones(len(survival)))
        median = median_time(inputs.extra["times"], survival, 1.0 - converting / 2)
        return np.where(converting > 0, median, np.nan)

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        survival = self.curve(inputs, weights[None, :])[0]
        return {"reached_from": inputs.count, "converted": int((inputs.arrays["event"] >= 0).sum()),
                "days": self.params.days, "share_within_window": float(1.0 - (survival[-1] if len(survival) else 1.0))}

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The Kaplan–Meier share converted by each day on which an account converted or was censored."""
        return {"day": inputs.extra["times"], "value": 1.0 - self.curve(inputs, weights[None, :])[0]}

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Days from ``from`` to ``to`` for the converted, else days followed (capped at the window)."""
        arrays = inputs.arrays
        return {"days": coded_times(inputs.extra["times"], arrays["event"], arrays["censored"]),
                "converted": arrays["event"] >= 0}
