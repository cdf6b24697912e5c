"""Wall time of `cohortlab validate` over a project of many experiment files (no --check-data).

Writes a project on the embedded demo with N experiments (the two examples, renamed and
varied: windows, filters, metric lists), then runs `cohortlab validate` on the whole
project in a fresh process, several times; the table gives the median and the fastest run.

    python benchmarks/validate_time.py --files 200 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from compare_time import ROOT, timed

METRICS = ["cac", "{metric: ltv, basis: earned, months: 12}", "{metric: retention, months: 3}",
           "{metric: nrr, months: 12}", "{metric: cost_per, stage: opportunity}"]
SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]


def write_project(folder: Path, files: int) -> None:
    (folder / "configs").mkdir()
    (folder / "configs" / "cohortlab.yaml").write_text((ROOT / "configs" / "cohortlab.yaml").read_text())
    (folder / "experiments").mkdir()
    for index in range(files):
        name = f"experiment-{index:04d}"
        month = 1 + index % 9
        metrics = "\n".join(f"  - {METRICS[(index + k) % len(METRICS)]}" for k in range(2 + index % 4))
        (folder / "experiments" / f"{name}.yaml").write_text(
            "# yaml-language-server: $schema=../schemas/experiment.schema.json\n"
            f"name: {name}\n"
            f"title: Variant {index}\n"
            f"treatment: {{where: \"onboarding_flow = 'guided_v2' AND segment = '{SEGMENTS[index % 3]}'\", "
            f"entered: {{from: 2025-{month:02d}-01, to: 2025-{month + 2:02d}-28}}}}\n"
            f"baseline:  {{where: \"onboarding_flow = 'classic' AND employees >= {index % 50}\", "
            f"entered: {{from: 2024-{month:02d}-01, to: 2024-{month + 2:02d}-28}}}}\n"
            "match: {method: exact, on: [segment, channel]}\n"
            f"metrics:\n{metrics}\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        write_project(folder, args.files)
        check = subprocess.run([sys.executable, "-m", "cohortlab", "validate", "--strict"], cwd=folder,
                               capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs; "
              f"validate says: {check.stdout.strip().splitlines()[-1]} (exit {check.returncode})\n")
        print("| command | files | median (s) | fastest (s) | peak memory (MiB) | files/s (median) |")
        print("|---|---:|---:|---:|---:|---:|")
        timed(["validate"], cwd=folder)  # warm the file cache and bytecode
        runs = [timed(["validate"], cwd=folder) for _ in range(args.runs)]
        seconds = [run[0] for run in runs]
        median = statistics.median(seconds)
        print(f"| `cohortlab validate` | {args.files + 1} | {median:.2f} | {min(seconds):.2f} | "
              f"{max(r[1] for r in runs):.0f} | {(args.files + 1) / median:.0f} |")


if __name__ == "__main__":
    main()
