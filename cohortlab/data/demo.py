"""The embedded demo dataset: a B2B SaaS funnel with planted effects and confounding.

Every number the generator uses is a module constant below, documented in
``docs/demo.md``. Outcomes are produced by small pure functions of
``(rng, attributes, treatment flags)`` — :func:`draw_entrants`, :func:`draw_funnel`,
:func:`advance_probabilities`, :func:`touch_cost`, :func:`draw_revenue`,
:func:`mrr_paths` — so that :mod:`cohortlab.data.demo_truth` computes the exact
population truth from the very same code that :func:`generate` uses.

Random draws are separated from the treatment: a ``*Draws`` value holds the noise of
an account (uniforms, delays, touch counts), and the outcome under either treatment
flag is a deterministic function of it. That lets the truth evaluate one simulated
population under treatment and under control with common random numbers.

Conventions: days are integer offsets from :data:`DEMO_START`; tenure month 0 is the
acquisition month; MRR is in dollars per month; codes index the label tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "DEMO_AS_OF", "DEMO_START", "Entrants", "FunnelDraws", "RevenueDraws", "advance_probabilities",
    "draw_entrants", "draw_funnel", "draw_milestone_days", "draw_revenue", "generate",
    "guided_probability", "monthly_hazard", "mrr_paths", "orchestrated_probability",
    "reach_probabilities", "reached_stages", "touch_cost",
]

DEMO_START: date = date(2023, 10, 1)
DEMO_AS_OF: date = date(2026, 9, 30)  # data cutoff; September 2026 is the last complete month
ENTRY_GROWTH = 0.6  # daily intake rises linearly: the last day gets 1.6x the first day's

# --- accounts -----------------------------------------------------------------------
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = np.array([0.60, 0.30, 0.10])
VERTICALS = ("fintech", "healthcare", "retail", "manufacturing", "software", "education")
VERTICAL_SHARE = np.array([0.20, 0.15, 0.15, 0.15, 0.25, 0.10])
PERSONAS = ("founder", "marketing", "sales", "revops", "it")
PERSONA_SHARE = np.array([  # rows: segment
    [0.35, 0.30, 0.15, 0.10, 0.10],
    [0.08, 0.35, 0.22, 0.20, 0.15],
    [0.02, 0.30, 0.20, 0.23, 0.25],
])
CHANNELS = ("paid_search", "paid_social", "content", "outbound", "partner", "events")
CHANNEL_SHARE = np.array([  # rows: segment; Enterprise leans to outbound and events
    [0.25, 0.15, 0.20, 0.15, 0.10, 0.15],
    [0.25, 0.15, 0.20, 0.15, 0.10, 0.15],
    [0.10, 0.10, 0.10, 0.35, 0.10, 0.25],
])
EMPLOYEES_MEDIAN = np.array([20.0, 250.0, 3000.0])
EMPLOYEES_SIGMA = np.array([0.7, 0.6, 0.7])  # log-scale; the segments' ranges overlap

# --- treatment assignment (the confounding) -----------------------------------------
ONBOARDING_FLOWS = ("classic", "guided_v2")
GUIDED_START = date(2025, 3, 1)
GUIDED_PROB = np.array([0.25, 0.75, 0.90])  # by segment, for entrants from GUIDED_START on
JOURNEYS = ("standard", "orchestrated")
ORCHESTRATED_START = date(2025, 10, 1)
ORCHESTRATED_PROB = np.array([0.3, 0.3, 0.8, 0.2, 0.8, 0.7])  # by channel, from ORCHESTRATED_START on

# --- funnel -------------------------------------------------------------------------
STAGES = ("lead", "qualified", "sales_accepted", "opportunity", "customer")
BASE_ADVANCE_PROB = np.array([0.70, 0.75, 0.80, 0.45])  # stage k -> k+1
SEGMENT_ADVANCE_MULT = np.array([
    [1.00, 1.00, 1.00, 1.05],
    [1.00, 1.00, 0.95, 0.85],
    [1.05, 1.00, 0.85, 0.55],
])
CHANNEL_ADVANCE_MULT = np.array([
    [1.00, 1.00, 1.00, 1.00],  # paid_search
    [0.80, 0.90, 0.95, 0.90],  # paid_social
    [0.90, 0.95, 1.00, 1.00],  # content
    [0.85, 0.95, 0.95, 0.95],  # outbound
    [1.15, 1.05, 1.05, 1.20],  # partner
    [1.05, 1.05, 1.00, 1.05],  # events
])
PERSONA_QUALIFY_MULT = np.array([1.05, 1.00, 1.00, 1.05, 0.90])  # lead -> qualified only
VERTICAL_WIN_MULT = np.array([1.00, 0.90, 1.00, 0.95, 1.10, 0.95])  # opportunity -> customer only
ORCHESTRATED_ADVANCE_MULT = np.array([1.00, 1.15, 1.15, 1.00])
ADVANCE_PROB_CAP = 0.97
DELAY_MEAN_DAYS = np.array([  # rows: segment; gamma-distributed stage delays
    [6.0, 8.0, 10.0, 20.0],
    [8.0, 12.0, 15.0, 30.0],
    [10.0, 15.0, 20.0, 40.0],
])
DELAY_SHAPE = np.array([1.5, 2.0, 2.0, 2.5])
DELAY_CAP_DAYS = np.array([25, 30, 35, 60])  # sums to 150: lead -> customer within 150 days

# --- touches and spend --------------------------------------------------------------
CAMPAIGNS = ("search_brand", "search_generic", "linkedin_abm", "meta_retarget", "webinar",
             "ebook", "sdr_sequence", "partner_referral", "field_event", "nurture_email")
CAMPAIGN_CHANNEL = ("paid_search", "paid_search", "paid_social", "paid_social", "content",
                    "content", "outbound", "partner", "events", "email")
UNIT_COST = np.array([25.0, 45.0, 60.0, 20.0, 35.0, 12.0, 70.0, 120.0, 180.0, 3.0])  # $ per touch
NURTURE_CAMPAIGN = 9
CHANNEL_CAMPAIGN_SLOTS = np.array([[0, 1], [2, 3], [4, 5], [6, 6], [7, 7], [8, 8]])
CHANNEL_SLOT_SHARE = np.array([[0.4, 0.6], [0.5, 0.5], [0.4, 0.6], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
TOUCH_RATE = np.array([5.25, 6.7, 6.7, 8.0, 1.35, 1.7])  # mean touches per stage interval, by channel
TOUCH_STAGE_MULT = np.array([1.0, 1.0, 1.25, 1.5])  # later stages get more sales touches
TOUCH_SEGMENT_MULT = np.array([1.0, 2.0, 4.0])
STALL_TOUCH_DAYS = 60  # touches continue this long after the last stage reached
NURTURE_TOUCHES_MEAN = 6.0  # orchestrated journey only
DAY_NOISE_SHAPE = 50.0  # spend per (campaign, day) = touches x unit cost x Gamma(50, 1/50)
BRAND_CAMPAIGN, BRAND_CHANNEL, BRAND_MONTHLY_SPEND = "brand_awareness", "brand", 20_000.0

# --- revenue ------------------------------------------------------------------------
MRR_MEDIAN = np.array([450.0, 2_800.0, 14_000.0])
MRR_SIGMA = 0.45
MRR_EMPLOYEE_ELASTICITY = 0.25  # MRR ~ (employees / segment median) ** 0.25
BASE_HAZARD = np.array([0.030, 0.015, 0.007])  # monthly churn, long run
EARLY_HAZARD = np.array([0.06, 0.03, 0.015])  # extra in tenure months 1..EARLY_MONTHS
EARLY_MONTHS = 3
GUIDED_EARLY_HAZARD_MULT = 0.4
GUIDED_BASE_HAZARD_MULT = 0.9
P_EXPANSION = (0.03, 0.05)  # (classic, guided)
P_CONTRACTION = (0.015, 0.015)
EXPANSION_RANGE = (0.05, 0.35)
CONTRACTION_RANGE = (0.05, 0.30)

# --- milestones ---------------------------------------------------------------------
MILESTONES = ("activated", "first_value")
ACTIVATION_MEAN_DAYS = (8.0, 4.0)  # (classic, guided), exponential
FIRST_VALUE_MEAN_DAYS = (45.0, 25.0)  # gamma
FIRST_VALUE_SHAPE = 2.0
NEVER_FIRST_VALUE = (0.15, 0.08)


@dataclass(frozen=True)
class Entrants:
    """Funnel entrants' attributes as codes into the label tuples."""

    segment: np.ndarray
    vertical: np.ndarray
    persona: np.ndarray
    channel: np.ndarray
    employees: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)

    def take(self, index) -> Entrants:
        """The entrants at ``index`` (a mask, slice or index array)."""
        return Entrants(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Entrants]) -> Entrants:
        fields = Entrants.__dataclass_fields__
        return Entrants(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass(frozen=True)
class FunnelDraws:
    """An entrant's funnel noise, independent of the treatments.

    ``advance_u[:, k] < p`` advances stage k to k+1; ``touches[:, k, j]`` counts touches
    of campaign slot j while the account sits in stage k (used only if it gets there).
    """

    advance_u: np.ndarray  # (n, 4) uniforms
    delay_days: np.ndarray  # (n, 4) days from stage k to k+1
    touches: np.ndarray  # (n, 4, 2) counts
    source_slot: np.ndarray  # (n,) campaign slot of the lead-creating touch
    nurture: np.ndarray  # (n,) nurture_email touches, sent only on the orchestrated journey


@dataclass(frozen=True)
class RevenueDraws:
    """A customer's revenue noise for tenure months 0..months-1."""

    start_mrr: np.ndarray  # (n,)
    churn_u: np.ndarray  # (n, months)
    move_u: np.ndarray  # (n, months)
    size_u: np.ndarray  # (n, months)


def _categorical_rows(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One draw per entrant from the categorical distribution ``table[group]``."""
    u = rng.random(len(group))
    codes = np.empty(len(group), np.int64)
    for g, probs in enumerate(table):  # a loop over the few groups, not the entrants
        members = group == g
        codes[members] = np.searchsorted(np.cumsum(probs), u[members], side="right")
    return np.minimum(codes, table.shape[1] - 1)


def draw_entrants(rng: np.random.Generator, n: int) -> Entrants:
    """Draw ``n`` entrants from the population covariate mix (independent of entry date)."""
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
    vertical = rng.choice(len(VERTICALS), size=n, p=VERTICAL_SHARE)
    persona = _categorical_rows(rng, PERSONA_SHARE, segment)
    channel = _categorical_rows(rng, CHANNEL_SHARE, segment)
    log_employees = np.log(EMPLOYEES_MEDIAN[segment]) + EMPLOYEES_SIGMA[segment] * rng.standard_normal(n)
    employees = np.maximum(1, np.rint(np.exp(log_employees))).astype(np.int64)
    return Entrants(segment, vertical, persona, channel, employees)


def guided_probability(entrants: Entrants) -> np.ndarray:
    """P(onboarding_flow = guided_v2) for an entrant on or after GUIDED_START."""
    return GUIDED_PROB[entrants.segment]


def orchestrated_probability(entrants: Entrants) -> np.ndarray:
    """P(journey = orchestrated) for an entrant on or after ORCHESTRATED_START."""
    return ORCHESTRATED_PROB[entrants.channel]


def advance_probabilities(entrants: Entrants, orchestrated: np.ndarray | bool) -> np.ndarray:
    """P(stage k -> k+1), shape (n, 4); the orchestrated journey lifts the middle two."""
    p = (BASE_ADVANCE_PROB * SEGMENT_ADVANCE_MULT[entrants.segment]
         * CHANNEL_ADVANCE_MULT[entrants.channel])
    p[:, 0] *= PERSONA_QUALIFY_MULT[entrants.persona]
    p[:, 3] *= VERTICAL_WIN_MULT[entrants.vertical]
    lift = np.where(np.asarray(orchestrated, dtype=bool).reshape(-1, 1), ORCHESTRATED_ADVANCE_MULT, 1.0)
    return np.minimum(p * lift, ADVANCE_PROB_CAP)


def reach_probabilities(advance: np.ndarray) -> np.ndarray:
    """P(reached stage k), shape (n, 5), from advance probabilities (n, 4)."""
    return np.hstack([np.ones((len(advance), 1)), np.cumprod(advance, axis=1)])


def reached_stages(draws: FunnelDraws, advance: np.ndarray) -> np.ndarray:
    """Whether each stage is reached, shape (n, 5) bool."""
    return np.hstack([np.ones((len(advance), 1), bool),
                      np.cumprod(draws.advance_u < advance, axis=1).astype(bool)])


def draw_funnel(rng: np.random.Generator, entrants: Entrants) -> FunnelDraws:
    """Draw the funnel noise: advance uniforms, stage delays, touch counts."""
    n = len(entrants)
    advance_u = rng.random((n, 4))
    mean = DELAY_MEAN_DAYS[entrants.segment]
    delay = rng.gamma(DELAY_SHAPE, mean / DELAY_SHAPE)
    delay_days = np.clip(np.ceil(delay), 1, DELAY_CAP_DAYS).astype(np.int64)
    rate = (TOUCH_SEGMENT_MULT[:, None, None, None] * TOUCH_RATE[None, :, None, None]
            * TOUCH_STAGE_MULT[None, None, :, None] * CHANNEL_SLOT_SHARE[None, :, None, :])
    touches = rng.poisson(rate[entrants.segment, entrants.channel])  # (n, 4, 2)
    source_slot = (rng.random(n) >= CHANNEL_SLOT_SHARE[entrants.channel, 0]).astype(np.int64)
    nurture = rng.poisson(NURTURE_TOUCHES_MEAN, size=n)
    return FunnelDraws(advance_u, delay_days, touches, source_slot, nurture)


def touch_cost(entrants: Entrants, draws: FunnelDraws, reached: np.ndarray,
               orchestrated: np.ndarray | bool) -> np.ndarray:
    """Σ unit cost over an entrant's touches: its expected allocated spend, in dollars.

    ``reached`` (n, 5) is either the 0/1 outcome or the probability of reaching each
    stage; with probabilities the result is the expectation over funnel progression.
    Stage k's touches are sent only while the account is at stage k (k < 4).
    """
    slot_cost = UNIT_COST[CHANNEL_CAMPAIGN_SLOTS[entrants.channel]]  # (n, 2)
    source = np.take_along_axis(slot_cost, draws.source_slot[:, None], axis=1)[:, 0]
    by_stage = (draws.touches * slot_cost[:, None, :]).sum(axis=2)  # (n, 4)
    nurture = np.asarray(orchestrated, dtype=bool) * draws.nurture * UNIT_COST[NURTURE_CAMPAIGN]
    return source + (reached[:, :4] * by_stage).sum(axis=1) + nurture


def draw_revenue(rng: np.random.Generator, entrants: Entrants, months: int) -> RevenueDraws:
    """Draw starting MRR (lognormal by segment, rising with employees) and monthly noise."""
    n = len(entrants)
    seg = entrants.segment
    size = (entrants.employees / EMPLOYEES_MEDIAN[seg]) ** MRR_EMPLOYEE_ELASTICITY
    start_mrr = MRR_MEDIAN[seg] * size * np.exp(MRR_SIGMA * rng.standard_normal(n))
    uniforms = rng.random((3, n, months), dtype=np.float32)  # float32: ample resolution, half the memory
    return RevenueDraws(start_mrr, uniforms[0], uniforms[1], uniforms[2])


def monthly_hazard(segment: np.ndarray, guided: np.ndarray | bool, tenure_month: int) -> np.ndarray:
    """P(churn in tenure month t | active in t-1), t >= 1."""
    guided = np.asarray(guided, dtype=bool)
    hazard = BASE_HAZARD[segment] * np.where(guided, GUIDED_BASE_HAZARD_MULT, 1.0)
    if 1 <= tenure_month <= EARLY_MONTHS:
        hazard = hazard + EARLY_HAZARD[segment] * np.where(guided, GUIDED_EARLY_HAZARD_MULT, 1.0)
    return hazard


def mrr_paths(draws: RevenueDraws, entrants: Entrants, guided: np.ndarray | bool) -> np.ndarray:
    """MRR in tenure months 0..months-1, shape (n, months); 0 from the churn month on.

    Each month after the first: churn with the hazard, else expand with p_exp by
    U(5%, 35%), else contract with p_con by U(5%, 30%), else stay.
    """
    n, months = draws.churn_u.shape
    guided = np.broadcast_to(np.asarray(guided, dtype=bool), (n,))
    p_exp = np.where(guided, P_EXPANSION[1], P_EXPANSION[0])
    p_move = p_exp + np.where(guided, P_CONTRACTION[1], P_CONTRACTION[0])
    hazards = {t: monthly_hazard(entrants.segment, guided, t) for t in (1, EARLY_MONTHS + 1)}
    exp_low, exp_span = EXPANSION_RANGE[0], EXPANSION_RANGE[1] - EXPANSION_RANGE[0]
    con_low, con_span = CONTRACTION_RANGE[0], CONTRACTION_RANGE[1] - CONTRACTION_RANGE[0]
    paths = np.zeros((n, months))
    mrr = draws.start_mrr.copy()
    paths[:, 0] = mrr
    alive = np.ones(n, bool)
    for t in range(1, months):
        alive &= draws.churn_u[:, t] >= hazards[1 if t <= EARLY_MONTHS else EARLY_MONTHS + 1]
        move, size = draws.move_u[:, t], draws.size_u[:, t]
        expand = move < p_exp
        contract = ~expand & (move < p_move)
        mrr *= 1.0 + expand * (exp_low + exp_span * size) - contract * (con_low + con_span * size)
        paths[:, t] = mrr * alive
    return paths


def draw_milestone_days(rng: np.random.Generator, guided: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days from acquisition to activated and to first_value (-1: never reached)."""
    n = len(guided)
    g = guided.astype(np.int64)
    activated = np.floor(rng.exponential(np.asarray(ACTIVATION_MEAN_DAYS)[g])).astype(np.int64)
    mean = np.asarray(FIRST_VALUE_MEAN_DAYS)[g]
    first_value = np.ceil(rng.gamma(FIRST_VALUE_SHAPE, mean / FIRST_VALUE_SHAPE)).astype(np.int64)
    first_value = np.maximum(first_value, activated)  # value comes after activation
    never = rng.random(n) < np.asarray(NEVER_FIRST_VALUE)[g]
    return activated, np.where(never, -1, first_value)


def _day(d: date) -> int:
    return (d - DEMO_START).days


def _dates(days: np.ndarray) -> np.ndarray:
    return (np.datetime64(DEMO_START, "D") + days).astype("datetime64[ns]")


def _uniform_days(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """A uniform integer day in [start, end] for each pair."""
    return start + np.floor(rng.random(len(start)) * (end - start + 1)).astype(np.int64)


def _entry_days(rng: np.random.Generator, n: int) -> np.ndarray:
    n_days = _day(DEMO_AS_OF) + 1
    weight = 1.0 + ENTRY_GROWTH * np.arange(n_days) / (n_days - 1)
    return np.sort(rng.choice(n_days, size=n, p=weight / weight.sum()))


def _account_ids(n: int) -> np.ndarray:
    width = max(6, len(str(n)))
    return np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _labels(labels, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A string column of ``labels[codes]``, built in Arrow (numpy unicode is slow to convert)."""
    return pd.array(pa.array(np.asarray(labels)).take(pa.array(codes)), dtype="str")


def _touch_rows(rng, entrants, draws, reached, stage_day, orchestrated, as_of_day):
    """Touch rows (account index, day, campaign) for every entrant, before as_of."""
    n = len(entrants)
    idx = np.arange(n)
    campaigns = CHANNEL_CAMPAIGN_SLOTS[entrants.channel]  # (n, 2)
    last = reached.sum(axis=1) - 1
    last_day = stage_day[idx, last]
    won = reached[:, 4]
    funnel_end = np.where(won, stage_day[:, 4], last_day + STALL_TOUCH_DAYS)
    parts = [(idx, stage_day[:, 0], campaigns[idx, draws.source_slot])]
    for k in range(4):
        end = np.where(reached[:, k + 1], stage_day[:, k + 1], stage_day[:, k] + STALL_TOUCH_DAYS)
        for j in range(2):
            count = np.where(reached[:, k], draws.touches[:, k, j], 0)
            who = np.repeat(idx, count)
            parts.append((who, _uniform_days(rng, stage_day[who, k], end[who]), campaigns[who, j]))
    who = np.repeat(idx, np.where(orchestrated, draws.nurture, 0))
    parts.append((who, _uniform_days(rng, stage_day[who, 0], funnel_end[who]),
                  np.full(len(who), NURTURE_CAMPAIGN)))
    account, day, campaign = (np.concatenate(col) for col in zip(*parts))
    keep = day <= as_of_day
    # Sort by (account, day, campaign) through one packed integer key.
    n_days, n_campaigns = as_of_day + 1, len(CAMPAIGNS)
    key = np.sort((account[keep] * n_days + day[keep]) * n_campaigns + campaign[keep])
    return key // (n_days * n_campaigns), key // n_campaigns % n_days, key % n_campaigns


def _spend(rng, touch_day, touch_campaign, as_of_day) -> pd.DataFrame:
    """One spend row per (campaign, day) with touches, plus monthly unattributable brand spend."""
    n_days = as_of_day + 1
    key, n_touches = np.unique(touch_campaign * n_days + touch_day, return_counts=True)
    campaign, day = key // n_days, key % n_days
    noise = rng.gamma(DAY_NOISE_SHAPE, 1.0 / DAY_NOISE_SHAPE, size=len(key))
    amount = np.round(n_touches * UNIT_COST[campaign] * noise, 2)
    months = np.arange(np.datetime64(DEMO_START, "M"), np.datetime64(DEMO_AS_OF, "M") + 1)
    brand_day = (months.astype("datetime64[D]") - np.datetime64(DEMO_START, "D")).astype(np.int64)
    campaign = np.concatenate([campaign, np.full(len(brand_day), len(CAMPAIGNS))])
    day = np.concatenate([day, brand_day])
    amount = np.concatenate([amount, np.full(len(brand_day), BRAND_MONTHLY_SPEND)])
    order = np.lexsort((campaign, day))
    return pd.DataFrame({"date": _dates(day[order]),
                         "campaign": _labels(CAMPAIGNS + (BRAND_CAMPAIGN,), campaign[order]),
                         "channel": _labels(CAMPAIGN_CHANNEL + (BRAND_CHANNEL,), campaign[order]),
                         "amount": amount[order]})


def generate(seed: int, entrants: int = 20_000) -> dict[str, pd.DataFrame]:
    """Generate the demo dataset (the data contract's tables, docs/data.md) for ``entrants`` funnel entrants.

    The same seed gives byte-identical tables. Only events on or before
    :data:`DEMO_AS_OF` appear; revenue runs through September 2026. See
    ``docs/demo.md`` for the parameters, the planted effects and the confounding.

    Returns
    -------
    dict with keys ``accounts``, ``stages``, ``revenue``, ``spend``, ``touches``,
    ``milestones``, each a DataFrame sorted deterministically.
    """
    rng = np.random.default_rng(seed)
    n = int(entrants)
    as_of_day = _day(DEMO_AS_OF)
    created_day = _entry_days(rng, n)
    people = draw_entrants(rng, n)
    guided = (created_day >= _day(GUIDED_START)) & (rng.random(n) < guided_probability(people))
    orchestrated = ((created_day >= _day(ORCHESTRATED_START))
                    & (rng.random(n) < orchestrated_probability(people)))
    draws = draw_funnel(rng, people)
    reached = reached_stages(draws, advance_probabilities(people, orchestrated))
    stage_day = created_day[:, None] + np.hstack([np.zeros((n, 1), np.int64),
                                                  np.cumsum(draws.delay_days, axis=1)])
    ids = _account_ids(n)

    accounts = pd.DataFrame({
        "account_id": _labels(ids, np.arange(n)),
        "created_at": _dates(created_day),
        "segment": _labels(SEGMENTS, people.segment),
        "vertical": _labels(VERTICALS, people.vertical),
        "persona": _labels(PERSONAS, people.persona),
        "channel": _labels(CHANNELS, people.channel),
        "employees": people.employees,
        "onboarding_flow": _labels(ONBOARDING_FLOWS, guided.astype(np.int64)),
        "journey": _labels(JOURNEYS, orchestrated.astype(np.int64)),
    })

    shown = reached & (stage_day <= as_of_day)
    acct, stage = np.nonzero(shown)  # row-major: by account, then stage order
    stages = pd.DataFrame({"account_id": _labels(ids, acct), "stage": _labels(STAGES, stage),
                           "at": _dates(stage_day[acct, stage])})

    t_acct, t_day, t_campaign = _touch_rows(rng, people, draws, reached, stage_day,
                                            orchestrated, as_of_day)
    touches = pd.DataFrame({"account_id": _labels(ids, t_acct), "at": _dates(t_day),
                            "campaign": _labels(CAMPAIGNS, t_campaign),
                            "channel": _labels(CAMPAIGN_CHANNEL, t_campaign)})
    spend = _spend(rng, t_day, t_campaign, as_of_day)

    # Revenue: customers won by as_of, tenure months through September 2026.
    cust = np.flatnonzero(shown[:, 4])
    won_day = stage_day[cust, 4]
    won_month = (_dates(won_day).astype("datetime64[M]") - np.datetime64(DEMO_START, "M")).astype(np.int64)
    last_month = (np.datetime64(DEMO_AS_OF, "M") - np.datetime64(DEMO_START, "M")).astype(np.int64)
    observed = last_month - won_month + 1
    customers = people.take(cust)
    months = int(observed.max()) if len(cust) else 1
    paths = mrr_paths(draw_revenue(rng, customers, months), customers, guided[cust])
    row, tenure = np.nonzero((paths > 0) & (np.arange(months) < observed[:, None]))
    month = (np.datetime64(DEMO_START, "M") + won_month[row] + tenure).astype("datetime64[D]")
    revenue = pd.DataFrame({"account_id": _labels(ids, cust[row]), "month": month.astype("datetime64[ns]"),
                            "amount": np.round(paths[row, tenure], 2)})

    activated, first_value = draw_milestone_days(rng, guided[cust])
    m_acct = np.concatenate([cust, cust])
    m_kind = np.repeat([0, 1], len(cust))
    m_day = np.concatenate([won_day + activated, np.where(first_value < 0, -1, won_day + first_value)])
    keep = (np.concatenate([np.ones(len(cust), bool), first_value >= 0])) & (m_day <= as_of_day)
    m_acct, m_kind, m_day = m_acct[keep], m_kind[keep], m_day[keep]
    order = np.lexsort((m_kind, m_day, m_acct))
    milestones = pd.DataFrame({"account_id": _labels(ids, m_acct[order]),
                               "milestone": _labels(MILESTONES, m_kind[order]),
                               "at": _dates(m_day[order])})

    return {"accounts": accounts, "stages": stages, "revenue": revenue, "spend": spend,
            "touches": touches, "milestones": milestones}
