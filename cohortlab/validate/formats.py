"""How `cohortlab validate` prints its findings: text, json, github annotations, junit XML."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO
from xml.etree import ElementTree

from cohortlab.codes import Severity
from cohortlab.validate.findings import Finding, Result

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(result: Result) -> str:
    counts = [_plural(result.count(severity), str(severity)) for severity in Severity if result.count(severity)]
    checked = _plural(len(result.files), "file")
    return f"{', '.join(counts)} in {checked}" if counts else f"{checked} checked, no problems"


def text(result: Result, stream: TextIO, color: bool) -> None:
    """``file:line:col: CODE message`` per finding, its hint below, then a one-line summary."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=stream, no_color=not color, highlight=False, soft_wrap=True, emoji=False,
                      force_terminal=color, color_system="standard" if color else None)
    for finding in result.findings:
        severity = "" if finding.severity is Severity.ERROR else f"{finding.severity}: "
        console.print(f"[bold]{escape(finding.location)}:[/bold] [{_STYLE[finding.severity]}]{finding.code}"
                      f"[/{_STYLE[finding.severity]}] {escape(severity + finding.message)}")
        if finding.hint:
            console.print(f"  [dim]hint:[/dim] {escape(finding.hint)}")
    console.print(summary(result))


def as_dict(finding: Finding) -> dict:
    return {"file": finding.file, "line": finding.line, "col": finding.col, "code": str(finding.code),
            "severity": str(finding.severity), "message": finding.message, "path": finding.path,
            "hint": finding.hint}


def json_format(result: Result, stream: TextIO, color: bool) -> None:
    document = {"schema_version": 1, "files": list(result.files),
                "summary": {str(severity): result.count(severity) for severity in Severity},
                "findings": [as_dict(finding) for finding in result.findings]}
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: Result, stream: TextIO, color: bool) -> None:
    """GitHub Actions workflow commands: an annotation per finding on the pull request's lines."""
    for finding in result.findings:
        message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
        properties = (f"file={_escape_property(finding.file)},line={finding.line},col={finding.col},"
                      f"title={_escape_property(f'{finding.code} {finding.path}')}")
        stream.write(f"::{finding.severity} {properties}::{_escape_data(message)}\n")
    stream.write(summary(result) + "\n")


def markdown_summary(result: Result) -> str:
    """A Markdown table of the findings for the job summary (``$GITHUB_STEP_SUMMARY``)."""
    lines = ["### cohortlab validate", "", summary(result), ""]
    if result.findings:
        lines += ["| | location | code | message |", "|---|---|---|---|"]
        icon = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}
        for finding in result.findings:
            message = finding.message + (f" — {finding.hint}" if finding.hint else "")
            cell = message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {icon[finding.severity]} | `{finding.location}` | {finding.code} | {cell} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold (control characters from a broken file)."""
    return "".join(c if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"
                   else "\ufffd" for c in value)


def junit(result: Result, stream: TextIO, color: bool) -> None:
    """JUnit XML: a test suite per file, a failing test case per error or warning, a passing one if clean."""
    failing = (Severity.ERROR, Severity.WARNING)
    suites = ElementTree.Element("testsuites", name="cohortlab validate")
    total_tests = total_failures = 0
    for file in result.files:
        findings = [f for f in result.findings if f.file == file and f.severity in failing]
        suite = ElementTree.SubElement(suites, "testsuite", name=file)
        if not findings:
            ElementTree.SubElement(suite, "testcase", classname=file, name="valid")
        for finding in findings:
            case = ElementTree.SubElement(suite, "testcase", classname=_xml_text(file), name=_xml_text(
                f"{finding.code} {finding.path} ({finding.line}:{finding.col})"))
            failure = ElementTree.SubElement(case, "failure", type=str(finding.code),
                                             message=_xml_text(finding.message))
            failure.text = _xml_text(f"{finding.location}: {finding.code} {finding.message}" + (
                f"\nhint: {finding.hint}" if finding.hint else ""))
        tests, failures = max(len(findings), 1), len(findings)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests, total_failures = total_tests + tests, total_failures + failures
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    ElementTree.indent(suites)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ElementTree.tostring(suites, encoding="unicode"))
    stream.write("\n")


FORMATS: dict[str, Callable[[Result, TextIO, bool], None]] = {
    "text": text, "json": json_format, "github": github, "junit": junit,
}
