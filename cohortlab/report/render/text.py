"""The terminal report, drawn with rich, laid out for the width it has.

Each table has layouts from the widest (one line per row) to the narrowest (two lines per row, or
one block per metric); the first whose measured width fits is drawn, and every cell folds rather
than being cut, so nothing that matters is ever truncated. Verdicts carry a symbol so colour is
never the only cue.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from cohortlab.codes import Verdict
from cohortlab.report.model import MetricResult, Report
from cohortlab.report.render import rows
from cohortlab.report.render.rows import MetricCells
from cohortlab.report.summary import bottom_line

VERDICT_STYLES = {Verdict.BETTER: "green", Verdict.WORSE: "red", Verdict.INCONCLUSIVE: "yellow",
                  Verdict.UNAVAILABLE: "dim"}
# the width when the output is not a terminal and COLUMNS does not say
PIPED_WIDTH = 160
LABEL_WIDTH = 22         # a metric's label wraps beyond this in the two-line layout
UNBOUNDED = 1_000_000  # a width no layout reaches: to measure a layout's natural width


def output_width(terminal: bool) -> int | None:
    """The report's width: COLUMNS when set, else the terminal's own (None: rich asks the terminal), else 160."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    return None if terminal else PIPED_WIDTH


def _table(title: str, header: Sequence[str], right_from: int, leading: int = 0, tight: bool = False) -> Table:
    """A table with a rule under its header; ``tight``: one space between columns instead of two, no margin."""
    table = Table(title=title or None, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, leading=leading, collapse_padding=tight, show_edge=not tight)
    for index, name in enumerate(header):
        table.add_column(name, justify="right" if index >= right_from else "left", overflow="fold")
    return table


def _first_fitting(console: Console, layouts: Sequence[Callable[[], RenderableType]]) -> RenderableType:
    """The first layout whose natural width fits the console, else the last (its cells fold)."""
    unbounded = console.options.update(max_width=UNBOUNDED)
    for layout in layouts[:-1]:
        renderable = layout()
        if Measurement.get(console, unbounded, renderable).maximum <= console.width:
            return renderable
    return layouts[-1]()


def render_text(report: Report, stream: TextIO, color: bool, width: int | None = None) -> None:
    """The report on ``stream``; plain text (no colour) comes without the spaces rich pads lines with."""
    if color:
        _render(report, stream, True, width)
        return
    buffer = io.StringIO()
    _render(report, buffer, False, width)
    stream.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _render(report: Report, stream: TextIO, color: bool, width: int | None) -> None:
    console = Console(file=stream, no_color=not color, highlight=False,
                      force_terminal=color, width=width or output_width(color), soft_wrap=False)
    experiment = report.experiment
    console.print(Text(f"{experiment.name} — {experiment.title or ''}".rstrip(" —"), style="bold"))
    console.print(f"{experiment.file} · owner {experiment.owner or '–'} · data as of {report.as_of}")
    if report.as_of_inferred:
        console.print(f"as_of {report.as_of_basis}")
    if experiment.hypothesis:
        console.print(f"Hypothesis: {experiment.hypothesis}")
    console.print()
    console.print(Text("Bottom line: ", style="bold") + Text(bottom_line(report)))
    console.print()

    console.print(_first_fitting(console, [lambda: _cohorts(report, " → "), lambda: _cohorts(report, " →\n"),
                                           lambda: _cohort_blocks(report)]))
    console.print(Text("Matching: ", style="bold") + Text(rows.matching_line(report)))
    if report.matching.method != "none":
        for line in rows.matching_details(report):
            console.print(f"  {line}")
    if report.matching.balance:
        balance = _table("", rows.BALANCE_HEADER, 1)
        for cells, over in zip(rows.balance_cells(report), rows.unbalanced(report)):
            balance.add_row(*cells, style="red" if over else None)
        console.print(balance)
    else:
        console.print()
    alerts = rows.matching_alerts(report)
    for alert in alerts:
        console.print(Text(f"⚠ {alert}", style="bold red"))
    if alerts:
        console.print()

    console.print(Text(f"Metrics — {rows.settings_line(report)}", style="bold"))
    overall = [(result, rows.metric_cells(report, result)) for result in report.overall]
    console.print(_first_fitting(console, [lambda: _metrics_wide(overall), lambda: _metrics_stacked(overall),
                                           lambda: _blocks(overall)]))
    for note in rows.unavailable_notes(report.overall):
        console.print(Text(f"– {note}", style="dim"))
    console.print(rows.metrics_legend(report))

    if report.breakdown:
        console.print()
        console.print(Text(rows.breakdown_title(report), style="bold"))
        found = rows.breakdown_cells(report)
        console.print(_first_fitting(console, [lambda: _breakdown_wide(found), lambda: _breakdown_stacked(found),
                                               lambda: _blocks(found, segments=True)]))
        for note in rows.unavailable_notes(report.breakdown):
            console.print(Text(f"– {note}", style="dim"))

    if report.funnel:
        console.print()
        console.print(Text(rows.funnel_title(report), style="bold"))
        console.print(_first_fitting(console, [lambda: _funnel(report, " "), lambda: _funnel(report, "\n"),
                                               lambda: _funnel_blocks(report)]))

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
        warnings = Table.grid(padding=(0, 1))
        warnings.add_column(style="yellow")
        warnings.add_column(overflow="fold")
        for warning in report.warnings:
            warnings.add_row(f" {warning.code}", warning.message)
        console.print(warnings)


def _cohorts(report: Report, arrow: str) -> Table:
    table = _table("Cohorts", rows.COHORT_HEADER, 3)
    for cells in rows.cohort_cells(report):
        table.add_row(*(cell.replace(" → ", arrow) for cell in cells))
    return table


def _cohort_blocks(report: Report) -> Group:
    lines = [Text("Cohorts", style="bold")]
    for name, where, entered, accounts, customers, effective, dropped in rows.cohort_cells(report):
        lines += [Text(name, style="bold") + Text(f"  {where} · entered {entered}"),
                  Text(f"  {accounts} accounts · {customers} customers · effective n {effective}"
                       + (f" · {dropped} dropped" if dropped else ""))]
    return Group(*lines, Text(""))


def _verdict(result: MetricResult, cells: MetricCells) -> Text:
    return Text(cells.verdict, style=VERDICT_STYLES[result.verdict])


def _metrics_wide(found: list[tuple[MetricResult, MetricCells]]) -> Table:
    table = _table("", rows.METRIC_HEADER, 1)
    for result, cells in found:
        table.add_row(*rows.metric_row(cells)[:-1], _verdict(result, cells))
    return table


def _metrics_stacked(found: list[tuple[MetricResult, MetricCells]]) -> Table:
    """Three lines per metric: the label over its n and effective n, baseline over treatment, each delta over
    its interval, p over adjusted p, the verdict over the MDE and the intervals' level."""
    header = ("metric\nn baseline · treatment\neff. (effective n)", "baseline\ntreatment", "delta\n[CI]",
              "relative\n[CI]", "p\nadj.", "verdict\nMDE\nCI level")
    table = _table("", header, 1, leading=1, tight=True)
    table.columns[0].max_width = LABEL_WIDTH  # a long label wraps at its words
    for result, cells in found:
        table.add_row(f"{cells.label}\n{cells.n}\neff. {cells.effective}", f"{cells.baseline}\n{cells.treatment}",
                      f"{cells.delta}\n{cells.ci}", f"{cells.relative}\n{cells.ci_relative}",
                      f"{cells.p}\n{cells.p_adjusted}",
                      _verdict(result, cells) + f"\nMDE {cells.mde}\nCI {cells.level}")
    return table


def _blocks(found: list[tuple[MetricResult, MetricCells]], segments: bool = False) -> Group:
    """One block per metric, for narrow terminals."""
    blocks: list[RenderableType] = []
    for result, cells in found:
        title = f"{result.segment} · {cells.label}" if segments else cells.label
        blocks += [
            Text(title, style="bold") + Text("  ") + _verdict(result, cells),
            Text(f"  baseline {cells.baseline} · treatment {cells.treatment}"),
            Text(f"  n {cells.n} (effective {cells.effective})"),
            Text(f"  delta {cells.delta} {cells.ci}"),
            Text(f"  relative {cells.relative} {cells.ci_relative}"),
            Text(f"  CI level {cells.level} · p {cells.p} · adjusted {cells.p_adjusted}"
                 + ("" if segments else f" · MDE {cells.mde}")),
            Text(""),
        ]
    return Group(*blocks)


def _breakdown_wide(found: list[tuple[MetricResult, MetricCells]]) -> Table:
    table = _table("", rows.BREAKDOWN_HEADER, 2)
    for result, cells in found:
        table.add_row(*rows.breakdown_row(result, cells)[:-1], _verdict(result, cells))
    return table


def _breakdown_stacked(found: list[tuple[MetricResult, MetricCells]]) -> Table:
    header = ("segment · metric\nn baseline · treatment", "baseline\ntreatment", "delta\n[CI]", "relative",
              "p adj.", "verdict\nCI level")
    table = _table("", header, 1, leading=1, tight=True)
    table.columns[0].max_width = LABEL_WIDTH
    for result, cells in found:
        table.add_row(f"{result.segment.partition('=')[2]} · {cells.label}\n{cells.n}",
                      f"{cells.baseline}\n{cells.treatment}", f"{cells.delta}\n{cells.ci}", cells.relative,
                      cells.p_adjusted, _verdict(result, cells) + f"\nCI {cells.level}")
    return table


def _funnel(report: Report, between: str) -> Table:
    table = _table("", rows.FUNNEL_HEADER, 1, leading=0 if between == " " else 1, tight=between != " ")
    for cells in rows.funnel_cells(report, between):
        table.add_row(*cells)
    return table


def _funnel_blocks(report: Report) -> Group:
    lines = []
    for stage, reached, conversion, conversion_delta, cost, cost_delta in rows.funnel_cells(report):
        lines.append(Text(stage, style="bold") + Text(f"  reached {reached}"))
        if conversion:
            lines.append(Text(f"  conversion {conversion} · {conversion_delta}"))
        lines.append(Text(f"  cost per account {cost} · {cost_delta}"))
    return Group(*lines)
