"""Renderers of a Report, one per output format, behind one registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from cohortlab.report.model import Report

Renderer = Callable[[Report, TextIO, bool], None]


def _text(report: Report, stream: TextIO, color: bool) -> None:
    from cohortlab.report.render.text import render_text

    render_text(report, stream, color)


def _json(report: Report, stream: TextIO, color: bool) -> None:
    from cohortlab.report.render.json import render_json

    render_json(report, stream)


def _markdown(report: Report, stream: TextIO, color: bool) -> None:
    from cohortlab.report.render.markdown import render_markdown

    render_markdown(report, stream)


RENDERERS: dict[str, Renderer] = {"text": _text, "json": _json, "markdown": _markdown}
