"""Time to value: days from acquisition to a product milestone, by Kaplan–Meier.

Each customer's time is the days from its acquisition date to the first date of the
milestone (0 when the milestone came first); a customer that has not reached it is
censored at as_of. The metric is the Kaplan–Meier median (the first day at which at
least half the customers have reached the milestone); the details carry the share
reaching it within ``days`` days (90 by default), 1 − S(days).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cohortlab.codes import Unavailability
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Block, Inputs, Memo, Metric, MetricContext, Unavailable
from cohortlab.spec.problems import did_you_mean
from cohortlab.stats.survival import coded_survival, coded_times, median_time, time_codes


class TimeToValueParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    milestone: str
    days: int = Field(default=90, ge=1, le=3650)


class TimeToValue(Metric):
    name = "time_to_value"
    counted = "customers"
    reads = ("won", "milestones")
    direction = "decrease"
    unit = "days"
    Params = TimeToValueParams
    summary = "Median days from acquisition to a milestone (Kaplan–Meier), and the share within 90 days"
    undefined_meaning = "fewer than half of the customers are known to have reached the milestone (no median)"

    @property
    def label(self) -> str:
        return f"Time to {self.params.milestone.replace('_', ' ')}"

    def prepare(self, panel: Panel, context: MetricContext, shared: Memo | None = None) -> Inputs | Unavailable:
        milestone = self.params.milestone
        if not panel.milestone_names:
            return Unavailable(Unavailability.NO_DATA, "the source has no milestones table")
        if milestone not in panel.milestones or milestone not in panel.milestone_names:
            hint = did_you_mean(milestone, panel.milestone_names, "its milestones are: "
                                + ", ".join(panel.milestone_names[:10]))
            return Unavailable(Unavailability.NO_DATA, f"no milestone '{milestone}' in the milestones table; {hint}")
        customer = panel.won
        reached_at = panel.milestones[milestone]
        event = customer & ~np.isnat(reached_at)
        start = panel.won_at
        days = np.where(event, np.maximum((reached_at - start).astype("timedelta64[D]").astype(np.int64), 0), 0)
        follow_up = (np.datetime64(panel.as_of, "D") - start).astype("timedelta64[D]").astype(np.int64)
        time = np.where(event, days, np.where(customer, follow_up, -1))
        times, events, censored = time_codes(time, customer, event)
        return Inputs({"event": events, "censored": censored}, customer, {"times": times, "days": self.params.days})

    def availability(self, treatment: Inputs, baseline: Inputs, context: MetricContext) -> Unavailable | None:
        for name, inputs in (("treatment", treatment), ("baseline", baseline)):
            if inputs.count < context.min_cohort:
                return Unavailable(Unavailability.TOO_FEW, f"the {name} cohort has {inputs.count} customers (min_cohort is "
                                   f"{context.min_cohort})")
            if np.isnan(self.estimate(inputs, np.ones((1, len(inputs.contributing))))[0]):
                return Unavailable(Unavailability.NOT_REACHED, f"fewer than half of the {name} customers are known to have reached "
                                   f"'{self.params.milestone}', so there is no median yet")
        return None

    def curve(self, inputs: Inputs, weights: np.ndarray) -> np.ndarray:
        return coded_survival(inputs.arrays["event"], inputs.arrays["censored"], len(inputs.extra["times"]), weights)

    def evaluate(self, inputs: Inputs, block: Block) -> np.ndarray:
        return median_time(inputs.extra["times"], self.curve(inputs, block.weights))

    def details(self, inputs: Inputs, weights: np.ndarray) -> dict[str, Any]:
        times, days = inputs.extra["times"], inputs.extra["days"]
        survival = self.curve(inputs, weights[None, :])[0]
        upto = np.flatnonzero(times <= days)
        last_seen = times.max(initial=-1)
        if last_seen < days and (survival[-1] if len(survival) else 1.0) > 0:
            within = float("nan")   # nobody followed up that long
        else:
            within = 1.0 - (float(survival[upto[-1]]) if len(upto) else 1.0)
        return {"reached": int((inputs.arrays["event"] >= 0).sum()),
                "not_yet": int((inputs.arrays["censored"] >= 0).sum()),
                f"share_within_{days}_days": within}

    def curve_table(self, inputs: Inputs, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The Kaplan–Meier share of customers that reached the milestone by each day on which one reached it
        or was censored; the median is where it crosses one half."""
        return {"day": inputs.extra["times"], "value": 1.0 - self.curve(inputs, weights[None, :])[0]}

    def account_values(self, inputs: Inputs) -> dict[str, np.ndarray]:
        """Days from acquisition to the milestone for those reaching it, else days followed to as_of."""
        arrays = inputs.arrays
        return {"days": coded_times(inputs.extra["times"], arrays["event"], arrays["censored"]),
                "reached": arrays["event"] >= 0}
