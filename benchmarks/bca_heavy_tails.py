"""BCa against percentile intervals on the simplest heavy-tailed case: a difference of two means.

Two samples of ``--size`` values each, both log-normal(0, σ), so the true difference is 0.
Per simulation, the 95% interval of the difference by cohortlab's bootstrap (its count-matrix
resampling within each sample, its percentile and BCa intervals, a jackknife of ``--blocks``
blocks for the acceleration) and by scipy.stats.bootstrap (percentile and BCa, its own
per-sample jackknife). Prints each interval's coverage with its Monte Carlo standard error.

It separates a property of BCa from a defect of ours: if both implementations' BCa cover
less than their percentile intervals on the same data, the under-coverage seen for revenue
metrics in the coverage study (docs/validation.md) belongs to the method, not to the code.

    python benchmarks/bca_heavy_tails.py --simulations 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from cohortlab.stats.bootstrap import jackknife_counts, replicate_counts
from cohortlab.stats.inference import bootstrap_comparison

CONFIDENCE = 0.95


def _means(weights: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's weighted mean of the first sample and of the second."""
    first, second = weights[:, :size], weights[:, size:]
    return first @ values[:size] / first.sum(axis=1), second @ values[size:] / second.sum(axis=1)


def simulate(simulation: int, size: int, sigma: float, replicates: int, blocks: int) -> dict[str, bool]:
    """Whether each interval of one simulated dataset covers the true difference, 0."""
    rng = np.random.default_rng(simulation)
    values = rng.lognormal(0.0, sigma, 2 * size)
    sample = np.repeat([1, 0], size)
    first, second = _means(np.vstack(list(replicate_counts(sample, replicates, simulation))), values, size)
    left_first, left_second = _means(jackknife_counts(sample, simulation, blocks), values, size)
    intervals = {
        "cohortlab percentile": bootstrap_comparison(second, first, CONFIDENCE).ci,
        "cohortlab BCa": bootstrap_comparison(second, first, CONFIDENCE, (left_second, left_first)).ci,
    }
    for method in ("percentile", "BCa"):
        result = stats.bootstrap((values[:size], values[size:]),
                                 lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
                                 confidence_level=CONFIDENCE, n_resamples=replicates, method=method,
                                 random_state=simulation)
        intervals[f"scipy {method}"] = tuple(result.confidence_interval)
    return {name: bool(low <= 0.0 <= high) for name, (low, high) in intervals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--size", type=int, default=300, help="values per sample")
    parser.add_argument("--sigma", type=float, default=1.2, help="σ of the log-normal")
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=100, help="jackknife blocks for cohortlab's BCa")
    arguments = parser.parse_args()
    started = time.perf_counter()
    covered: dict[str, int] = {}
    for simulation in range(arguments.simulations):
        for name, hit in simulate(simulation, arguments.size, arguments.sigma, arguments.replicates,
                                  arguments.blocks).items():
            covered[name] = covered.get(name, 0) + hit
    count = arguments.simulations
    print(f"{count} simulations: two samples of {arguments.size} log-normal(0, {arguments.sigma}) values, "
          f"{arguments.replicates} replicates, {CONFIDENCE:.0%} intervals of the difference of means (truth 0)\n")
    print("| interval | coverage (± MC SE) |\n|---|---:|")
    for name, hits in covered.items():
        share = hits / count
        print(f"| {name} | {share:.1%} (± {np.sqrt(share * (1 - share) / count):.1%}) |")
    print(f"\nWall time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
