"""The references stage (CL1xx): every name a file uses exists.

Metrics, their parameters and the journey stages they name come out of one pass, resolving
the metrics against the registry; `where`, `match` and `breakdown` columns out of another,
against the accounts columns the data source declares. The data source itself is checked
here too: it must be there to read the columns from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cohortlab.codes import Check, Severity
from cohortlab.data.source import MISSING_SOURCE_HINT
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS, mde_problems, primary_problems
from cohortlab.spec.yamlio import PathKey
from cohortlab.validate.rules.base import Rule, Stage, Subject

if TYPE_CHECKING:
    from cohortlab.validate.files import ExperimentFile, Source


class MetricRule(Rule):
    """A problem found resolving the experiment's metrics against the registry and the journey (one pass)."""

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(file.metric_problems)


class ColumnRule(Rule):
    """A problem found in the columns that `where`, `match` and `breakdown` name (one pass)."""

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(file.column_problems)


class UnknownMetric(MetricRule):
    """A metric name that is not registered.

    Anti-pattern: ``metrics: [cca]``.
    Best practice: a registered metric (`cohortlab docs metrics` lists them); the hint names the closest one.
    """

    code = Check.UNKNOWN_METRIC
    name = "unknown-metric"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class UnknownParameter(MetricRule):
    """A parameter the metric does not have.

    Anti-pattern: ``{metric: cac, stage: opportunity}`` (that is ``cost_per``'s parameter).
    Best practice: the metric's own parameters, which the hint lists.
    """

    code = Check.UNKNOWN_PARAMETER
    name = "unknown-parameter"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class BadParameter(MetricRule):
    """A metric parameter with an invalid value, or a required one missing.

    Anti-pattern: ``{metric: retention, months: 0}``, ``time_to_value`` without its milestone.
    Best practice: ``{metric: retention, months: 3}``.
    """

    code = Check.BAD_PARAMETER
    name = "bad-parameter"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class UnknownStage(MetricRule):
    """A stage that is not in the config's journey.

    Anti-pattern: ``{metric: cost_per, stage: demo}`` when the journey has no stage ``demo``.
    Best practice: a stage of ``journey.stages``, which the hint lists.
    """

    code = Check.UNKNOWN_STAGE
    name = "unknown-stage"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class WhereSyntax(ColumnRule):
    """A `where` expression that does not parse.

    Anti-pattern: ``where: "segment == 'SMB'"``, ``where: "segment = 'SMB' AND"``.
    Best practice: ``where: "segment = 'SMB' AND employees >= 50"`` (docs/experiments.md has the grammar).
    """

    code = Check.WHERE_SYNTAX
    name = "where-syntax"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class UnknownColumn(ColumnRule):
    """A column that the accounts table does not have, in `where`, `match` or `breakdown`.

    Anti-pattern: ``where: "onboarding_flo = 'guided_v2'"``.
    Best practice: an accounts column; the hint names the closest one.
    """

    code = Check.UNKNOWN_COLUMN
    name = "unknown-column"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class WhereType(ColumnRule):
    """A `where` value of the wrong type for its column.

    Anti-pattern: ``where: "employees >= '50'"`` (text compared with a number column).
    Best practice: ``where: "employees >= 50"``.
    """

    code = Check.WHERE_TYPE
    name = "where-type"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class UnknownMdeMetric(Rule):
    """An `mde` key that is not among the experiment's metrics.

    Anti-pattern: ``mde: {ltv: 0.1}`` in an experiment whose metrics are ``[cac]``.
    Best practice: `mde` only for listed metrics.
    """

    code = Check.UNKNOWN_MDE_METRIC
    name = "unknown-mde-metric"
    severity = Severity.ERROR
    stage = Stage.REFERENCES

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(mde_problems(file.experiment))


class PrimaryNotListed(Rule):
    """`primary` is not among the experiment's metrics.

    Anti-pattern: ``primary: ltv`` with ``metrics: [cac]``.
    Best practice: a primary metric that is also listed under ``metrics``.
    """

    code = Check.PRIMARY_NOT_LISTED
    name = "primary-not-listed"
    severity = Severity.ERROR
    stage = Stage.REFERENCES

    def check(self, file: ExperimentFile) -> list[Problem]:
        return primary_problems(file.experiment)


class NoColumns(Rule):
    """The accounts columns could not be read, so `where`, `match` and `breakdown` columns are not checked.

    Reported in the config (the source is there but cannot be read without opening the data),
    and in each experiment that names columns. Anti-pattern: a files source whose accounts table
    is missing. Best practice: the data in place when validating, or ``--check-data`` to see why.
    """

    code = Check.NO_COLUMNS
    name = "no-columns"
    severity = Severity.NOTICE
    stage = Stage.REFERENCES
    subjects = frozenset({Subject.SOURCE, Subject.EXPERIMENT})

    def check(self, file: Source | ExperimentFile) -> list[Problem]:
        if file.subject is Subject.SOURCE:
            unreadable = file.opened.unreadable
            if unreadable is None or file.check_data:  # with --check-data it is the error CL301
                return []
            return [self._problem(unreadable.message, ("source",), unreadable.hint)]
        opened = file.project.opened
        if opened.columns is not None:
            return []
        experiment = file.experiment
        written = [(name, "where") for name in COHORTS if getattr(experiment, name).where is not None]
        written += [("match", *path) for path, _ in experiment.match.columns()][:1]
        written += [("breakdown", index) for index in range(len(experiment.breakdown))][:1]
        return [self._problem(opened.reason, written[0])] if written else []

    def _problem(self, reason: str, path: PathKey, hint: str | None = None) -> Problem:
        return Problem(self.code, "accounts columns not read, so `where`, `match` and `breakdown` columns are not "
                       f"checked: {reason}", path, hint)


class ColumnType(ColumnRule):
    """A `match` or `breakdown` column of a type the method cannot use.

    Anti-pattern: ``coarsen: {channel: 4}`` (text cannot be cut into bins); a list column in ``breakdown``.
    Best practice: coarsen numbers, match exactly on values, use numbers, text or booleans as covariates.
    """

    code = Check.COLUMN_TYPE
    name = "column-type"
    severity = Severity.ERROR
    stage = Stage.REFERENCES


class SourceNotFound(Rule):
    """`source.path` names a folder or DuckDB file that does not exist, or one of the other kind.

    Anti-pattern: ``source: {kind: files, path: ../dta}``: it would pass CI and fail `compare`.
    Best practice: a path relative to the config's folder, with the data there before validating.
    """

    code = Check.SOURCE_NOT_FOUND
    name = "source-not-found"
    severity = Severity.ERROR
    stage = Stage.REFERENCES
    subjects = frozenset({Subject.SOURCE})

    def check(self, file: Source) -> list[Problem]:
        missing = file.opened.missing
        return [] if missing is None else [Problem(self.code, missing, ("source", "path"), MISSING_SOURCE_HINT)]
