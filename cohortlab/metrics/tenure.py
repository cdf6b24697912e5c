"""Shared rules for metrics over customers' tenure months (LTV, retention, NRR, payback)."""

from __future__ import annotations

import numpy as np

from cohortlab.codes import Unavailability
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Inputs, MetricContext, Unavailable


def customer_arrays(panel: Panel) -> dict[str, np.ndarray]:
    """Per account: whether it is an observed customer, its observed months and acquisition month index."""
    customer = panel.won & (panel.observed_months > 0)
    won_month = np.where(panel.won, panel.won_month.astype("datetime64[M]").astype(np.int64), 0)
    return {"customer": customer, "observed_months": panel.observed_months, "won_month": won_month}


def months_matrix(values: np.ndarray, months: int) -> np.ndarray:
    """The first ``months`` tenure months of a (accounts × tenure) matrix, zero-padded if it is shorter."""
    if values.shape[1] >= months:
        return values[:, :months]
    return np.pad(values, ((0, 0), (0, months - values.shape[1])))


def observed_at(inputs: Inputs, tenure: int) -> int:
    """How many customers are observed at tenure month ``tenure``."""
    arrays = inputs.arrays
    return int(np.sum(arrays["customer"] & (arrays["observed_months"] > tenure)))


def require_observed(treatment: Inputs, baseline: Inputs, tenure: int, context: MetricContext) -> Unavailable | None:
    """Unavailable unless both cohorts have ``min_cohort`` customers observed at ``tenure``, saying from when."""
    needed = context.min_cohort
    for name, inputs in (("treatment", treatment), ("baseline", baseline)):
        count = observed_at(inputs, tenure)
        if count >= needed:
            continue
        won = np.sort(inputs.arrays["won_month"][inputs.arrays["customer"]])
        if len(won) < needed:
            when = f"the cohort has only {len(won)} customers"
        else:
            ready = np.datetime64(int(won[needed - 1]) + tenure, "M") + 1
            when = f"available from {np.datetime64(ready, 'D') - 1} as more customers age"
        return Unavailable(
            Unavailability.NOT_OBSERVED, f"only {count} {name} customers are observed at tenure month {tenure} (min_cohort is {needed}); {when}"
        )
    return None


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
