"""Exact population truth for the demo experiments.

The truth is computed on a large simulated population drawn with the same
outcome-generating functions as :func:`cohortlab.data.demo.generate`, without
censoring (every customer's first 13 tenure months are simulated). Two devices keep the
Monte-Carlo error small without changing any expectation:

* common random numbers: "treatment" and "counterfactual" are the same simulated
  entrants (same covariates and noise) evaluated with the treatment on and off;
* funnel progression is integrated out: each entrant carries its exact probabilities
  of reaching each stage (the same :func:`~cohortlab.data.demo.advance_probabilities`
  the generator thresholds its uniforms against) as weights, instead of one 0/1 draw.

So a planted zero is exactly zero: guided onboarding never touches the funnel (the
onboarding-v2 CAC effect is 0) and the orchestrated journey never touches revenue
(its LTV, retention and NRR effects are 0; its lift scales every entrant's win
probability by the same 1.15², so the customers' mix is unchanged).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from cohortlab.data import demo

__all__ = ["EXPERIMENTS", "METRICS", "Truth", "true_values"]

GROSS_MARGIN = 0.78
DISCOUNT_RATE = 0.10  # annual; tenure month 0 is undiscounted
POPULATION = 400_000  # treatment-cohort entrants (and baseline entrants) simulated
TRUTH_SEED = 20260930
HORIZON_MONTHS = 36  # the modeled-LTV horizon (economics.horizon_months)
TENURE_MONTHS = HORIZON_MONTHS  # tenure months simulated: enough for every metric below
PAID_CHANNELS = ("paid_search", "paid_social")  # attribution.paid_channels in the demo config
CONVERSION_DAYS, VELOCITY_DAYS = 90, 180  # the example's conversion window; the journey's window (velocity's)
METRICS = ("cac", "cac:paid", "cost_per:opportunity", f"conversion:qualified:opportunity:{CONVERSION_DAYS}",
           f"velocity:qualified:opportunity:{VELOCITY_DAYS}", "ltv:earned:12", "ltv:modeled:36", "ltv_cac", "payback",
           "retention:3", "early_churn:3", "nrr:12", "grr:12", "time_to_value:first_value:90")
EXPERIMENTS = ("onboarding-v2", "orchestrated-journey")


@dataclass(frozen=True)
class Truth:
    """A metric's population value in the three arms of an experiment.

    ``treatment``: the treatment cohort's population under treatment; ``baseline``: the
    baseline cohort's own population under control; ``counterfactual``: the treatment
    cohort's population (its covariate mix) under control.
    """

    treatment: float
    baseline: float
    counterfactual: float

    @property
    def effect(self) -> float:
        """The planted average treatment effect on the treated (ATT)."""
        return self.treatment - self.counterfactual

    @property
    def naive_effect(self) -> float:
        """What an unmatched treatment-vs-baseline comparison estimates."""
        return self.treatment - self.baseline

    @property
    def relative_effect(self) -> float:
        return self.effect / abs(self.counterfactual)


def payback_of(monthly: np.ndarray, cac: float) -> float:
    """The fractional month at which the cumulative monthly margin reaches ``cac`` (NaN if it never does)."""
    total = 0.0
    for month, margin in enumerate(monthly):
        if total + margin >= cac:
            return month + (cac - total) / margin
        total += margin
    return float("nan")


def _median_days(days: np.ndarray, weights: np.ndarray) -> float:
    """Median of whole-day times (−1: never), the survival curve joined linearly between whole days."""
    reached = days >= 0
    share = np.bincount(days[reached], weights=weights[reached]) / weights.sum()
    survival = np.r_[1.0, 1.0 - np.cumsum(share)]  # before day 0, then after each day
    grid = np.r_[0.0, np.arange(len(share))]
    first = int(np.argmax(survival <= 0.5))
    upper, lower = survival[first - 1], survival[first]
    return float(grid[first - 1] + (upper - 0.5) / (upper - lower) * (grid[first] - grid[first - 1]))


def _paid_cost(people: demo.Entrants, funnel: demo.FunnelDraws, reach: np.ndarray, orchestrated: bool) -> float:
    """Expected cost credited to paid channels under linear attribution, summed over entrants.

    Given the last stage an entrant reaches, its touches are fixed: the source touch, both campaign
    slots' touches at each stage reached below the won stage, and nurture emails on the orchestrated
    journey. Linear credit gives each touch 1/k of the account's cost, so the paid share is the
    share of its touches from paid campaigns (all but the nurture emails for entrants from a paid
    channel, none otherwise). The expectation sums over the last stage reached.
    """
    paid = np.isin(np.asarray(demo.CHANNELS)[people.channel], PAID_CHANNELS)
    nurture = funnel.nurture * orchestrated
    total = 0.0
    for last in range(5):
        reached = (np.arange(5) <= last)[None, :].repeat(len(people), axis=0).astype(float)
        probability = reach[:, last] - (reach[:, last + 1] if last < 4 else 0.0)
        cost = demo.touch_cost(people, funnel, reached, orchestrated)
        touches = 1 + funnel.touches[:, :min(last, 3) + 1].sum(axis=(1, 2)) + nurture
        share = np.where(paid, (touches - nurture) / touches, 0.0)
        total += float(probability @ (cost * share))
    return total


def _metrics(people: demo.Entrants, funnel: demo.FunnelDraws, revenue: demo.RevenueDraws,
             guided: np.ndarray, orchestrated: bool, milestone_days: np.ndarray) -> dict[str, float]:
    """Population values of every metric for one arm (expectations, no censoring)."""
    reach = demo.reach_probabilities(demo.advance_probabilities(people, orchestrated))
    cost = demo.touch_cost(people, funnel, reach, orchestrated).sum()
    won = reach[:, 4]  # P(customer | entrant): the weight of its revenue path
    # qualified -> opportunity takes the next two stage delays (at most 65 days, inside both windows)
    qualified_to_opportunity = funnel.delay_days[:, 1] + funnel.delay_days[:, 2]
    paths = demo.mrr_paths(revenue, people, guided)
    discount = (1.0 + DISCOUNT_RATE) ** (-np.arange(HORIZON_MONTHS) / 12.0)
    margin_by_month = GROSS_MARGIN * (won @ paths) / won.sum()  # mean margin per customer, by tenure month
    cac = cost / won.sum()
    ltv = margin_by_month @ discount
    retention = won @ (paths[:, 3] > 0) / won.sum()
    return {
        "cac": cac,
        "cac:paid": _paid_cost(people, funnel, reach, orchestrated) / won.sum(),
        "cost_per:opportunity": cost / reach[:, 3].sum(),
        f"conversion:qualified:opportunity:{CONVERSION_DAYS}": reach[:, 3].sum() / reach[:, 1].sum(),
        f"velocity:qualified:opportunity:{VELOCITY_DAYS}": _median_days(qualified_to_opportunity, reach[:, 3]),
        "ltv:earned:12": margin_by_month[:12] @ discount[:12],
        "ltv:modeled:36": ltv,
        "ltv_cac": ltv / cac,
        "payback": payback_of(margin_by_month, cac),
        "retention:3": retention,
        "early_churn:3": 1.0 - retention,
        "nrr:12": (won @ paths[:, 12]) / (won @ paths[:, 0]),
        "grr:12": (won @ np.minimum(paths[:, 12], paths[:, 0])) / (won @ paths[:, 0]),
        "time_to_value:first_value:90": _median_days(milestone_days, won),
    }


def _draw(rng: np.random.Generator, n: int, keep_probability=None):
    """Draw ``n`` entrants, from the population mix or kept with ``keep_probability``."""
    if keep_probability is None:
        people = demo.draw_entrants(rng, n)
    else:
        batches: list[demo.Entrants] = []
        batch_size = 9 * n // 4  # both experiments keep ~47-49% of entrants
        while sum(map(len, batches)) < n:
            batch = demo.draw_entrants(rng, batch_size)
            batches.append(batch.take(rng.random(batch_size) < keep_probability(batch)))
        people = demo.Entrants.concat(batches).take(slice(0, n))
    return people, demo.draw_funnel(rng, people), demo.draw_revenue(rng, people, TENURE_MONTHS)


def _first_value_days(rng: np.random.Generator, guided: np.ndarray) -> np.ndarray:
    return demo.draw_milestone_days(rng, guided)[1]


@functools.lru_cache(maxsize=None)
def true_values(experiment: str) -> dict[str, Truth]:
    """Population truth of the demo experiment's metrics.

    Parameters
    ----------
    experiment : "onboarding-v2" or "orchestrated-journey"

    Returns
    -------
    dict keyed by :data:`METRICS` (dollars; retention, churn and revenue retention as
    fractions; payback in months; time to first value in days).
    """
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown demo experiment {experiment!r}; expected one of {EXPERIMENTS}")
    treated_rng, baseline_rng = (np.random.default_rng(s) for s in
                                 np.random.SeedSequence([TRUTH_SEED, EXPERIMENTS.index(experiment)]).spawn(2))
    if experiment == "onboarding-v2":
        # Both windows are before the orchestrated journey launched.
        people, funnel, revenue = _draw(treated_rng, POPULATION, demo.guided_probability)
        on, off = np.ones(len(people), bool), np.zeros(len(people), bool)
        # milestones are drawn after the fact from the flow alone: independent draws per arm
        treatment = _metrics(people, funnel, revenue, on, False, _first_value_days(treated_rng, on))
        counterfactual = _metrics(people, funnel, revenue, off, False, _first_value_days(treated_rng, off))
        people, funnel, revenue = _draw(baseline_rng, POPULATION)
        off = np.zeros(len(people), bool)
        baseline = _metrics(people, funnel, revenue, off, False, _first_value_days(baseline_rng, off))
    else:
        # Both windows are after guided onboarding launched: its assignment is in the mix.
        people, funnel, revenue = _draw(treated_rng, POPULATION, demo.orchestrated_probability)
        guided = treated_rng.random(len(people)) < demo.guided_probability(people)
        days = _first_value_days(treated_rng, guided)
        treatment = _metrics(people, funnel, revenue, guided, True, days)
        counterfactual = _metrics(people, funnel, revenue, guided, False, days)
        people, funnel, revenue = _draw(baseline_rng, POPULATION)
        guided = baseline_rng.random(len(people)) < demo.guided_probability(people)
        baseline = _metrics(people, funnel, revenue, guided, False, _first_value_days(baseline_rng, guided))
    return {m: Truth(float(treatment[m]), float(baseline[m]), float(counterfactual[m])) for m in METRICS}
