"""What a rule of `cohortlab validate` is: a code with a name, a severity, a stage and a check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from cohortlab.codes import Check, Severity
from cohortlab.errors import SourceLocation
from cohortlab.spec.problems import Problem
from cohortlab.spec.yamlio import LoadedYaml

if TYPE_CHECKING:
    from cohortlab.validate.files import ConfigFile, ExperimentFile, Source


class Stage(Enum):
    """The stages a file is checked in, in order; its report stops at the first stage with an error."""

    SCHEMA = "YAML and schema"
    REFERENCES = "references"
    SEMANTICS = "semantics"
    DATA = "data"


class Subject(Enum):
    """What a rule looks at."""

    CONFIG = "config"
    SOURCE = "source"           # the data source a config names; its findings stand in the config
    EXPERIMENT = "experiment"


EXPERIMENTS = frozenset({Subject.EXPERIMENT})
FILES = frozenset({Subject.CONFIG, Subject.EXPERIMENT})


class Rule:
    """One check with a stable code. Subclasses set the class attributes and ``check``; the class docstring is the
    rule's documentation: a one-line description, then an anti-pattern and a best practice."""

    code: ClassVar[Check]
    name: ClassVar[str]                     # kebab-case, shown with the code when the rule crashes
    severity: ClassVar[Severity]
    stage: ClassVar[Stage]
    subjects: ClassVar[frozenset[Subject]] = EXPERIMENTS

    def check(self, file: ConfigFile | Source | ExperimentFile) -> list[Problem]:
        """Every problem with this rule's code in ``file``."""
        raise NotImplementedError

    def mine(self, problems: Iterable[Problem]) -> list[Problem]:
        """This rule's problems among those of a pass several rules share."""
        return [problem for problem in problems if problem.code is self.code]

    @property
    def description(self) -> str:
        return (self.__doc__ or "").strip().splitlines()[0]


@dataclass(frozen=True)
class PlacedProblem(Problem):
    """A problem whose position is known without a document: the file did not load, or a rule crashed."""

    location: SourceLocation | None = None

    def locate(self, loaded: LoadedYaml | None) -> SourceLocation | None:
        return self.location


class Internal(Rule):
    """A rule crashed on this file: a bug in cohortlab, reported as a finding that names the rule.

    The other rules still run on the file, and the other files are checked. Please report it, with the file.
    """

    code = Check.INTERNAL
    name = "internal"
    severity = Severity.ERROR
    stage = Stage.SCHEMA         # nominal: a crash is reported in the stage of the rule that crashed
    subjects = frozenset()       # it checks nothing itself

    def check(self, file: ConfigFile | Source | ExperimentFile) -> list[Problem]:
        return []

    def crashed(self, rule: Rule, error: Exception, file: str) -> Problem:
        """The finding for ``rule`` raising ``error`` on ``file``: at the file's start, since nothing locates it."""
        return PlacedProblem(self.code, f"internal error in rule {rule.code} {rule.name}: {type(error).__name__}: "
                             f"{error}", hint="please report it, with the file", location=SourceLocation(file, 1, 1))
