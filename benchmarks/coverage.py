"""Coverage of every metric's 95% interval, per CI method, on simulated confounded cohorts with known truth.

Each simulated dataset has a treatment and a baseline cohort of ``accounts`` accounts each, every
account in one of three segments (smb, mid, ent). The segment changes almost every outcome, and
the cohorts' segment mixes differ strongly (treatment 60/30/10%, baseline 20/30/50%), so the naive
comparison is confounded; exact matching on the segment removes it. Per account of segment s in
a cohort with generator G:

* it enters the funnel (stage ``lead``) on a day uniform over the ENTRY_DAYS days up to as_of;
  entry is independent of everything else, so follow-up varies from 0 to ENTRY_DAYS days;
* it reaches ``qualified`` with probability p_s after X_q ~ Gamma(k_s, θ) days, and is then won
  (stage ``customer``) with probability q_s, X_w = X_q + X_c days after entry with X_c ~
  Gamma(K − k_s, θ); stage days are ⌈X⌉, and a stage counts from the date on (NaT after as_of).
  By Gamma additivity X_w ~ Gamma(K, θ) in every segment: the segment changes velocity to
  qualified but not the days to win, so within a cohort the calendar spread of acquisition (and
  so the censoring of tenure months) is the same in every segment. The conversion window is
  WINDOW_DAYS days;
* its acquisition cost is exponential with mean c_s (every entrant, won or not);
* a customer churns by the shifted-beta-geometric model with the cohort's (α, β), the same in
  every segment, so the segment mixture of customers is itself sBG and the modeled LTV is
  correctly specified; it pays r_0 ~ lognormal with mean R_s in month 0, then
  r_t = r_0·(1 + g)^(t/12)·ε_t, ε_t ~ Gamma(κ_s, 1/κ_s) (mean 1; the segment changes the noise, and
  with it GRR), g = the configured expansion rate;
* a customer reaches the milestone ⌈X⌉ days after acquisition, X ~ Gamma(2, μ_s/2), except a
  share π_s that never does; censored at as_of.

Retention, early churn and NRR do not depend on the segment (churn and growth are the same in
every segment): they are not confounded, and the naive comparison should cover them too.

**Truth.** The estimand is the ATT conditional on the treatment cohort's segment counts n_s, as
the report states it ("ATT on the N treatment accounts"); the bootstrap resamples within cohort
× stratum, so it conditions on them too. Each cohort's true value is the metric's population
functional with that cohort's per-segment distributions mixed by n_s (the treatment's counts,
for both cohorts): for ratios Σ_s n_s·E[numerator | s] / Σ_s n_s·E[denominator | s]; for
customer-level metrics the mixture of segments with weights ∝ n_s·p_s·q_s (customers; the days to
win, and so censoring, do not depend on s); Kaplan–Meier medians solve the mixture's survival
curve, joined linearly between whole days as the product does. The true delta is treatment −
baseline for each simulation (0 in ``null``). ``--check-truth`` compares the closed forms with a
large uncensored Monte Carlo of the generator.

**Scenarios.** ``null``: the treatment cohort has the baseline's generator in every segment (every
true delta is 0, but the naive comparison is confounded). ``effect``: the treatment changes every
metric family (qualification, win rate, cost, days to qualify and to win, churn, revenue, revenue
noise, milestone), by segment-specific amounts for cost.

**Methods.** Each dataset is matched exactly on the segment (cohortlab's ``match``) and compared by
cohortlab's ``estimate_metrics`` with 95% intervals: bootstrap percentile, bootstrap BCa, and
``analytic`` (the report's ``.method`` says which metrics fell back to the bootstrap); plus the
naive comparison (matching ``none``, percentile) against the same ATT truth, to show that the
confounding is real. The bootstrap seed is the simulation's index, the data's seed (scenario,
index), so the results do not depend on ``--jobs``.

    python benchmarks/coverage.py --simulations 500 --replicates 400 --jobs 2

Per scenario × metric × method: the mean true delta, the mean error of the estimated delta, the
coverage of the 95% interval with its Monte Carlo standard error, the mean width, and the spread
of the estimates' errors across simulations over the mean standard error implied by the width
(width / 3.92; 1 when the width is right).
"""

from __future__ import annotations

import os

# One BLAS thread per process: --jobs runs simulations in parallel processes, and BLAS threads on top of
# them oversubscribe the cores (2.5 times slower on 2 cores). Effective only before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import betaln  # noqa: E402

from cohortlab.codes import Status  # noqa: E402
from cohortlab.data.demo_truth import payback_of  # noqa: E402
from cohortlab.data.panel import CostSource, Panel, last_complete_month  # noqa: E402
from cohortlab.match import match  # noqa: E402
from cohortlab.metrics.acquisition import CAC, CostPer  # noqa: E402
from cohortlab.metrics.base import Metric, MetricContext  # noqa: E402
from cohortlab.metrics.funnel import Conversion, Velocity  # noqa: E402
from cohortlab.metrics.ltv import LTV  # noqa: E402
from cohortlab.metrics.nrr import GRR, NRR  # noqa: E402
from cohortlab.metrics.payback import LTVCAC, Payback  # noqa: E402
from cohortlab.metrics.retention import EarlyChurn, Retention  # noqa: E402
from cohortlab.metrics.ttv import TimeToValue  # noqa: E402
from cohortlab.engine import estimate_metrics  # noqa: E402
from cohortlab.engine.records import Settings  # noqa: E402
from cohortlab.spec.matching import ExactMatch, MatchSpec, NoMatch  # noqa: E402
from cohortlab.spec.models import Economics, Journey  # noqa: E402

AS_OF = dt.date(2026, 6, 30)
ENTRY_DAYS = 790            # accounts enter uniformly over the days up to as_of
WINDOW_DAYS = 90            # the journey's conversion window
CONVERSION_DAYS = 60
MARGIN = 0.75
DISCOUNT_RATE = 0.10
HORIZON = 36
GROWTH = 0.10               # annual expansion of survivors' revenue; also the configured expansion_rate
REVENUE_SIGMA = 0.7         # σ of log r_0
MIN_COHORT = 30
EARNED_MONTHS = 12
MILESTONE = "activated"
STAGES = ("lead", "qualified", "customer")
SEGMENTS = ("smb", "mid", "ent")
MIX = {"treatment": (0.6, 0.3, 0.1), "baseline": (0.2, 0.3, 0.5)}
CONFIDENCE = 0.95
Z = float(stats.norm.ppf(0.975))

ECONOMICS = Economics(gross_margin=MARGIN, discount_rate=DISCOUNT_RATE, horizon_months=HORIZON,
                      renewal_period_months=1, expansion_rate=GROWTH)
JOURNEY = Journey(stages=list(STAGES), won="customer", window_days=WINDOW_DAYS)
CONTEXT = MetricContext(ECONOMICS, JOURNEY, MIN_COHORT, AS_OF, CONFIDENCE)
LAST_MONTH = last_complete_month(AS_OF)
# tenure months a customer can have observed: entered on the first day, won the day after
TENURE_MONTHS = int((LAST_MONTH - np.datetime64(np.datetime64(AS_OF, "D") - (ENTRY_DAYS - 1), "M"))
                    .astype(np.int64)) + 1


def _metric(definition: type[Metric], **params) -> Metric:
    return definition(definition.with_defaults(definition.Params(**params), ECONOMICS, JOURNEY))


METRICS: dict[str, Metric] = {metric.key: metric for metric in (
    _metric(CAC), _metric(CostPer, stage="qualified"),
    _metric(Conversion, from_="lead", to="customer", days=CONVERSION_DAYS),
    _metric(Velocity, from_="lead", to="qualified"),
    _metric(LTV, basis="earned", months=EARNED_MONTHS), _metric(LTV, basis="modeled", months=HORIZON),
    _metric(LTVCAC), _metric(Payback), _metric(Retention, months=3), _metric(Retention, months=12),
    _metric(EarlyChurn, months=3), _metric(NRR, months=12), _metric(GRR, months=12),
    _metric(TimeToValue, milestone=MILESTONE),
)}


def _settings(ci: str, interval: str) -> Settings:
    """Settings of one CI method; the replicates and seed are set per simulation."""
    return Settings(confidence=CONFIDENCE, ci=ci, replicates=0, seed=0, correction="none", interval=interval)


# method name → (matching spec, settings)
METHODS: dict[str, tuple[MatchSpec, Settings]] = {
    "percentile": (ExactMatch(method="exact", on=["segment"]), _settings("bootstrap", "percentile")),
    "bca": (ExactMatch(method="exact", on=["segment"]), _settings("bootstrap", "bca")),
    "analytic": (ExactMatch(method="exact", on=["segment"]), _settings("analytic", "percentile")),
    "naive": (NoMatch(), _settings("bootstrap", "percentile")),
}


# ---------------------------------------------------------------------------------------------- generator

@dataclass(frozen=True)
class Segment:
    """One segment's part of a cohort's generator."""

    qualify: float          # p: P(an entrant reaches qualified)
    win: float              # q: P(won | qualified)
    cost: float             # c: mean acquisition cost per entrant (exponential)
    revenue: float          # R: E[r_0], the mean first-month revenue
    noise: float            # κ: shape of the month-to-month revenue noise ε ~ Gamma(κ, 1/κ)
    qualify_shape: float    # k: days to qualified X_q ~ Gamma(k, θ)
    milestone_days: float   # μ: mean days from acquisition to the milestone
    never: float            # π: share of customers never reaching the milestone


@dataclass(frozen=True)
class Generator:
    """One cohort's generator: its segments (in SEGMENTS order) and what all of them share."""

    segments: tuple[Segment, ...]
    alpha: float            # churn probabilities θ ~ Beta(alpha, beta)
    beta: float
    win_shape: float        # K: days to won X_w ~ Gamma(K, θ); K > every segment's k
    delay_scale: float      # θ

    def values(self, name: str) -> np.ndarray:
        """One Segment field per segment."""
        return np.array([getattr(segment, name) for segment in self.segments])


BASELINE = Generator(
    segments=(Segment(qualify=0.40, win=0.30, cost=60.0, revenue=60.0, noise=3.0, qualify_shape=1.5,
                      milestone_days=14.0, never=0.10),
              Segment(qualify=0.45, win=0.40, cost=120.0, revenue=150.0, noise=5.0, qualify_shape=2.5,
                      milestone_days=21.0, never=0.20),
              Segment(qualify=0.50, win=0.50, cost=300.0, revenue=400.0, noise=10.0, qualify_shape=4.0,
                      milestone_days=35.0, never=0.30)),
    alpha=1.0, beta=5.0, win_shape=6.0, delay_scale=7.0)
COST_EFFECT = (1.15, 1.0, 0.85)  # the treatment's cost multiplier per segment in ``effect``
EFFECT = replace(
    BASELINE, alpha=0.8, beta=6.0, delay_scale=6.0,
    segments=tuple(replace(segment, qualify=segment.qualify * 1.15, win=segment.win * 1.1,
                           cost=segment.cost * factor, revenue=segment.revenue * 1.1, noise=segment.noise + 2.0,
                           qualify_shape=segment.qualify_shape * 0.7, milestone_days=segment.milestone_days * 0.75,
                           never=segment.never - 0.05)
                   for segment, factor in zip(BASELINE.segments, COST_EFFECT)))
SCENARIOS: dict[str, tuple[Generator, Generator]] = {"null": (BASELINE, BASELINE), "effect": (EFFECT, BASELINE)}


def draw_accounts(rng: np.random.Generator, generator: Generator, segment: np.ndarray) -> dict[str, np.ndarray]:
    """Uncensored funnel outcomes per account of the given segments: qualified and won (ever), days from
    entry to qualified and to won (⌈X⌉), and acquisition cost."""
    count = len(segment)
    qualified = rng.random(count) < generator.values("qualify")[segment]
    won = qualified & (rng.random(count) < generator.values("win")[segment])
    shape = generator.values("qualify_shape")[segment]
    to_qualified = rng.gamma(shape, generator.delay_scale)
    to_won = to_qualified + rng.gamma(generator.win_shape - shape, generator.delay_scale)
    return {"qualified": qualified, "won": won, "qualified_days": np.ceil(to_qualified).astype(np.int64),
            "won_days": np.ceil(to_won).astype(np.int64), "cost": rng.exponential(generator.values("cost")[segment])}


def draw_customers(rng: np.random.Generator, generator: Generator, segment: np.ndarray,
                   months: int) -> dict[str, np.ndarray]:
    """Uncensored customers of the given segments: months paid K, revenue (customers × months, 0 from month
    K on) and days to the milestone (a large number for those who never reach it)."""
    count = len(segment)
    paid = rng.geometric(rng.beta(generator.alpha, generator.beta, count))      # K ≥ 1
    mean = generator.values("revenue")[segment]
    first = rng.lognormal(np.log(mean) - REVENUE_SIGMA ** 2 / 2, REVENUE_SIGMA)
    shape = generator.values("noise")[segment][:, None]
    noise = rng.gamma(shape, 1.0 / shape, (count, months))
    noise[:, 0] = 1.0
    growth = (1.0 + GROWTH) ** (np.arange(months) / 12.0)
    revenue = first[:, None] * growth[None, :] * noise * (np.arange(months)[None, :] < paid[:, None])
    milestone = generator.values("milestone_days")[segment]
    days = np.ceil(rng.gamma(2.0, milestone / 2.0)).astype(np.int64)
    days = np.where(rng.random(count) < generator.values("never")[segment], 10 ** 6, days)
    return {"paid": paid, "revenue": revenue, "milestone_days": days}


def _dates(start: np.ndarray, days: np.ndarray, happened: np.ndarray) -> np.ndarray:
    """start + days where ``happened`` and by as_of, else NaT."""
    end = start + days.astype("timedelta64[D]")
    return np.where(happened & (end <= np.datetime64(AS_OF, "D")), end, np.datetime64("NaT"))


def simulate_cohort(rng: np.random.Generator, generator: Generator, segment: np.ndarray) -> dict[str, np.ndarray]:
    """One cohort's per-account panel arrays, censored at as_of."""
    count = len(segment)
    as_of = np.datetime64(AS_OF, "D")
    entered = as_of - rng.integers(0, ENTRY_DAYS, count).astype("timedelta64[D]")
    funnel = draw_accounts(rng, generator, segment)
    stage_at = np.column_stack([entered, _dates(entered, funnel["qualified_days"], funnel["qualified"]),
                                _dates(entered, funnel["won_days"], funnel["won"])])
    end = np.minimum(entered + np.timedelta64(WINDOW_DAYS, "D"), as_of)
    won_at = stage_at[:, 2]
    won = ~np.isnat(won_at)
    won_month = won_at.astype("datetime64[M]")
    observed = np.where(won, (LAST_MONTH - won_month).astype(np.int64) + 1, 0)
    drawn = draw_customers(rng, generator, segment[won], TENURE_MONTHS)
    revenue = np.zeros((count, TENURE_MONTHS))
    revenue[won] = drawn["revenue"] * (np.arange(TENURE_MONTHS)[None, :] < observed[won][:, None])
    milestone = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
    milestone[won] = _dates(won_at[won], drawn["milestone_days"], np.ones(int(won.sum()), dtype=bool))
    return {"segment": np.asarray(SEGMENTS)[segment], "entered": entered, "stage_at": stage_at,
            "reached": stage_at <= end[:, None], "won": won, "won_at": won_at, "won_month": won_month,
            "cost": funnel["cost"], "revenue": revenue, "observed": observed, "milestone": milestone}


def simulate(rng: np.random.Generator, scenario: str, accounts: int) -> tuple[Panel, np.ndarray]:
    """A panel of both cohorts (treatment rows first) and the treatment's accounts per segment."""
    segments = {side: rng.choice(len(SEGMENTS), accounts, p=MIX[side]) for side in ("treatment", "baseline")}
    sides = [simulate_cohort(rng, generator, segments[side])
             for side, generator in zip(("treatment", "baseline"), SCENARIOS[scenario])]
    joined = {name: np.concatenate([side[name] for side in sides]) for name in sides[0]}
    n = 2 * accounts
    panel = Panel(
        account_id=np.char.add("a", np.arange(n).astype(str)), treated=np.arange(n) < accounts,
        entered=joined["entered"], covariates={"segment": joined["segment"]}, stages=STAGES,
        stage_at=joined["stage_at"], reached=joined["reached"], won=joined["won"], won_at=joined["won_at"],
        won_month=joined["won_month"], cost=joined["cost"], revenue=joined["revenue"],
        margin=joined["revenue"] * MARGIN, observed_months=joined["observed"], as_of=AS_OF,
        cost_source=CostSource("acquisition_cost"), milestones={MILESTONE: joined["milestone"]},
        milestone_names=(MILESTONE,), window_days=WINDOW_DAYS,
    )
    return panel, np.bincount(segments["treatment"], minlength=len(SEGMENTS))


# ---------------------------------------------------------------------------------------------- truth

def survival(generator: Generator, months: np.ndarray | int) -> np.ndarray:
    """S(t) = B(α, β + t) / B(α, β): the share of customers still paying in tenure month t."""
    months = np.asarray(months, dtype=float)
    return np.exp(betaln(generator.alpha, generator.beta + months) - betaln(generator.alpha, generator.beta))


def discount(months: int) -> np.ndarray:
    return (1.0 + DISCOUNT_RATE) ** (-np.arange(months) / 12.0)


def crossing(curve: np.ndarray, level: float) -> float:
    """The day at which ``curve`` (its values on days 0, 1, …), joined linearly between days, falls to
    ``level``: the product's median convention for whole-day times."""
    first = int(np.argmax(curve <= level))
    if curve[first] > level:
        return float("nan")
    return first - 1 + (curve[first - 1] - level) / (curve[first - 1] - curve[first])


def gross_retained(shape: np.ndarray, months: int) -> np.ndarray:
    """E[min((1 + g)^(T/12)·ε, 1)] for ε ~ Gamma(κ, 1/κ), using E[ε·1(ε < x)] = P(Gamma(κ + 1, 1/κ) < x)."""
    a = (1.0 + GROWTH) ** (months / 12.0)
    return a * stats.gamma.cdf(1.0 / a, shape + 1, scale=1 / shape) + stats.gamma.sf(1.0 / a, shape, scale=1 / shape)


def truth(generator: Generator, counts: np.ndarray) -> dict[str, float]:
    """Every metric's population value for a cohort with ``generator``'s segments mixed by ``counts``
    accounts per segment, by metric key."""
    counts = np.asarray(counts, dtype=float)
    p, q, cost = generator.values("qualify"), generator.values("win"), generator.values("cost")
    shape, scale = generator.values("qualify_shape"), generator.delay_scale
    won_within = stats.gamma.cdf(WINDOW_DAYS, generator.win_shape, scale=scale)   # ⌈X_w⌉ ≤ W ⟺ X_w ≤ W
    cac = counts @ cost / (counts @ (p * q) * won_within)
    days = np.arange(WINDOW_DAYS + 1)
    qualified_by = (counts * p) @ stats.gamma.cdf(days[None, :], shape[:, None], scale=scale) / counts.sum()
    customers = counts * p * q                                                    # the customers' mixture weights
    revenue = customers @ generator.values("revenue") / customers.sum()
    t = np.arange(HORIZON)
    curve = MARGIN * revenue * (1.0 + GROWTH) ** (t / 12.0) * survival(generator, t)
    modeled = float(curve @ discount(HORIZON))
    milestone_days = np.arange(1000)
    reached_by = customers @ ((1.0 - generator.values("never"))[:, None] * stats.gamma.cdf(
        milestone_days[None, :], 2.0, scale=generator.values("milestone_days")[:, None] / 2.0)) / customers.sum()
    revenue_weights = customers * generator.values("revenue")
    retained_12 = float(survival(generator, 12))
    return {
        "cac": float(cac),
        "cost_per:qualified": float(counts @ cost / (counts @ (p * stats.gamma.cdf(WINDOW_DAYS, shape, scale=scale)))),
        f"conversion:lead:customer:{CONVERSION_DAYS}": float(
            counts @ (p * q) * stats.gamma.cdf(CONVERSION_DAYS, generator.win_shape, scale=scale) / counts.sum()),
        f"velocity:lead:qualified:{WINDOW_DAYS}": crossing(1.0 - qualified_by, 1.0 - qualified_by[-1] / 2),
        f"ltv:earned:{EARNED_MONTHS}": float(curve[:EARNED_MONTHS] @ discount(EARNED_MONTHS)),
        f"ltv:modeled:{HORIZON}": modeled,
        "ltv_cac": float(modeled / cac),
        "payback": payback_of(curve, float(cac)),
        "retention:3": float(survival(generator, 3)), "retention:12": retained_12,
        "early_churn:3": float(1.0 - survival(generator, 3)),
        "nrr:12": (1.0 + GROWTH) * retained_12,
        "grr:12": float(retained_12 * revenue_weights @ gross_retained(generator.values("noise"), 12)
                        / revenue_weights.sum()),
        f"time_to_value:{MILESTONE}:90": crossing(1.0 - reached_by, 0.5),
    }


def true_delta(scenario: str, counts: np.ndarray) -> dict[str, float]:
    """treatment − baseline per metric key, both mixed by the treatment's segment counts."""
    treatment, baseline = (truth(generator, counts) for generator in SCENARIOS[scenario])
    return {key: treatment[key] - baseline[key] for key in METRICS}


# ---------------------------------------------------------------------------------------------- truth check

def monte_carlo(rng: np.random.Generator, generator: Generator, counts: np.ndarray) -> dict[str, float]:
    """Every metric's value on uncensored simulated accounts, ``counts`` of them per segment."""
    segment = np.repeat(np.arange(len(SEGMENTS)), counts)
    funnel = draw_accounts(rng, generator, segment)
    qualified, won = funnel["qualified"], funnel["won"]
    drawn = draw_customers(rng, generator, segment[won], HORIZON)
    revenue, paid = drawn["revenue"], drawn["paid"]
    curve = MARGIN * revenue.mean(axis=0)
    cac = funnel["cost"].sum() / np.sum(won & (funnel["won_days"] <= WINDOW_DAYS))
    modeled = float(curve @ discount(HORIZON))
    qualified_by = np.mean(qualified[:, None] & (funnel["qualified_days"][:, None] <= np.arange(WINDOW_DAYS + 1)),
                           axis=0)
    reached_by = np.searchsorted(np.sort(drawn["milestone_days"]), np.arange(1000), side="right") / len(paid)
    return {
        "cac": float(cac),
        "cost_per:qualified": float(funnel["cost"].sum()
                                    / np.sum(qualified & (funnel["qualified_days"] <= WINDOW_DAYS))),
        f"conversion:lead:customer:{CONVERSION_DAYS}": float(np.mean(won & (funnel["won_days"] <= CONVERSION_DAYS))),
        f"velocity:lead:qualified:{WINDOW_DAYS}": crossing(1.0 - qualified_by, 1.0 - qualified_by[-1] / 2),
        f"ltv:earned:{EARNED_MONTHS}": float(curve[:EARNED_MONTHS] @ discount(EARNED_MONTHS)),
        f"ltv:modeled:{HORIZON}": modeled,
        "ltv_cac": float(modeled / cac),
        "payback": payback_of(curve, float(cac)),
        "retention:3": float(np.mean(paid > 3)), "retention:12": float(np.mean(paid > 12)),
        "early_churn:3": float(np.mean(paid <= 3)),
        "nrr:12": float(revenue[:, 12].sum() / revenue[:, 0].sum()),
        "grr:12": float(np.minimum(revenue[:, 12], revenue[:, 0]).sum() / revenue[:, 0].sum()),
        f"time_to_value:{MILESTONE}:90": crossing(1.0 - reached_by, 0.5),
    }


def check_truth(accounts: int = 1_000_000) -> None:
    """Print the closed-form truth next to a Monte Carlo of ``accounts`` uncensored accounts per cohort, mixed
    as the treatment cohort is."""
    counts = np.round(accounts * np.asarray(MIX["treatment"])).astype(np.int64)
    for name, generator in (("baseline (and null treatment)", BASELINE), ("effect treatment", EFFECT)):
        exact, simulated = truth(generator, counts), monte_carlo(np.random.default_rng(12345), generator, counts)
        print(f"\n{name}: closed form vs uncensored Monte Carlo of {accounts:,} accounts "
              f"(segments {', '.join(f'{s} {n:,}' for s, n in zip(SEGMENTS, counts))})\n")
        print("| metric | closed form | Monte Carlo | relative difference |")
        print("|---|---:|---:|---:|")
        for key, value in exact.items():
            print(f"| {key} | {value:.5g} | {simulated[key]:.5g} | {simulated[key] / value - 1:+.2%} |")


# ---------------------------------------------------------------------------------------------- estimation

@dataclass(frozen=True)
class Task:
    """One simulation to run: its data come from the seed (scenario, simulation), its bootstrap from simulation."""

    scenario: str
    simulation: int
    accounts: int
    replicates: int
    methods: tuple[str, ...]
    metrics: tuple[str, ...]


def simulate_and_estimate(task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One simulation: the true delta per metric (metrics), and per method and metric the estimated delta and
    95% interval (methods × metrics × 3) and whether the analytic form made the interval (methods × metrics)."""
    scenario_index = list(SCENARIOS).index(task.scenario)
    panel, counts = simulate(np.random.default_rng([scenario_index, task.simulation]), task.scenario, task.accounts)
    truth_delta = true_delta(task.scenario, counts)
    metrics = [METRICS[key] for key in task.metrics]
    estimates = np.full((len(task.methods), len(metrics), 3), np.nan)
    analytic = np.zeros((len(task.methods), len(metrics)), dtype=bool)
    for row, method in enumerate(task.methods):
        spec, settings = METHODS[method]
        matching = match(spec, panel.treated, panel.covariates)
        settings = replace(settings, replicates=task.replicates, seed=task.simulation)
        results, _ = estimate_metrics(metrics, panel, matching, matching.weights(), CONTEXT, settings, None)
        for column, result in enumerate(results):
            if result.status is Status.OK:
                estimates[row, column] = (result.delta, *result.ci)
            analytic[row, column] = result.method == "analytic"
    return np.array([truth_delta[key] for key in task.metrics]), estimates, analytic


@dataclass(frozen=True)
class Study:
    """One scenario's simulations: true deltas (sims × metrics), estimates (sims × methods × metrics × 3:
    delta, low, high) and whether the interval was analytic (sims × methods × metrics)."""

    scenario: str
    methods: tuple[str, ...]
    metrics: tuple[str, ...]
    truth: np.ndarray
    estimates: np.ndarray
    analytic: np.ndarray


def run(scenario: str, simulations: int, replicates: int, accounts: int, methods: tuple[str, ...] = tuple(METHODS),
        metrics: tuple[str, ...] = tuple(METRICS), jobs: int = 1, first_seed: int = 0) -> Study:
    """Simulations first_seed, first_seed + 1, … of ``scenario``, in ``jobs`` processes (the same results for any
    number)."""
    tasks = [Task(scenario, simulation, accounts, replicates, methods, metrics)
             for simulation in range(first_seed, first_seed + simulations)]
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            outputs = pool.map(simulate_and_estimate, tasks, chunksize=1)
    else:
        outputs = [simulate_and_estimate(task) for task in tasks]
    truth_, estimates, analytic = (np.array(parts) for parts in zip(*outputs))
    return Study(scenario, methods, metrics, truth_, estimates, analytic)


# ---------------------------------------------------------------------------------------------- report

@dataclass(frozen=True)
class Cell:
    """One scenario × metric × method's figures over the simulations."""

    true_delta: float
    mean_error: float
    error_se: float
    coverage: float
    coverage_se: float
    width: float
    spread_ratio: float
    missing: int            # simulations without a result (metric unavailable)
    analytic_share: float   # share of simulations whose interval was analytic


def summarize(study: Study, method: str, metric: str) -> Cell:
    row, column = study.methods.index(method), study.metrics.index(metric)
    truth_ = study.truth[:, column]
    delta, low, high = study.estimates[:, row, column].T
    defined = np.isfinite(delta) & np.isfinite(low) & np.isfinite(high)
    errors = delta[defined] - truth_[defined]
    covered = defined & (low <= truth_) & (truth_ <= high)   # a missing interval counts as not covering
    coverage = float(covered.mean())
    width = float(np.mean(high[defined] - low[defined]))
    return Cell(float(truth_.mean()), float(errors.mean()), float(errors.std(ddof=1) / np.sqrt(len(errors))),
                coverage, float(np.sqrt(coverage * (1 - coverage) / len(covered))), width,
                float(errors.std(ddof=1) / (width / (2 * Z))), int((~defined).sum()),
                float(study.analytic[:, row, column].mean()))


def interval_used(method: str, cell: Cell) -> str:
    if method == "analytic":
        if cell.analytic_share == 1.0:
            return "analytic"
        return "bootstrap (fallback)" if cell.analytic_share == 0.0 else f"analytic in {cell.analytic_share:.0%}"
    return {"percentile": "bootstrap percentile", "bca": "bootstrap BCa", "naive": "naive, percentile"}[method]


def _number(value: float) -> str:
    return f"{value:+.4g}" if value else "0"


def outside(method: str, cell: Cell) -> bool:
    """Whether a matched cell's coverage misses the acceptance range of 93–97% (naive cells are not judged)."""
    return method != "naive" and not 0.93 <= cell.coverage <= 0.97


def table(study: Study) -> list[str]:
    lines = ["| metric | method | interval | true delta | mean error (± SE) | coverage (± MC SE) | mean width "
             "| spread / SE |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for metric in study.metrics:
        for method in study.methods:
            cell = summarize(study, method, metric)
            coverage = f"{cell.coverage:.1%}"
            missing = f", {cell.missing} n/a" if cell.missing else ""
            lines.append(
                f"| {metric} | {method} | {interval_used(method, cell)} | {_number(cell.true_delta)} "
                f"| {cell.mean_error:+.3g} (± {cell.error_se:.2g}) "
                f"| {f'**{coverage}**' if outside(method, cell) else coverage} (± {cell.coverage_se:.1%}{missing}) "
                f"| {cell.width:.4g} | {cell.spread_ratio:.2f} |")
    return lines


def _names(text: str, choices: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Comma-separated names or metric names (``ltv`` selects both LTVs) among ``choices``."""
    chosen = tuple(choice for choice in choices
                   if any(choice == name or choice.split(":")[0] == name for name in text.split(",")))
    if not chosen:
        raise SystemExit(f"no {what} among {text!r}; choose from {', '.join(choices)}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=500)
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--accounts", type=int, default=3000, help="accounts per cohort")
    parser.add_argument("--jobs", type=int, default=2, help="processes running simulations")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--metrics", default=",".join(METRICS), help="metric keys or names, comma-separated")
    parser.add_argument("--check-truth", action="store_true", help="first compare the truth with a Monte Carlo")
    parser.add_argument("--save", help="also write every simulation's truth and estimates to this .npz file")
    arguments = parser.parse_args()
    scenarios = _names(arguments.scenarios, tuple(SCENARIOS), "scenario")
    methods = _names(arguments.methods, tuple(METHODS), "method")
    metrics = _names(arguments.metrics, tuple(METRICS), "metric")
    print(f"$ python {' '.join(sys.argv)}")
    if arguments.check_truth:
        check_truth()
    started = time.perf_counter()
    studies = []
    for scenario in scenarios:
        began = time.perf_counter()
        study = run(scenario, arguments.simulations, arguments.replicates, arguments.accounts, methods, metrics,
                    arguments.jobs)
        studies.append(study)
        print(f"\nScenario {scenario}: {arguments.simulations} simulations of two cohorts of {arguments.accounts:,} "
              f"accounts, {arguments.replicates} replicates, 95% intervals ({time.perf_counter() - began:.0f} s)\n")
        print("\n".join(table(study)), flush=True)
    missed = [f"{study.scenario} × {metric} × {method} ({summarize(study, method, metric).coverage:.1%})"
              for study in studies for metric in study.metrics for method in study.methods
              if outside(method, summarize(study, method, metric))]
    print(f"\nMatched cells with coverage outside 93–97% (bold): {'; '.join(missed) or 'none'}.")
    print(f"Wall time {time.perf_counter() - started:.0f} s with --jobs {arguments.jobs}.")
    if arguments.save:
        np.savez_compressed(arguments.save, **{f"{study.scenario}_{name}": getattr(study, name) for study in studies
                                               for name in ("truth", "estimates", "analytic")},
                            methods=np.array(methods), metrics=np.array(metrics))


if __name__ == "__main__":
    main()
