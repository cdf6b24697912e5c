"""The report as GitHub-flavoured Markdown, for pull requests and CI job summaries."""

from __future__ import annotations

from typing import TextIO

from cohortlab.report.model import Report
from cohortlab.report.render import rows
from cohortlab.report.summary import bottom_line


def _table(header: tuple[str, ...], body: list[tuple[str, ...]], right_from: int) -> list[str]:
    align = ["---" if index < right_from else "---:" for index in range(len(header))]
    escape = lambda cell: cell.replace("|", "\\|")  # noqa: E731
    return [f"| {' | '.join(header)} |", f"| {' | '.join(align)} |",
            *(f"| {' | '.join(escape(cell) for cell in cells)} |" for cells in body)]


def _notes(notes: list[str]) -> list[str]:
    return ["", *(f"- {note}" for note in notes)] if notes else []


def render_markdown(report: Report, stream: TextIO) -> None:
    experiment = report.experiment
    lines = [f"### {experiment.name}" + (f" — {experiment.title}" if experiment.title else ""), "",
             f"`{experiment.file}` · owner {experiment.owner or '–'} · data as of {report.as_of}"
             + (f" (as_of {report.as_of_basis})" if report.as_of_inferred else ""), ""]
    if experiment.hypothesis:
        lines += [f"> {experiment.hypothesis}", ""]
    lines += [f"**Bottom line:** {bottom_line(report)}", ""]
    lines += _table(rows.COHORT_HEADER, rows.cohort_cells(report), 3) + [""]
    lines += [f"**Matching:** {rows.matching_line(report)}", ""]
    if report.matching.method != "none":
        lines += [f"- {line}" for line in rows.matching_details(report)] + [""]
    lines += [f"> [!WARNING]\n> {alert}\n" for alert in rows.matching_alerts(report)]
    if report.matching.balance:
        lines += ["<details><summary>Balance</summary>", ""]
        lines += _table(rows.BALANCE_HEADER, rows.balance_cells(report), 1) + ["", "</details>", ""]
    lines += [f"**Metrics** — {rows.settings_line(report)}", ""]
    lines += _table(rows.METRIC_HEADER, [rows.metric_row(rows.metric_cells(report, result))
                                         for result in report.overall], 1)
    lines += _notes(rows.unavailable_notes(report.overall))
    lines += ["", rows.metrics_legend(report).replace("\n", "  \n")]
    if report.breakdown:
        lines += ["", f"**{rows.breakdown_title(report)}**", ""]
        lines += _table(rows.BREAKDOWN_HEADER, [rows.breakdown_row(result, cells)
                                                for result, cells in rows.breakdown_cells(report)], 2)
        lines += _notes(rows.unavailable_notes(report.breakdown))
    if report.funnel:
        lines += ["", f"**{rows.funnel_title(report)}**", ""]
        lines += _table(rows.FUNNEL_HEADER, rows.funnel_cells(report), 1)
    buildup = report.buildup_result()
    if buildup is not None:
        lines += ["", f"**{rows.buildup_title(buildup)}**", ""]
        lines += _table(rows.BUILDUP_HEADER, rows.buildup_cells(buildup), 1)
        lines += ["", rows.BUILDUP_NOTE.replace("\n", " · ")]
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- `{warning.code}` {warning.message}" for warning in report.warnings]
    stream.write("\n".join(lines) + "\n")
