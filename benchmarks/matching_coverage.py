"""Bias and interval coverage of each matching method on simulated confounded cohorts.

Each simulated dataset has accounts with a numeric covariate x and a three-level segment;
both raise the chance of being treated and the outcome, so a naive comparison is biased.
The treatment shifts every account's outcome by exactly EFFECT, so the effect on the
treated (also on any supported subset of them) is EFFECT. For each method the script
matches, bootstraps the weighted difference in means with cohortlab's own machinery
(resampling within matching strata, matching re-run per replicate, percentile
intervals), and reports the mean error, the coverage of the 95% interval, its mean
width, and the share of treatment accounts dropped.

    python benchmarks/matching_coverage.py --simulations 500 --replicates 400

The figures are in docs/matching.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cohortlab.match import match
from cohortlab.spec.matching import CemMatch, MatchSpec, NoMatch, PropensityMatch
from cohortlab.stats.bootstrap import replicate_counts
from cohortlab.stats.inference import bootstrap_comparison

EFFECT = 1.0
METHODS = {
    "none (naive)": NoMatch(),
    "cem: segment, x in 8 quantile bins": CemMatch(method="cem", on=["segment"], coarsen={"x": 8}),
    "cem: segment, x in 16 quantile bins": CemMatch(method="cem", on=["segment"], coarsen={"x": 16}),
    "propensity 1:1, caliper 0.2": PropensityMatch(method="propensity", covariates=["x", "segment"], caliper=0.2),
    "propensity 1:1, caliper 0.05": PropensityMatch(method="propensity", covariates=["x", "segment"], caliper=0.05),
    "propensity 1:2 with replacement, caliper 0.2": PropensityMatch(method="propensity", covariates=["x", "segment"],
                                                                    caliper=0.2, ratio=2, replace=True),
    "propensity 1:1, exact segment": PropensityMatch(method="propensity", covariates=["x"], exact=["segment"],
                                                     caliper=0.2),
    "propensity odds weighting": PropensityMatch(method="propensity", covariates=["x", "segment"], weighting="odds"),
}


def simulate(rng: np.random.Generator, accounts: int) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    x = rng.normal(size=accounts)
    segment = rng.choice(np.array(["SMB", "Mid-Market", "Enterprise"], dtype=object), accounts, p=[0.5, 0.3, 0.2])
    lift = np.select([segment == "Enterprise", segment == "Mid-Market"], [0.8, 0.4], 0.0)
    treated = rng.random(accounts) < 1 / (1 + np.exp(-(-1.0 + 0.8 * x + lift)))
    outcome = 2.0 * x + 3.0 * lift + EFFECT * treated + rng.normal(0, 2.0, accounts)
    return treated, {"x": x, "segment": segment}, outcome


def estimate(spec: MatchSpec, treated: np.ndarray, covariates: dict, outcome: np.ndarray, replicates: int,
             seed: int) -> tuple[float, tuple[float, float], float]:
    """The weighted difference in means, its 95% percentile interval, and the share of treated dropped."""
    matching = match(spec, treated, covariates)
    sides = {"treatment": [], "baseline": []}
    for counts in replicate_counts(matching.groups, replicates, seed):
        weights = matching.replicate_weights(counts)
        for side, mask in (("treatment", treated), ("baseline", ~treated)):
            w = weights[:, mask]
            total = w.sum(axis=1)
            sides[side].append(np.divide(w @ outcome[mask], total, out=np.full(len(total), np.nan),
                                         where=total > 0))
    comparison = bootstrap_comparison(np.concatenate(sides["baseline"]), np.concatenate(sides["treatment"]), 0.95)
    return comparison.delta, comparison.ci, float(matching.dropped().sum() / treated.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=500)
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--accounts", type=int, default=2000)
    arguments = parser.parse_args()
    started = time.perf_counter()
    rows = {name: [] for name in METHODS}
    for simulation in range(arguments.simulations):
        rng = np.random.default_rng(simulation)
        treated, covariates, outcome = simulate(rng, arguments.accounts)
        for name, spec in METHODS.items():
            delta, (low, high), dropped = estimate(spec, treated, covariates, outcome, arguments.replicates,
                                                   simulation)
            rows[name].append((delta - EFFECT, low <= EFFECT <= high, high - low, dropped))
    print(f"{arguments.simulations} simulations of {arguments.accounts:,} accounts, {arguments.replicates} "
          f"replicates each, true effect {EFFECT} ({time.perf_counter() - started:.0f} s)\n")
    print("| method | mean error | coverage of 95% CI | mean CI width | treated dropped |")
    print("|---|---:|---:|---:|---:|")
    for name, results in rows.items():
        errors, covered, widths, dropped = (np.array(column, dtype=float) for column in zip(*results))
        print(f"| {name} | {errors.mean():+.3f} | {covered.mean():.1%} | {widths.mean():.3f} | {dropped.mean():.1%} |")


if __name__ == "__main__":
    main()
