"""A project at the reference scale (SPEC §10), written as Parquet: the data behind `benchmarks/run.py`.

1,000,000 funnel entrants over 36 months (October 2023 to September 2026, intake growing
by 60% across the period), about 30% of them customers, revenue by month from each
customer's acquisition month to as_of on one to three revenue lines (plan, seats,
add-on; about 8,000,000 rows), about 5,000,000 touches on 24 campaigns of 6 channels,
spend for each (campaign, day) with touches, and two product milestones. Accounts carry
segment, channel, vertical and employees; from March 2025 on, some of them (more in larger
segments) go through a guided onboarding flow that raises conversion to customer a little
and lowers churn: the treatment of the benchmark experiment.

The project folder holds ``data/*.parquet``, ``configs/cohortlab.yaml``,
``experiments/scale.yaml`` and ``experiments/scale-analytic.yaml`` (its metrics with an
analytic form): the treatment is every guided account, the baseline every classic one, so
the panel holds all entrants (the heaviest comparison the data allows),
matched by CEM (exact on segment and channel, employees in four bins); ten metrics as in the
SPEC §4 example, and a breakdown by segment.

    python benchmarks/scale_data.py DIR                      # 1,000,000 entrants
    python benchmarks/scale_data.py DIR --entrants 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START, AS_OF = dt.date(2023, 10, 1), dt.date(2026, 9, 30)
GUIDED_FROM = dt.date(2025, 3, 1)
INTAKE_GROWTH = 0.6
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = (0.6, 0.3, 0.1)
EMPLOYEES_MEDIAN = np.array([20.0, 250.0, 3000.0])
GUIDED_SHARE = np.array([0.3, 0.6, 0.8])  # by segment, among entrants from GUIDED_FROM on
CHANNELS = ("paid_search", "paid_social", "content", "outbound", "partner", "events")
UNIT_COST = np.array([45.0, 35.0, 12.0, 60.0, 25.0, 80.0])  # dollars per touch, by channel
CAMPAIGNS_PER_CHANNEL = 4
VERTICALS = ("fintech", "healthcare", "retail", "manufacturing", "software", "education")
STAGES = ("lead", "qualified", "opportunity", "customer")
ADVANCE = np.array([0.72, 0.68, 0.66])  # lead -> qualified -> opportunity -> customer
GUIDED_WIN_LIFT = 1.05
DELAY_MEAN_DAYS = np.array([12.0, 25.0, 35.0])
EXTRA_TOUCHES = 4.0  # Poisson mean of touches beyond the first
STALL_DAYS = 30  # an account that stops advancing is still touched for this many days
MRR_MEDIAN = np.array([150.0, 900.0, 4000.0])  # per revenue line, by segment
LINE_SHARE = (0.3, 0.3, 0.4)  # customers with one, two and three revenue lines
MONTHLY_CHURN = np.array([0.030, 0.015, 0.008])
GUIDED_CHURN = 0.8
MILESTONE_DAYS = {"activated": 10.0, "first_value": 30.0}  # mean days after acquisition
FIRST_VALUE_SHARE = 0.8

CONFIG = """\
source: {kind: files, path: ../data}
as_of: 2026-09-30
journey: {stages: [lead, qualified, opportunity, customer], won: customer}
attribution: {model: linear, paid_channels: [paid_search, paid_social]}
economics: {gross_margin: 0.78, discount_rate: 0.10, horizon_months: 36}
defaults: {confidence: 0.95, replicates: 1000, seed: 7, correction: holm, min_cohort: 30, max_smd: 0.1}
"""

EXPERIMENT = """\
name: scale
title: Guided onboarding at the reference scale
treatment: {where: "onboarding_flow = 'guided'", entered: {from: 2025-03-01, to: 2026-09-30}}
baseline:  {where: "onboarding_flow = 'classic'", entered: {from: 2023-10-01, to: 2026-09-30}}
match: {method: cem, on: [segment, channel], coarsen: {employees: [0, 50, 250, 1000]}}
metrics:
  - cac
  - ltv
  - {metric: ltv, basis: earned, months: 12}
  - ltv_cac
  - payback
  - {metric: nrr, months: 12}
  - {metric: retention, months: 3}
  - {metric: time_to_value, milestone: first_value}
  - {metric: cost_per, stage: opportunity}
  - {metric: conversion, from: qualified, to: customer}
primary: ltv
breakdown: [segment]
"""

# the metrics of EXPERIMENT that have an analytic form (SPEC §7): with --ci analytic nothing is resampled
EXPERIMENT_ANALYTIC = """\
name: scale-analytic
title: Guided onboarding at the reference scale, metrics with an analytic form
treatment: {where: "onboarding_flow = 'guided'", entered: {from: 2025-03-01, to: 2026-09-30}}
baseline:  {where: "onboarding_flow = 'classic'", entered: {from: 2023-10-01, to: 2026-09-30}}
match: {method: cem, on: [segment, channel], coarsen: {employees: [0, 50, 250, 1000]}}
metrics:
  - cac
  - {metric: ltv, basis: earned, months: 12}
  - {metric: nrr, months: 12}
  - {metric: retention, months: 3}
  - {metric: cost_per, stage: opportunity}
  - {metric: conversion, from: qualified, to: customer}
primary: cac
breakdown: [segment]
"""
FILES = {"configs/cohortlab.yaml": CONFIG, "experiments/scale.yaml": EXPERIMENT,
         "experiments/scale-analytic.yaml": EXPERIMENT_ANALYTIC}


def _day(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.date32())


def _labels(labels, codes: np.ndarray) -> pa.Array:
    return pa.array(list(labels)).take(pa.array(codes))


def _write(folder: Path, name: str, columns: dict) -> int:
    table = pa.table(columns)
    pq.write_table(table, folder / f"{name}.parquet", row_group_size=1_000_000)
    return table.num_rows


def generate(project: Path, entrants: int, seed: int = 7) -> dict[str, int]:
    """Write the project into ``project`` (data, config, experiment); return each table's row count."""
    rng = np.random.default_rng(seed)
    n = entrants
    start, as_of = _day(START), _day(AS_OF)
    days = as_of - start + 1
    intake = 1.0 + INTAKE_GROWTH * np.arange(days) / (days - 1)
    created = np.sort(start + rng.choice(days, size=n, p=intake / intake.sum()))
    segment = rng.choice(3, size=n, p=SEGMENT_SHARE)
    channel = rng.integers(0, len(CHANNELS), n)
    vertical = rng.integers(0, len(VERTICALS), n)
    employees = np.maximum(1, np.round(EMPLOYEES_MEDIAN[segment] * rng.lognormal(0.0, 0.7, n))).astype(np.int64)
    guided = (created >= _day(GUIDED_FROM)) & (rng.random(n) < GUIDED_SHARE[segment])

    # the funnel: stage k+1 reached with ADVANCE[k], after an exponential delay
    advance = np.tile(ADVANCE, (n, 1))
    advance[:, 2] = np.minimum(advance[:, 2] * np.where(guided, GUIDED_WIN_LIFT, 1.0), 1.0)
    passed = np.cumprod(rng.random((n, 3)) < advance, axis=1).astype(bool)
    stage_day = created[:, None] + np.hstack([np.zeros((n, 1), np.int64),
                                              np.cumsum(np.ceil(rng.exponential(DELAY_MEAN_DAYS, (n, 3))), axis=1)
                                              .astype(np.int64)])
    reached = np.hstack([np.ones((n, 1), bool), passed]) & (stage_day <= as_of)
    ids = np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    folder = project / "data"
    folder.mkdir(parents=True, exist_ok=True)
    rows = {"accounts": _write(folder, "accounts", {
        "account_id": pa.array(ids), "created_at": _dates(created), "segment": _labels(SEGMENTS, segment),
        "channel": _labels(CHANNELS, channel), "vertical": _labels(VERTICALS, vertical), "employees": employees,
        "onboarding_flow": _labels(("classic", "guided"), guided.astype(np.int64))})}
    account, stage = np.nonzero(reached)
    rows["stages"] = _write(folder, "stages", {"account_id": pa.array(ids[account]),
                                               "stage": _labels(STAGES, stage), "at": _dates(stage_day[account, stage])})

    # touches: the first on entry, the rest until the account is won or stalls
    last = reached.sum(axis=1) - 1
    won = reached[:, 3]
    end = np.minimum(np.where(won, stage_day[:, 3], stage_day[np.arange(n), last] + STALL_DAYS), as_of)
    extra = rng.poisson(EXTRA_TOUCHES, n)
    who = np.repeat(np.arange(n), extra)
    t_account = np.concatenate([np.arange(n), who])
    t_day = np.concatenate([created, created[who] + np.floor(rng.random(len(who)) * (end[who] - created[who] + 1))
                            .astype(np.int64)])
    own = rng.random(len(t_account)) < 0.7  # most touches come from the account's own channel
    t_channel = np.where(own, channel[t_account], rng.integers(0, len(CHANNELS), len(t_account)))
    t_campaign = t_channel * CAMPAIGNS_PER_CHANNEL + rng.integers(0, CAMPAIGNS_PER_CHANNEL, len(t_account))
    order = np.lexsort((t_campaign, t_day, t_account))
    t_account, t_day, t_campaign = t_account[order], t_day[order], t_campaign[order]
    campaigns = [f"{name}-{k + 1}" for name in CHANNELS for k in range(CAMPAIGNS_PER_CHANNEL)]
    campaign_channel = [name for name in CHANNELS for _ in range(CAMPAIGNS_PER_CHANNEL)]
    rows["touches"] = _write(folder, "touches", {
        "account_id": pa.array(ids[t_account]), "at": _dates(t_day), "campaign": _labels(campaigns, t_campaign),
        "channel": _labels(campaign_channel, t_campaign)})
    key, count = np.unique(t_campaign * (as_of + 1) + t_day, return_counts=True)
    s_campaign, s_day = key // (as_of + 1), key % (as_of + 1)
    amount = np.round(count * UNIT_COST[s_campaign // CAMPAIGNS_PER_CHANNEL] * rng.gamma(4.0, 0.25, len(key)), 2)
    order = np.lexsort((s_campaign, s_day))
    rows["spend"] = _write(folder, "spend", {
        "date": _dates(s_day[order]), "campaign": _labels(campaigns, s_campaign[order]),
        "channel": _labels(campaign_channel, s_campaign[order]), "amount": amount[order]})

    # revenue: each customer's lines from its acquisition month until it churns or as_of's month ends
    customer = np.flatnonzero(won)
    won_month = np.asarray(_dates(stage_day[customer, 3])).astype("datetime64[M]")
    last_month = np.datetime64(AS_OF, "M")
    observed = (last_month - won_month).astype(np.int64) + 1
    hazard = MONTHLY_CHURN[segment[customer]] * np.where(guided[customer], GUIDED_CHURN, 1.0)
    lifetime = rng.geometric(hazard)  # months paid, the acquisition month included
    months = np.minimum(lifetime, observed)
    lines = 1 + rng.choice(3, size=len(customer), p=LINE_SHARE)
    line_mrr = np.round(MRR_MEDIAN[segment[customer]] * rng.lognormal(0.0, 0.5, (3, len(customer))), 2)
    r_parts = []
    for line in range(3):
        has = np.flatnonzero(lines > line)
        who = np.repeat(has, months[has])
        tenure = np.arange(len(who)) - np.repeat(np.cumsum(months[has]) - months[has], months[has])
        r_parts.append((who, tenure, np.full(len(who), line)))
    r_who, r_tenure, r_line = (np.concatenate(column) for column in zip(*r_parts))
    order = np.lexsort((r_line, r_tenure, r_who))
    r_who, r_tenure, r_line = r_who[order], r_tenure[order], r_line[order]
    growth = 1.0 + 0.005 * r_tenure  # seats grow a little with tenure
    r_amount = np.round(line_mrr[r_line, r_who] * growth, 2)
    r_month = (won_month[r_who] + r_tenure).astype("datetime64[D]").astype(np.int64)
    rows["revenue"] = _write(folder, "revenue", {
        "account_id": pa.array(ids[customer[r_who]]), "month": _dates(r_month),
        "line": _labels(("plan", "seats", "add-on"), r_line), "amount": r_amount})

    # milestones after acquisition, by as_of
    won_day = stage_day[customer, 3]
    m_parts = []
    for index, (name, mean) in enumerate(MILESTONE_DAYS.items()):
        reach = rng.random(len(customer)) < (FIRST_VALUE_SHARE if name == "first_value" else 1.0)
        speed = np.where(guided[customer], 0.7, 1.0) if name == "first_value" else 1.0
        day = won_day + np.ceil(rng.exponential(mean * speed, len(customer))).astype(np.int64)
        keep = reach & (day <= as_of)
        m_parts.append((customer[keep], np.full(keep.sum(), index), day[keep]))
    m_account, m_kind, m_day = (np.concatenate(column) for column in zip(*m_parts))
    order = np.lexsort((m_kind, m_day, m_account))
    rows["milestones"] = _write(folder, "milestones", {
        "account_id": pa.array(ids[m_account[order]]), "milestone": _labels(tuple(MILESTONE_DAYS), m_kind[order]),
        "at": _dates(m_day[order])})

    write_project_files(project)
    rows["customers"] = int(won.sum())
    (project / "rows.json").write_text(json.dumps({"entrants": n, "seed": seed, **rows}, indent=1))
    return rows


def write_project_files(project: Path) -> None:
    for name, text in FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


def ensure(project: Path, entrants: int, seed: int = 7) -> dict[str, int]:
    """The project in ``project``: the data generated unless it already holds this size and seed, the config
    and experiments written."""
    stamp = project / "rows.json"
    if stamp.exists():
        rows = json.loads(stamp.read_text())
        if rows.get("entrants") == entrants and rows.get("seed") == seed:
            write_project_files(project)
            return rows
    return generate(project, entrants, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--entrants", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ensure", action="store_true", help="keep the data already there for this size and seed")
    args = parser.parse_args()
    began = time.perf_counter()
    rows = (ensure if args.ensure else generate)(args.project, args.entrants, args.seed)
    print(f"{args.project}: {', '.join(f'{name} {count:,}' for name, count in rows.items())} "
          f"({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
