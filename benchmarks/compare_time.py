"""Wall time of the CLI on the demo: `cohortlab compare` (2,000 replicates) and `cohortlab --help`.

Each command runs in a fresh process, as a user would run it, several times; the table
gives the median and the fastest run. Peak memory is the child's maximum resident size.

    python benchmarks/compare_time.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "cohortlab --help": ["--help"],
    "cohortlab compare experiments/onboarding-v2.yaml": ["compare", "experiments/onboarding-v2.yaml"],
    "cohortlab compare experiments/orchestrated-journey.yaml": ["compare", "experiments/orchestrated-journey.yaml"],
    "cohortlab compare experiments/onboarding-v2.yaml --format json": [
        "compare", "experiments/onboarding-v2.yaml", "--format", "json"],
}


def timed(arguments: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MiB of one run of `python -m cohortlab ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cohortlab", *arguments], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs each\n")
    print("| command | median (s) | fastest (s) | peak memory (MiB) |")
    print("|---|---:|---:|---:|")
    for label, arguments in COMMANDS.items():
        timed(arguments)  # warm the file cache and bytecode
        runs = [timed(arguments) for _ in range(args.runs)]
        seconds = [run[0] for run in runs]
        print(f"| `{label}` | {statistics.median(seconds):.2f} | {min(seconds):.2f} | {max(r[1] for r in runs):.0f} |")


if __name__ == "__main__":
    main()
