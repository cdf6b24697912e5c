"""Wall time of the CLI on the demo: `cohortlab compare` (2,000 replicates) and `cohortlab --help`.

Each command runs in a fresh process, as a user would run it, several times; the table
gives the median and the fastest run. Peak memory is the child's maximum resident size.

    python benchmarks/compare_time.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "cohortlab --help": ["--help"],
    "cohortlab compare experiments/onboarding-v2.yaml": ["compare", "experiments/onboarding-v2.yaml"],
    "cohortlab compare experiments/orchestrated-journey.yaml": ["compare", "experiments/orchestrated-journey.yaml"],
    "cohortlab compare experiments/onboarding-v2.yaml --format json": [
        "compare", "experiments/onboarding-v2.yaml", "--format", "json"],
}


def timed(arguments: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Seconds and peak resident MiB of one run of `python -m cohortlab ARGS`.

    The run happens under a small parent process of its own, whose RUSAGE_CHILDREN
    maximum is then that one run's peak (ours would be the maximum over all runs).
    """
    probe = ("import resource, subprocess, sys, time; started = time.perf_counter(); "
             "subprocess.run([sys.executable, '-m', 'cohortlab', *sys.argv[1:]], check=True, "
             "stdout=subprocess.DEVNULL); print(time.perf_counter() - started, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    output = subprocess.run([sys.executable, "-c", probe, *arguments], cwd=cwd, check=True, capture_output=True,
                            text=True, env={**os.environ, "NO_COLOR": "1"}).stdout.split()
    return float(output[0]), int(output[1]) / 1024


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
