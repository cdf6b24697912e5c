"""Coverage of the demo's planted effects by the matched comparison, across demo seeds.

For each demo seed, run both example experiments (matched as shipped, and naive with
matching turned off) and record whether the 95% interval covers the planted effect from
``cohortlab.data.demo_truth``. Prints a Markdown table: per experiment and metric, the
coverage of the matched and naive intervals, the mean error of the matched estimate
(with its standard error) and the ratio of the estimates' spread to the mean bootstrap
standard error (1.0 when the interval width is right).

    python benchmarks/demo_coverage.py --seeds 1-100 --replicates 500
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

from cohortlab.data.demo_truth import true_values
from cohortlab.report.build import Overrides, run
from cohortlab.spec.load import load_config, load_experiment
from cohortlab.spec.matching import NoMatch

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("onboarding-v2", "orchestrated-journey")


def seed_range(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seed_range, default=seed_range("1-100"))
    parser.add_argument("--replicates", type=int, default=500)
    args = parser.parse_args()
    config, _ = load_config(ROOT / "configs" / "cohortlab.yaml")
    rows: dict[tuple[str, str], list[tuple[float, float, bool, bool]]] = {}
    started = time.perf_counter()
    for name in EXPERIMENTS:
        experiment, loaded = load_experiment(ROOT / "experiments" / f"{name}.yaml")
        naive_experiment = experiment.model_copy(update={"match": NoMatch()})
        truth = true_values(name)
        for seed in args.seeds:
            seeded = config.model_copy(update={"source": config.source.model_copy(update={"seed": seed})})
            overrides = Overrides(replicates=args.replicates)
            matched = run(experiment, seeded, loaded, overrides)
            naive = run(naive_experiment, seeded, loaded, overrides)
            for result in matched.results:
                effect = truth[result.key].effect
                naive_ci = naive.result(result.key).ci
                rows.setdefault((name, result.key), []).append((
                    result.delta - effect, (result.ci[1] - result.ci[0]) / 3.92,
                    result.ci[0] <= effect <= result.ci[1], naive_ci[0] <= effect <= naive_ci[1]))
            print(f"{name} seed {seed} done", file=sys.stderr, flush=True)
    print(f"Demo seeds {args.seeds.start}–{args.seeds.stop - 1}, {args.replicates} bootstrap replicates, "
          f"95% percentile intervals; {time.perf_counter() - started:.0f} s.\n")
    print("| experiment | metric | runs | matched coverage | naive coverage | mean error (± SE) | spread / bootstrap SE |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, key), values in rows.items():
        errors = [value[0] for value in values]
        spread = statistics.pstdev(errors)
        print(f"| {name} | {key} | {len(values)} | {sum(v[2] for v in values) / len(values):.1%} | "
              f"{sum(v[3] for v in values) / len(values):.1%} | {statistics.fmean(errors):.4g} "
              f"(± {spread / math.sqrt(len(values)):.2g}) | {spread / statistics.fmean(v[1] for v in values):.2f} |")


if __name__ == "__main__":
    main()
