"""The terminal report, drawn with rich. Verdicts carry a symbol so colour is never the only cue."""

from __future__ import annotations

import os
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cohortlab.codes import Verdict
from cohortlab.report.model import Report
from cohortlab.report.render import rows

VERDICT_STYLES = {Verdict.BETTER: "green", Verdict.WORSE: "red", Verdict.INCONCLUSIVE: "yellow",
                  Verdict.UNAVAILABLE: "dim"}


def _table(title: str, header: tuple[str, ...], right_from: int) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for index, name in enumerate(header):
        table.add_column(name, justify="right" if index >= right_from else "left")
    return table


def render_text(report: Report, stream: TextIO, color: bool) -> None:
    console = Console(file=stream, no_color=not color or "NO_COLOR" in os.environ, highlight=False,
                      force_terminal=color, width=160 if not color else None, soft_wrap=False)
    experiment = report.experiment
    console.print(Text(f"{experiment.name} — {experiment.title or ''}".rstrip(" —"), style="bold"))
    console.print(f"{experiment.file} · owner {experiment.owner or '–'} · data as of {report.as_of}")
    if report.as_of_inferred:
        console.print(f"as_of {report.as_of_basis}")
    if experiment.hypothesis:
        console.print(f"Hypothesis: {experiment.hypothesis}")
    console.print()

    cohorts = _table("Cohorts", rows.COHORT_HEADER, 3)
    for cells in rows.cohort_cells(report):
        cohorts.add_row(*cells)
    console.print(cohorts)

    console.print(Text("Matching: ", style="bold") + Text(rows.matching_line(report)))
    if report.matching.method != "none":
        for line in rows.matching_details(report):
            console.print(f"  {line}")
    if report.matching.balance:
        balance = _table("", rows.BALANCE_HEADER, 1)
        for cells in rows.balance_cells(report):
            balance.add_row(*cells[:-1], Text(cells[-1], style="red"))
        console.print(balance)
    else:
        console.print()
    alerts = rows.matching_alerts(report)
    for alert in alerts:
        console.print(Text(f"⚠ {alert}", style="bold red"))
    if alerts:
        console.print()

    metrics = _table(f"Metrics — {rows.settings_line(report)}", rows.METRIC_HEADER, 1)
    for result in report.overall:
        cells = rows.metric_cells(report, result)
        metrics.add_row(*cells[:-1], Text(cells[-1], style=VERDICT_STYLES[result.verdict]))
    console.print(metrics)
    console.print(rows.metrics_legend(report))

    if report.breakdown:
        console.print()
        breakdown = _table(rows.breakdown_title(report), rows.BREAKDOWN_HEADER, 2)
        for result, cells in zip(report.breakdown, rows.breakdown_cells(report)):
            breakdown.add_row(*cells[:-1], Text(cells[-1], style=VERDICT_STYLES[result.verdict]))
        console.print(breakdown)

    if report.funnel:
        console.print()
        funnel = _table(rows.funnel_title(report), rows.FUNNEL_HEADER, 1)
        for cells in rows.funnel_cells(report):
            funnel.add_row(*cells)
        console.print(funnel)

    buildup = report.buildup_result()
    if buildup is not None:
        console.print()
        table = _table(rows.buildup_title(buildup), rows.BUILDUP_HEADER, 1)
        for cells in rows.buildup_cells(buildup):
            table.add_row(*cells)
        console.print(table)
        console.print(rows.BUILDUP_NOTE)

    if report.warnings:
        console.print()
        console.print(Text("Warnings", style="bold"))
        for warning in report.warnings:
            console.print(Text(f"  {warning.code} ", style="yellow") + Text(warning.message))
