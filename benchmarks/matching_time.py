"""Wall time and peak memory of the matching engine at scale (issue 4).

Synthetic accounts with a numeric covariate (employees), a 4-level segment and a
10-level channel, the treatment share depending on all three. Each case builds the
matching (score fit and matching included), its point weights and the balance table;
then turns one chunk of bootstrap counts (as many replicates as the engine puts in a
chunk at that size: 250, fewer above 100,000 accounts) into weights, the cost of
re-running matching in the bootstrap, given per 100 replicates.

    python benchmarks/matching_time.py            # the issue's sizes
    python benchmarks/matching_time.py --scale 0.1

Each case runs in a fresh process so its peak memory is its own. The one-time import of
statsmodels' logistic model (about 1.3 s, which `compare` pays for its inference anyway)
is left out of the timings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = {
    "exact on segment, channel": ({"method": "exact", "on": ["segment", "channel"]}, 1_000_000, 0.3),
    "cem: segment, channel, employees in 10 quantile bins": (
        {"method": "cem", "on": ["segment", "channel"], "coarsen": {"employees": 10}}, 1_000_000, 0.3),
    "propensity 1:1 without replacement, caliper 0.2": (
        {"method": "propensity", "covariates": ["employees", "segment", "channel"], "caliper": 0.2},
        1_100_000, 100_000 / 1_100_000),
    "propensity 1:1 with replacement, caliper 0.2": (
        {"method": "propensity", "covariates": ["employees", "segment", "channel"], "caliper": 0.2,
         "replace": True}, 1_100_000, 100_000 / 1_100_000),
    "propensity 1:3 without replacement, exact segment": (
        {"method": "propensity", "covariates": ["employees", "segment", "channel"], "exact": ["segment"],
         "ratio": 3}, 1_100_000, 100_000 / 1_100_000),
    "propensity odds weighting": (
        {"method": "propensity", "covariates": ["employees", "segment", "channel"], "weighting": "odds"},
        1_100_000, 100_000 / 1_100_000),
}

CHILD = r"""
import json, resource, sys, time
import numpy as np
from cohortlab.match import match
from cohortlab.match.balance import balance_table
from pydantic import TypeAdapter
from cohortlab.spec.matching import AnyMatchSpec
from cohortlab.stats.bootstrap import chunk_size_for, replicate_counts

spec, n, share = json.loads(sys.argv[1])
chunk = chunk_size_for(n)
rng = np.random.default_rng(1)
employees = np.round(np.exp(rng.normal(3.5, 1.0, n)))
segment = rng.choice(np.array(["SMB", "Mid-Market", "Enterprise", "Public"], dtype=object), n)
channel = rng.choice(np.array([f"channel{i}" for i in range(10)], dtype=object), n)
lift = 0.3 * (np.log(employees) - 3.5) + 0.4 * (segment == "Enterprise") - 0.2 * (channel == "channel3")
base = np.log(share / (1 - share))
treated = rng.random(n) < 1 / (1 + np.exp(-(base + lift)))
covariates = {"employees": employees, "segment": segment, "channel": channel}
spec = TypeAdapter(AnyMatchSpec).validate_python(spec)
import statsmodels.discrete.discrete_model  # a one-time import (about 1.3 s) that compare pays anyway
started = time.perf_counter()
matching = match(spec, treated, covariates)
weights = matching.weights()
matched = time.perf_counter()
balance_table({name: covariates[name] for name in matching.columns}, treated, weights)
balanced = time.perf_counter()
counts = replicate_counts(matching.groups, chunk, 7)
next(counts)
block = next(counts)
drawn = time.perf_counter()
matching.replicate_weights(block)
replicated = time.perf_counter()
print(json.dumps({"accounts": n, "treated": int(treated.sum()), "dropped": int(matching.dropped(weights).sum()),
                  "match": matched - started, "balance": balanced - matched,
                  "per_100": (replicated - drawn) * 100 / chunk, "chunk": chunk,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every case's account count")
    arguments = parser.parse_args()
    print("| case | accounts | treated | dropped | match (s) | balance (s) | replicate weights per 100 (s) "
          "| peak memory (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (spec, n, share) in CASES.items():
        payload = json.dumps([spec, int(n * arguments.scale), share])
        result = json.loads(subprocess.run([sys.executable, "-c", CHILD, payload], check=True, capture_output=True,
                                           text=True).stdout)
        print(f"| {name} | {result['accounts']:,} | {result['treated']:,} | {result['dropped']:,} | "
              f"{result['match']:.2f} | {result['balance']:.2f} | {result['per_100']:.2f} (chunk of {result['chunk']}) | "
              f"{result['peak_mib']:,.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
