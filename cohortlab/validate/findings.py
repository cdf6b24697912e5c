"""What `cohortlab validate` reports: findings with a position, a code and its rule's severity."""

from __future__ import annotations

from dataclasses import dataclass

from cohortlab.codes import Check, Severity
from cohortlab.errors import SourceLocation
from cohortlab.spec.problems import Problem, json_path
from cohortlab.spec.yamlio import LoadedYaml
from cohortlab.validate.rules import RULE

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in one file: ``file:line:col: CODE message`` plus its JSON path and a hint."""

    file: str
    line: int
    col: int
    code: Check
    message: str
    path: str = "$"
    hint: str | None = None

    @classmethod
    def of(cls, problem: Problem, loaded: LoadedYaml | None, file: str) -> Finding:
        location = problem.locate(loaded) or SourceLocation(file, 1, 1)
        return cls(file, location.line, location.col, problem.code, problem.message, json_path(problem.path),
                   problem.hint)

    @property
    def severity(self) -> Severity:
        return RULE[self.code].severity

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Result:
    """The findings on the files checked, in file and position order."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(finding.severity is severity for finding in self.findings)

    def exit_code(self, strict: bool) -> int:
        failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return EXIT_FINDINGS if any(finding.severity in failing for finding in self.findings) else EXIT_CLEAN
