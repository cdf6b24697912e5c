"""The semantics stage (CL2xx): a well-formed file whose names all exist can still be unsound.

Entry windows, overlap of the cohorts, metrics listed twice, `mde` values, the `match`
spec and the journey; the experiment's name against its file and the project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cohortlab.codes import Check, Severity
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import (config_problems, future_window_problems, mde_problems,
                                  overlap_problems, possible_overlap_problems, window_order_problems)
from cohortlab.validate.rules.base import Rule, Stage, Subject
from cohortlab.validate.rules.references import MetricRule

if TYPE_CHECKING:
    from cohortlab.validate.files import ConfigFile, ExperimentFile


class NameMismatch(Rule):
    """The file stem differs from `name`.

    Anti-pattern: ``name: onboarding-v3`` in ``experiments/onboarding-v2.yaml`` (a copied file not renamed).
    Best practice: the file named after its experiment.
    """

    code = Check.NAME_MISMATCH
    name = "name-mismatch"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        path, name = file.path, file.experiment.name
        if path.stem == name:
            return []
        return [Problem(self.code, f"name '{name}' differs from the file name '{path.name}'", ("name",),
                        f"rename the file to {name}{path.suffix} or set name: {path.stem}")]


class DuplicateName(Rule):
    """Two experiments of a project share a name.

    Anti-pattern: a copied experiment whose ``name`` was left as it was.
    Best practice: each experiment its own name (and its file named after it).
    """

    code = Check.DUPLICATE_NAME
    name = "duplicate-name"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        others = file.namesakes
        if not others:
            return []
        return [Problem(self.code, f"experiment name '{file.experiment.name}' is also used by {', '.join(others)}",
                        ("name",), "each experiment needs its own name")]


class WindowOrder(Rule):
    """An entry window ends before it starts.

    Anti-pattern: ``entered: {from: 2025-03-01, to: 2024-12-31}``.
    Best practice: ``to`` on or after ``from``.
    """

    code = Check.WINDOW_ORDER
    name = "window-order"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return window_order_problems(file.experiment)


class BaselineInFuture(Rule):
    """The baseline's entry window ends after today.

    Anti-pattern: a baseline entered until 2099-06-30: a baseline is history.
    Best practice: a baseline window that has ended.
    """

    code = Check.BASELINE_IN_FUTURE
    name = "baseline-in-future"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(future_window_problems(file.experiment, file.today))


class TreatmentOpen(Rule):
    """The treatment's entry window ends after today: accounts entering later are not in the cohort yet.

    Anti-pattern: comparing a treatment entered until next quarter as if it were complete.
    Best practice: fine while the experiment runs; compare again once the window has closed.
    """

    code = Check.TREATMENT_OPEN
    name = "treatment-open"
    severity = Severity.WARNING
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(future_window_problems(file.experiment, file.today))


class CohortsOverlap(Rule):
    """Treatment and baseline select the same accounts: overlapping windows with the same filter, or none on one side.

    Anti-pattern: both cohorts entered in March 2025, and neither has a ``where``.
    Best practice: disjoint entry windows, or filters that exclude each other.
    """

    code = Check.COHORTS_OVERLAP
    name = "cohorts-overlap"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return overlap_problems(file.experiment)


class CohortsMayOverlap(Rule):
    """Overlapping windows whose filters do not provably exclude each other.

    Filters exclude each other when, among their top-level ``AND`` terms, one column is
    restricted to values the other excludes. Anti-pattern: ``onboarding_flow = 'classic' OR
    employees > 100`` against ``onboarding_flow = 'guided_v2'``. Best practice:
    ``onboarding_flow = 'guided_v2'`` against ``onboarding_flow = 'classic'``.
    """

    code = Check.COHORTS_MAY_OVERLAP
    name = "cohorts-may-overlap"
    severity = Severity.WARNING
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return possible_overlap_problems(file.experiment)


class MetricTwice(MetricRule):
    """The same metric with the same parameters listed twice.

    Anti-pattern: ``metrics: [retention, {metric: retention, months: 3}]`` (3 months is the default).
    Best practice: each metric and parameter set once.
    """

    code = Check.METRIC_TWICE
    name = "metric-twice"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS


class BadMde(Rule):
    """An `mde` that is not a relative effect between 0 and 1.

    Anti-pattern: ``mde: {ltv: 5}`` meaning 5%.
    Best practice: ``mde: {ltv: 0.05}``.
    """

    code = Check.BAD_MDE
    name = "bad-mde"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(mde_problems(file.experiment))


class MatchSpec(Rule):
    """`match` keys that do not fit the method, a method without what it needs, or cutpoints out of order.

    Anti-pattern: ``match: {method: exact}`` (exact on nothing), ``coarsen: {employees: [50, 10]}``.
    Best practice: ``match: {method: exact, on: [segment, channel]}``; increasing cutpoints.
    """

    code = Check.MATCH_SPEC
    name = "match-spec"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS

    def check(self, file: ExperimentFile) -> list[Problem]:
        # keys of another method, found by the loader (the model is parsed without them), then the method's own
        return [*self.mine(file.schema_problems), *file.experiment.match.problems()]


class Journey(Rule):
    """The config's journey repeats a stage, or its `won` stage is not among the stages.

    Anti-pattern: ``journey: {stages: [lead, customer, lead], won: client}``.
    Best practice: each stage once, in order, and `won` naming the stage where an account becomes a customer.
    """

    code = Check.JOURNEY
    name = "journey"
    severity = Severity.ERROR
    stage = Stage.SEMANTICS
    subjects = frozenset({Subject.CONFIG})

    def check(self, file: ConfigFile) -> list[Problem]:
        return config_problems(file.config)
