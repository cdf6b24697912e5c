"""`cohortlab compare EXPERIMENT…`: the report."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cohortlab.cli.errors import user_errors, writing
from cohortlab.cli.options import ConfigOption, DebugOption, OutputOption, wants_color


class CI(str, Enum):
    bootstrap = "bootstrap"
    analytic = "analytic"


class Interval(str, Enum):
    percentile = "percentile"
    bca = "bca"


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def compare(
    experiments: Annotated[list[Path], typer.Argument(help="Experiment YAML files.", show_default=False)],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: OutputOption = None,
    config: ConfigOption = None,
    replicates: Annotated[int | None, typer.Option(min=100, max=100_000, help="Bootstrap replicates "
                                                   "(default: defaults.replicates).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed (default: defaults.seed).")] = None,
    ci: Annotated[CI | None, typer.Option("--ci", help="Intervals: bootstrap, or analytic (delta method and "
                                          "Greenwood; the bootstrap where a metric has no analytic form). "
                                          "Default: defaults.ci.", show_default=False)] = None,
    interval: Annotated[Interval | None, typer.Option("--interval", help="The bootstrap's interval: percentile "
                                                      "or bca (bias-corrected and accelerated). Default: "
                                                      "defaults.interval.", show_default=False)] = None,
    breakdown: Annotated[list[str] | None, typer.Option("--breakdown", help="Also compare every metric within each "
                                                        "value of this accounts column, instead of the experiment's "
                                                        "breakdown (repeat for several columns).",
                                                        show_default=False)] = None,
    weights: Annotated[Path | None, typer.Option("--weights", help="Also write each account's matching weight "
                                                 "and stratum or matched set to this file (.csv or .parquet).",
                                                 show_default=False)] = None,
    debug: DebugOption = False,
) -> None:
    """Compare each experiment's treatment cohort with its matched baseline."""
    with user_errors(debug):  # imports inside: Ctrl-C while they load is an interrupt like any other
        from cohortlab.outputs import atomic_path, held_interrupts
        from cohortlab.report.build import compare as build_report
        from cohortlab.report.build import refuse_inputs_as_outputs
        from cohortlab.report.render import RENDERERS

        if weights is not None and weights.suffix.lower() not in (".csv", ".parquet"):
            from cohortlab.errors import InputError

            raise InputError(f"--weights {weights}: the file name must end in .csv or .parquet")
        unique: dict[Path, Path] = {}
        for path in experiments:  # an experiment given twice is compared once
            unique.setdefault(path.resolve(), path)
        experiments = list(unique.values())
        outputs = {option: path for option, path in (("--output", output), ("--weights", weights)) if path}
        if outputs:  # before the work: never write over an input, whatever the run finds
            refuse_inputs_as_outputs(outputs, experiments, config)
        reports = []
        for path in experiments:
            with _progress(path) as progress:
                reports.append(build_report(path, config, replicates=replicates, seed=seed,
                                            ci=ci.value if ci else None, interval=interval.value if interval else None,
                                            breakdown=breakdown, progress=progress))
        render = RENDERERS[format.value]
        if outputs:
            # every output complete in its temporary file before any is renamed into place, and Ctrl-C held
            # back while they are: a run stopped while writing leaves none, never one of the two
            with held_interrupts() as hold, ExitStack() as written:
                if weights is not None:
                    rows = _write_weights(reports, written.enter_context(atomic_path(weights)))
                if output is not None:
                    with open(written.enter_context(atomic_path(output)), "w", encoding="utf-8") as stream:
                        render(reports, stream, False)
                hold()
            if weights is not None:
                typer.echo(f"wrote {weights} ({rows:,} accounts)", err=True)
            if output is not None:
                typer.echo(f"wrote {output}", err=True)
        if output is None:
            color = format is Format.text and wants_color(sys.stdout)
            with writing("the report to standard output"):
                render(reports, sys.stdout, color)
                sys.stdout.flush()


def _write_weights(reports: list, path: Path) -> int:
    """One row per account and experiment: experiment, account_id, cohort, weight, subclass; in the format of
    the name of ``path`` (the temporary file of ``--weights``, which keeps its suffix). Returns the rows."""
    import pandas as pd

    from cohortlab.errors import InputError

    files: dict[str, str] = {}
    for report in reports:
        other = files.setdefault(report.experiment.name, report.experiment.file)
        if other != report.experiment.file:
            raise InputError(f"--weights: {other} and {report.experiment.file} are both named "
                             f"'{report.experiment.name}', so their rows could not be told apart",
                             hint="each experiment needs its own name (cohortlab validate checks it)")
    frame = pd.concat([pd.DataFrame({"experiment": report.experiment.name, **report.accounts.rows()})
                       for report in reports], ignore_index=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False, float_format="%.12g")
    else:
        frame.to_parquet(path, index=False)
    return len(frame)


class _progress:
    """A transient progress display on stderr (only on a terminal): the stage running (loading data, selecting
    cohorts, matching, then the bootstrap's replicates counted to their real total, and each breakdown segment
    that draws its own)."""

    def __init__(self, path: Path):
        self.path, self.bar, self.task = path, None, None

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn(f"{self.path.stem} · {{task.description}}"), BarColumn(bar_width=24),
                            TextColumn("{task.fields[count]}"), TimeRemainingColumn(), console=Console(stderr=True),
                            transient=True)
        self.bar.start()
        self.task = self.bar.add_task("reading the experiment", total=None, count="")
        return self.update

    def update(self, stage: str, done: int | None, total: int | None) -> None:
        count = "" if total is None else f"{done:,}/{total:,}"
        self.bar.update(self.task, description=stage, completed=done or 0, total=total, count=count)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
