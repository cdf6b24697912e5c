"""The rules of `cohortlab validate`: one class per code, each listed once in :data:`RULES`.

A rule (:class:`~cohortlab.validate.rules.base.Rule`) has a stable ``code``
(:class:`cohortlab.codes.Check`), a kebab-case ``name``, a ``severity``, the ``stage`` that
runs it, the ``subjects`` it looks at (a config, the data source it names, an experiment)
and a ``check`` method returning its problems. Its docstring is its documentation: a
one-line description, then an anti-pattern and a best practice. The rules live in one
module per stage: :mod:`.schema`, :mod:`.references`, :mod:`.semantics`, :mod:`.data`.

The severity and stage of every finding come from here. :mod:`cohortlab.validate.run`
checks each file stage by stage, stops at the first stage with an error, and turns a rule
that crashes into one internal-error finding (CL999) naming it while the other rules run on.

To add a check: add a code to :class:`cohortlab.codes.Check`; write a rule class in the
module of its stage (code, name, severity, stage, subjects, docstring, ``check``); add one
line for it to :data:`RULES` below; add the code to the table in docs/ci.md; and add a
corpus case under tests/validate_corpus whose ``# expect:`` lines name it.
"""

from __future__ import annotations

from cohortlab.codes import Check, Severity
from cohortlab.validate.rules import data, references, schema, semantics
from cohortlab.validate.rules.base import Internal, Rule, Stage, Subject

INTERNAL = Internal()

RULES: tuple[Rule, ...] = (
    schema.YamlSyntax(),
    schema.DuplicateKey(),
    schema.NotAMapping(),
    schema.UnknownKey(),
    schema.MissingKey(),
    schema.WrongType(),
    schema.NotAllowed(),
    schema.OutOfRange(),
    schema.BadFormat(),
    references.UnknownMetric(),
    references.UnknownParameter(),
    references.BadParameter(),
    references.UnknownStage(),
    references.WhereSyntax(),
    references.UnknownColumn(),
    references.WhereType(),
    references.UnknownMdeMetric(),
    references.PrimaryNotListed(),
    references.NoColumns(),
    references.ColumnType(),
    references.SourceNotFound(),
    semantics.NameMismatch(),
    semantics.DuplicateName(),
    semantics.WindowOrder(),
    semantics.BaselineInFuture(),
    semantics.TreatmentOpen(),
    semantics.CohortsOverlap(),
    semantics.CohortsMayOverlap(),
    semantics.MetricTwice(),
    semantics.BadMde(),
    semantics.MatchSpec(),
    semantics.Journey(),
    data.DataUnreadable(),
    data.WindowOutsideData(),
    data.CohortTooSmall(),
    data.LowSupport(),
    data.Underpowered(),
    data.MetricUnavailable(),
    data.DetectableEffect(),
    data.WindowPartlyOutside(),
    INTERNAL,
)

RULE: dict[Check, Rule] = {rule.code: rule for rule in RULES}
SEVERITY: dict[Check, Severity] = {rule.code: rule.severity for rule in RULES}

__all__ = ["INTERNAL", "RULE", "RULES", "SEVERITY", "Rule", "Stage", "Subject"]
