"""Are bootstrap p-values beyond the replicates calibrated? A simulation with known truth.

Under no effect, a normal statistic: the estimate is N(0, 1) and its B bootstrap replicates are
N(estimate, 1). Each simulation's p-value comes from cohortlab's reading of the replicates as a
continuous distribution with normal tails (cohortlab.stats.inference.ReplicateDistribution). A
calibrated p-value is uniform: the share below a level equals the level, also for levels below
2/B, which an empirical count of replicates cannot reach. Prints, per replicate count, the share
of p-values below each level with its Monte Carlo standard error; then the same reading of
replicates with a heavier (t with 3 degrees of freedom) tail, where it is not calibrated.

    python benchmarks/p_value_calibration.py --simulations 20000
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from cohortlab.stats.inference import bootstrap_p_value

LEVELS = (0.05, 0.01, 0.002, 0.0005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=20_000)
    parser.add_argument("--replicates", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    print("| replicates | " + " | ".join(f"share p < {level:g}" for level in LEVELS) + " | seconds |")
    print("|---:|" + "---:|" * (len(LEVELS) + 1))
    for replicates in arguments.replicates:
        rng = np.random.default_rng(arguments.seed)
        start = time.perf_counter()
        p_values = np.array([bootstrap_p_value(estimate + rng.standard_normal(replicates))
                             for estimate in rng.standard_normal(arguments.simulations)])
        shares = []
        for level in LEVELS:
            share = float(np.mean(p_values < level))
            error = math.sqrt(level * (1 - level) / arguments.simulations)
            shares.append(f"{share:.5f} (± {error:.5f})")
        print(f"| {replicates} | " + " | ".join(shares) + f" | {time.perf_counter() - start:.1f} |")
    heavy_tails(arguments.simulations // 10, arguments.seed)


def heavy_tails(simulations: int, seed: int) -> None:
    """Where calibration fails: replicates of a t(3) statistic 8 units from 0 (true p = 2·P(T₃ > 8)), 200 each."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    truth = 2 * stats.t.sf(8.0, 3)
    p_values = np.array([bootstrap_p_value(8.0 + rng.standard_t(3, 200)) for _ in range(simulations)])
    print(f"\nt(3), 200 replicates, {simulations:,} simulations: true p {truth:.4f}, median estimate "
          f"{np.median(p_values):.4f}, {np.mean(p_values < truth / 3):.0%} of estimates below a third of it")


if __name__ == "__main__":
    main()
