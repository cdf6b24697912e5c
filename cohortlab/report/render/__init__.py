"""Renderers of a Report, one per output format, behind one registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from cohortlab.report.model import Report

Renderer = Callable[[Sequence[Report], TextIO, bool], None]


def _text(reports: Sequence[Report], stream: TextIO, color: bool) -> None:
    from cohortlab.report.render.text import render_text

    for index, report in enumerate(reports):
        if index:
            stream.write("\n")
        render_text(report, stream, color)


def _json(reports: Sequence[Report], stream: TextIO, color: bool) -> None:
    """One report as an object; several as an array of them."""
    from cohortlab.report.render.json import render_json

    render_json(reports[0] if len(reports) == 1 else list(reports), stream)


def _markdown(reports: Sequence[Report], stream: TextIO, color: bool) -> None:
    from cohortlab.report.render.markdown import render_markdown

    for index, report in enumerate(reports):
        if index:
            stream.write("\n")
        render_markdown(report, stream)


RENDERERS: dict[str, Renderer] = {"text": _text, "json": _json, "markdown": _markdown}
