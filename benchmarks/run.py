"""The scale benchmark (SPEC §10): wall time, peak memory and throughput of every stage at the reference scale.

Generates the reference-scale project with `scale_data.py` (1,000,000 entrants by default,
kept in ``--project`` and reused while its size and seed match), then measures, each in a
fresh process:

- CLI start-up: ``cohortlab --help``;
- ``cohortlab validate`` over a project of 200 experiment files (no ``--check-data``);
- the stages of a comparison, timed inside one process through the library: loading and
  per-account aggregation (opening and checking the data, building the panel), matching,
  the breakdown's segments (matched within each), each metric family with 1,000 bootstrap
  replicates, all metrics' bootstrap together (1,000 replicates), and the analytic
  intervals of the metrics that have them (each with the breakdown, as compare runs it);
- ``cohortlab compare`` end to end: the ten-metric experiment with analytic intervals (its
  metrics without an analytic form, SPEC §7, still on the bootstrap) and with 1,000
  bootstrap replicates, and the six metrics with an analytic form with analytic intervals.

Peak memory is the largest resident set: of the process for the commands, and within each
stage for the stages (the process's high-water mark is reset as a stage starts, so it
includes what earlier stages left in memory). Throughput is accounts (panel rows) per second,
or files per second for `validate`.

    python benchmarks/run.py                                 # 1,000,000 entrants
    python benchmarks/run.py --entrants 10000 100000 1000000 # one table per size
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# This process imports nothing heavy: a child's peak memory as the kernel reports it starts from its parent's size.

REPLICATES = 1000
VALIDATE_FILES = 200
FAMILIES = {  # label -> metric names
    "acquisition: cac, cost_per, conversion": ("cac", "cost_per", "conversion"),
    "earned LTV": ("ltv/earned",),
    "modeled LTV, LTV:CAC, payback": ("ltv/modeled", "ltv_cac", "payback"),
    "retention, NRR": ("retention", "nrr"),
    "time to value": ("time_to_value",),
}


def _peak_mib() -> float:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _family(metric) -> str:
    return f"ltv/{metric.params.basis}" if metric.name == "ltv" else metric.name


def stages(project: Path) -> list[dict]:
    """Run the comparison's stages in this process; one row per stage."""
    from cohortlab.data.registry import open_source
    from cohortlab.metrics.base import Metric, MetricContext
    from cohortlab.metrics.registry import resolve_all
    from cohortlab.engine import estimate_metrics
    from cohortlab.engine.matching import match_panel, segments
    from cohortlab.engine.records import Settings
    from cohortlab.spec.cohorts import cohort_filters
    from cohortlab.spec.load import load_config, load_experiment

    rows = []

    def timed(label, work, accounts=None):
        _reset_peak()
        began = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - began
        rows.append({"stage": label, "seconds": seconds, "peak_mib": _peak_mib(),
                     "accounts": accounts if accounts is not None else panel_size[0]})
        return result

    panel_size = [0]
    experiment, loaded = load_experiment(project / "experiments" / "scale.yaml")
    config, _ = load_config(project / "configs" / "cohortlab.yaml")
    metrics = resolve_all(experiment, config.journey, config.economics, loaded)

    def load():
        source = open_source(config)
        try:  # as compare does: the source is closed once the panel holds all the comparison needs
            data = source.check(config.journey, config.as_of)
            filters = cohort_filters(experiment, source.account_columns(), loaded)
            columns = list(dict.fromkeys([*experiment.match.column_names(), *experiment.breakdown]))
            milestones = sorted({metric.params.milestone for metric in metrics
                                 if hasattr(metric.params, "milestone")})
            panel, _ = source.build_panel(filters, config.journey, config.economics, config.attribution, columns,
                                          milestones)
        finally:
            source.close()
        panel_size[0] = panel.size
        return data, panel

    data, panel = timed("load and per-account aggregation", load)
    matching = timed("matching", lambda: match_panel(experiment, panel))
    weights = matching.weights()
    context = MetricContext(config.economics, config.journey, config.defaults.min_cohort, data.as_of,
                            config.defaults.confidence, config.attribution)
    defaults = config.defaults

    def settings(ci):
        return Settings(defaults.confidence, ci, REPLICATES, defaults.seed, defaults.correction)

    breakdown = timed("breakdown segments, matched within each", lambda: segments(experiment, panel))
    for label, names in FAMILIES.items():
        family = [metric for metric in metrics if _family(metric) in names]
        timed(f"{label}: bootstrap, {REPLICATES:,} replicates",
              lambda: estimate_metrics(family, panel, matching, weights, context, settings("bootstrap"), None,
                                       breakdown))
    timed(f"all ten metrics: bootstrap, {REPLICATES:,} replicates",
          lambda: estimate_metrics(metrics, panel, matching, weights, context, settings("bootstrap"), None, breakdown))
    analytic = [metric for metric in metrics if metric.influence.__func__ is not Metric.influence
                and _family(metric) != "ltv/modeled"]
    timed(f"the {len(analytic)} metrics with an analytic form: analytic intervals",
          lambda: estimate_metrics(analytic, panel, matching, weights, context, settings("analytic"), None,
                                   breakdown))
    return rows


def command(arguments: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, peak resident MiB and exit code of ``python -m cohortlab ARGUMENTS`` in a fresh process."""
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cohortlab", *arguments], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    error = process.stderr.read().decode()
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: a verdict or warnings; anything else is a failure to report
        raise SystemExit(f"cohortlab {' '.join(arguments)} exited {code}:\n{error}")
    return seconds, usage.ru_maxrss / 1024, code


def measure(project: Path, entrants: int) -> list[dict]:
    subprocess.run([sys.executable, str(HERE / "scale_data.py"), str(project), "--entrants", str(entrants),
                    "--ensure"], check=True, stdout=subprocess.DEVNULL)
    sizes = json.loads((project / "rows.json").read_text())
    out = subprocess.run([sys.executable, __file__, "--stages", str(project)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    rows = json.loads(out.stdout)
    accounts = rows[0]["accounts"]
    seconds, peak, _ = command(["--help"], project)
    rows.insert(0, {"stage": "`cohortlab --help`", "seconds": seconds, "peak_mib": peak, "accounts": None})
    with tempfile.TemporaryDirectory() as directory:
        from validate_time import write_project

        write_project(Path(directory), VALIDATE_FILES)
        seconds, peak, _ = command(["validate"], Path(directory))
        rows.insert(1, {"stage": f"`cohortlab validate`, {VALIDATE_FILES} files", "seconds": seconds,
                        "peak_mib": peak, "files": VALIDATE_FILES + 1})
    for experiment, ci in (("scale", "analytic"), ("scale", "bootstrap"), ("scale-analytic", "analytic")):
        seconds, peak, _ = command(["compare", f"experiments/{experiment}.yaml", "--ci", ci, "--replicates",
                                    str(REPLICATES), "-f", "json", "-o", os.devnull], project)
        label = ("analytic intervals (modeled LTV, LTV:CAC, payback, time to value on the bootstrap)"
                 if ci == "analytic" else f"{REPLICATES:,} bootstrap replicates")
        if experiment == "scale-analytic":
            label = "analytic intervals, the six metrics with an analytic form"
        rows.append({"stage": f"`cohortlab compare {experiment}`, {label}", "seconds": seconds, "peak_mib": peak,
                     "accounts": accounts})
    return [{**row, "entrants": entrants, "sizes": sizes} for row in rows]


def table(rows: list[dict]) -> str:
    sizes = rows[0]["sizes"]
    lines = [f"{rows[0]['entrants']:,} entrants: {sizes['customers']:,} customers, {sizes['revenue']:,} revenue rows, "
             f"{sizes['touches']:,} touches, {sizes['stages']:,} stage events; "
             f"{next(row['accounts'] for row in rows if row.get('accounts')):,} accounts in the comparison", "",
             "| stage | wall (s) | peak memory (MiB) | throughput |", "|---|---:|---:|---:|"]
    for row in rows:
        if row.get("files"):
            rate = f"{row['files'] / row['seconds']:,.0f} files/s"
        elif row.get("accounts"):
            rate = f"{row['accounts'] / row['seconds']:,.0f} accounts/s"
        else:
            rate = ""
        lines.append(f"| {row['stage']} | {row['seconds']:.2f} | {row['peak_mib']:,.0f} | {rate} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--project", type=Path, default=Path(tempfile.gettempdir()) / "cohortlab-scale",
                        help="where the generated projects are kept (one folder per size)")
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)  # internal: run the stages of one project
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(args.stages)))
        return
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    everything = []
    for entrants in args.entrants:
        rows = measure(args.project / f"entrants-{entrants}", entrants)
        everything += rows
        print(table(rows) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
