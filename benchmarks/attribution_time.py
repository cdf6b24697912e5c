"""Wall time of spend allocation at scale: spend split over touches, then divided among channels.

Generates a synthetic dataset (seeded numpy, written as Parquet to a temporary folder):
accounts created over two years (a segment and an arm column), a lead stage for every
account and a customer stage for about 30% of them, touches (an account, a date on or after
its creation, one of 40 campaigns and the campaign's channel among 8) and spend rows
(date, campaign, channel, amount) spread over the (campaign, day) pairs of the period,
several line items a pair at the reference size. About 3% of the even campaigns' days have
no touch (they go to the next campaign), so the spend on them is unattributed by design, as
is the cost of touches after an account was won (outside its window).

Each case (an attribution model, and linear with a 90-day influence window) runs in fresh
processes (``--runs`` of them; the table gives medians) through the library: `load_config`
and `load_experiment`, then `open_database` and `check_contract` ("check": opening and
checking the data), then `build_panel` for an experiment with two cohorts (arm = 'guided'
and arm = 'classic', entered over six months): "panel" is the whole panel build,
"allocation" the part of it in `_cohort_cost` (the allocation SQL, the attribution model's
window functions and the per-channel sums). touches/s is touches per second of the panel
build; peak MiB is the largest resident size of the case's processes (DuckDB included).

Under the table, the sanity checks: spend = allocated to some account (`touch_cost`, eligible
touches) + unattributed (the panel's cost source), and the cohort accounts' total cost
against the same allocation recomputed with numpy from the generated arrays.

    python benchmarks/attribution_time.py                 # 5,000,000 touches, 100,000 spend rows
    python benchmarks/attribution_time.py --touches 200000 --spend-rows 10000 --accounts 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = dt.date(2026, 9, 30)
DAYS = 730  # accounts enter over the two years up to AS_OF
CAMPAIGNS = 40
CHANNELS = ("paid_search", "paid_social", "display", "events", "webinar", "content", "partner", "outbound")
PAID = ("paid_search", "paid_social", "display")
COHORT_START, COHORT_END = dt.date(2025, 10, 1), dt.date(2026, 3, 31)
WON_SHARE = 0.3
DARK_SHARE = 0.03  # of the even campaigns' (campaign, day) pairs: spend but no touch
INFLUENCE_DAYS = 90
CASES = {  # label -> attribution settings
    "linear": {"model": "linear"},
    "first_touch": {"model": "first_touch"},
    "last_touch": {"model": "last_touch"},
    "position_based": {"model": "position_based"},
    f"linear, window_days: {INFLUENCE_DAYS}": {"model": "linear", "window_days": INFLUENCE_DAYS},
}


def _dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as a Parquet date column."""
    return pa.array(days.astype(np.int32), type=pa.date32())


def generate(folder: Path, accounts: int, touches: int, spend_rows: int, seed: int) -> dict[str, np.ndarray]:
    """Write accounts, stages, touches and spend as Parquet into ``folder``; return the arrays that the
    expected allocation is recomputed from."""
    rng = np.random.default_rng(seed)
    as_of = (np.datetime64(AS_OF, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    start = as_of - DAYS + 1

    created = start + rng.integers(0, DAYS, accounts)
    ids = np.char.add("A", np.char.zfill(np.arange(accounts).astype(str), 8))
    segment = rng.choice(np.array(["SMB", "Mid-Market", "Enterprise"]), accounts, p=[0.6, 0.3, 0.1])
    arm = np.where(rng.random(accounts) < 0.5, "guided", "classic")
    pq.write_table(pa.table({"account_id": ids, "created_at": _dates(created), "segment": segment, "arm": arm}),
                   folder / "accounts.parquet")

    won_day = created + 1 + np.floor(rng.gamma(2.0, 30.0, accounts)).astype(np.int64)
    won = (rng.random(accounts) < WON_SHARE) & (won_day <= as_of)
    customers = np.flatnonzero(won)
    pq.write_table(pa.table({
        "account_id": np.concatenate([ids, ids[customers]]),
        "stage": np.concatenate([np.full(accounts, "lead"), np.full(len(customers), "customer")]),
        "at": _dates(np.concatenate([created, won_day[customers]])),
    }), folder / "stages.parquet")

    # touches: an account, then a day on or after its creation (mostly within weeks), then a campaign
    weight = 1.0 / (np.arange(CAMPAIGNS) + 5.0)
    weight /= weight.sum()
    owner = rng.integers(0, accounts, touches)
    span = as_of - created[owner]
    day = created[owner] + np.floor(rng.exponential(40.0, touches)).astype(np.int64) % (span + 1)
    campaign = rng.choice(CAMPAIGNS, touches, p=weight)
    pair_campaign = np.repeat(np.arange(CAMPAIGNS), DAYS)
    dark = (rng.random(CAMPAIGNS * DAYS) < DARK_SHARE) & (pair_campaign % 2 == 0)
    campaign += dark[campaign * DAYS + day - start]  # a dark pair's touches go to the next (odd) campaign
    names = np.char.add("campaign_", np.char.zfill(np.arange(CAMPAIGNS).astype(str), 2))
    channels = np.array(CHANNELS)[np.arange(CAMPAIGNS) % len(CHANNELS)]
    pq.write_table(pa.table({"account_id": pa.array(ids).take(pa.array(owner)), "at": _dates(day),
                             "campaign": pa.array(names).take(pa.array(campaign)),
                             "channel": pa.array(channels).take(pa.array(campaign))}),
                   folder / "touches.parquet", row_group_size=1_000_000)

    # spend: line items on (campaign, day) pairs, busier campaigns more often
    pair = rng.choice(CAMPAIGNS * DAYS, spend_rows, p=np.repeat(weight / DAYS, DAYS))
    amount = np.round(rng.lognormal(5.0, 0.8, spend_rows), 2)
    spent = pa.array(pair // DAYS)
    pq.write_table(pa.table({"date": _dates(start + pair % DAYS), "campaign": pa.array(names).take(spent),
                             "channel": pa.array(channels).take(spent), "amount": amount}),
                   folder / "spend.parquet")
    return {"as_of": np.int64(as_of), "start": np.int64(start), "created": created,
            "won_day": np.where(won, won_day, as_of), "owner": owner, "day": day, "campaign": campaign,
            "pair": pair, "amount": amount}


def expected(arrays: dict[str, np.ndarray], window_days: int | None) -> dict[str, float]:
    """The allocation recomputed with numpy: total spend, spend on eligible touches, the cohorts' cost."""
    key = arrays["campaign"] * DAYS + arrays["day"] - arrays["start"]
    touches_per_pair = np.bincount(key, minlength=CAMPAIGNS * DAYS)
    spend_per_pair = np.bincount(arrays["pair"], weights=arrays["amount"], minlength=CAMPAIGNS * DAYS)
    cost = spend_per_pair[key] / touches_per_pair[key]
    cutoff = arrays["won_day"][arrays["owner"]]  # the won day, else as_of
    eligible = arrays["day"] <= cutoff
    if window_days:
        eligible &= arrays["day"] > cutoff - window_days
    first, last = (np.datetime64(day, "D").astype(np.int64) for day in (COHORT_START, COHORT_END))
    entered = arrays["created"][arrays["owner"]]
    cohort = (entered >= first) & (entered <= last)
    return {"total": float(arrays["amount"].sum()), "eligible": float(cost[eligible].sum()),
            "no_touch": float(spend_per_pair[touches_per_pair == 0].sum()),
            "cohort": float(cost[eligible & cohort].sum())}


def write_project(folder: Path) -> list[tuple[str, Path, Path]]:
    """A config per case and the experiment; (label, config, experiment) per case."""
    experiment = folder / "experiment.yaml"
    window = f"{{from: {COHORT_START}, to: {COHORT_END}}}"
    experiment.write_text(
        "name: allocation-scale\n"
        f"treatment: {{where: \"arm = 'guided'\", entered: {window}}}\n"
        f"baseline:  {{where: \"arm = 'classic'\", entered: {window}}}\n"
        "match: {method: exact, on: [segment]}\n"
        "metrics: [cac]\n"
    )
    cases = []
    for index, (label, attribution) in enumerate(CASES.items()):
        settings = {**attribution, "paid_channels": list(PAID)}
        config = folder / f"config-{index}.yaml"
        config.write_text(
            "source: {kind: files, path: data}\n"
            f"as_of: {AS_OF}\n"
            "journey: {stages: [lead, customer], won: customer}\n"
            f"attribution: {json.dumps(settings)}\n"
            "defaults: {replicates: 100}\n"
        )
        cases.append((label, config, experiment))
    return cases


def measure(config_path: Path, experiment_path: Path) -> dict:
    """One case, in this process: load and check the data, then build the panel (timing the allocation)."""
    import resource

    import cohortlab.data.panel as panel_module
    from cohortlab.data.contract import check_contract
    from cohortlab.data.source import open_database
    from cohortlab.spec.cohorts import cohort_filters
    from cohortlab.spec.load import load_config, load_experiment

    config, _ = load_config(config_path)
    experiment, loaded = load_experiment(experiment_path)
    started = time.perf_counter()
    data = check_contract(open_database(config), config.journey, config.as_of)
    checked = time.perf_counter()
    filters = cohort_filters(experiment, data.db.tables["accounts"].columns, loaded)

    allocation = []
    cohort_cost = panel_module._cohort_cost

    def timed_cohort_cost(*args):
        begun = time.perf_counter()
        result = cohort_cost(*args)
        allocation.append(time.perf_counter() - begun)
        return result

    panel_module._cohort_cost = timed_cohort_cost
    begun = time.perf_counter()
    panel, warnings = panel_module.build_panel(data, filters, config.journey, config.economics,
                                               config.attribution, experiment.match.column_names())
    built = time.perf_counter()
    panel_module._cohort_cost = cohort_cost
    source = panel.cost_source
    channels = sum(panel.cost_by_channel.values())
    return {
        "touches": data.db.scalar("SELECT count(*) FROM touches_ok"),
        "spend_rows": data.db.scalar("SELECT count(*) FROM spend_ok"),
        "accounts": panel.size, "check": checked - started, "panel": built - begun, "allocation": allocation[0],
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "total": source.total_spend, "unattributed": source.unattributed_spend,
        "eligible": float(data.db.scalar("SELECT sum(cost) FILTER (WHERE eligible) FROM touch_cost")),
        "cohort": float(panel.cost.sum()), "channel_gap": float(np.max(np.abs(channels - panel.cost))),
        "warnings": len(data.warnings), "panel_warnings": [warning.message for warning in warnings],
    }


def run_case(config: Path, experiment: Path) -> dict:
    """One case in a fresh process; its error, if any, is shown whole."""
    child = subprocess.run([sys.executable, __file__, "--case", str(config), str(experiment)], capture_output=True,
                           text=True)
    if child.returncode:
        sys.exit(f"the case {config.name} failed:\n{child.stderr}")
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touches", type=int, default=5_000_000)
    parser.add_argument("--spend-rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per case; the table gives medians")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)  # internal: CONFIG EXPERIMENT, one case
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(Path(args.case[0]), Path(args.case[1]))))
        return

    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "data").mkdir()
        began = time.perf_counter()
        arrays = generate(folder / "data", args.accounts, args.touches, args.spend_rows, args.seed)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; generated {args.accounts:,} accounts, "
              f"{args.touches:,} touches, {args.spend_rows:,} spend rows in {time.perf_counter() - began:.1f} s; "
              f"medians of {args.runs} run{'s' if args.runs > 1 else ''}\n")
        print("| model | touches | spend rows | cohort accounts | check (s) | panel (s) | allocation (s) | touches/s "
              "| peak MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        checks = []
        for label, config, experiment in write_project(folder):
            runs = [run_case(config, experiment) for _ in range(args.runs)]
            result = {**runs[0], **{name: statistics.median(run[name] for run in runs)
                                    for name in ("check", "panel", "allocation")},
                      "peak_mib": max(run["peak_mib"] for run in runs)}
            print(f"| {label} | {result['touches']:,} | {result['spend_rows']:,} | {result['accounts']:,} | "
                  f"{result['check']:.2f} | {result['panel']:.2f} | {result['allocation']:.2f} | "
                  f"{result['touches'] / result['panel']:,.0f} | {result['peak_mib']:,.0f} |", flush=True)
            checks.append((label, result, expected(arrays, CASES[label].get("window_days"))))
        print("\n| model | spend ($) | allocated ($) | unattributed ($) | spend - both ($) | cohort cost ($) "
              "| vs numpy ($) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, result, truth in checks:
            balance = result["total"] - (result["eligible"] + result["unattributed"])
            gaps = [abs(result[name] - truth[name]) for name in ("total", "eligible", "cohort")]
            print(f"| {label} | {result['total']:,.2f} | {result['eligible']:,.2f} | "
                  f"{result['unattributed']:,.2f} | {balance:+.4f} | {result['cohort']:,.2f} | {max(gaps):.4f} |")
        first, truth = checks[0][1], checks[0][2]
        gap = max(check[1]["channel_gap"] for check in checks)
        print("\nvs numpy: the largest difference of spend, allocated and cohort cost from the numpy "
              f"recomputation; the channels' credit sums to each account's cost within ${gap:.1e}")
        print(f"spend on (campaign, day) pairs with no touch (numpy): ${truth['no_touch']:,.2f} "
              f"({truth['no_touch'] / truth['total']:.1%} of spend)")
        print(f"data warnings: {first['warnings']}; panel warnings ({checks[0][0]}): "
              + " | ".join(first["panel_warnings"]))


if __name__ == "__main__":
    main()
