"""The first stage, YAML and schema (CL0xx): the file loads as YAML, is a mapping and fits its model.

Configs and experiments alike. One pass finds these problems (loading the file, then
parsing it with pydantic: :func:`cohortlab.spec.load.parse_model`); each rule takes those
with its code. Every one is an error: without a model there is nothing to check further.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cohortlab.codes import Check, Severity
from cohortlab.spec.problems import Problem
from cohortlab.validate.rules.base import FILES, Rule, Stage

if TYPE_CHECKING:
    from cohortlab.validate.files import YamlFile


class SchemaRule(Rule):
    """A problem found while loading a file or parsing it into its model."""

    severity = Severity.ERROR
    stage = Stage.SCHEMA
    subjects = FILES

    def check(self, file: YamlFile) -> list[Problem]:
        return self.mine(file.schema_problems)


class YamlSyntax(SchemaRule):
    """Not valid YAML: also a key that is not a plain scalar, an alias cycle, a document past 100,000 values.

    Anti-pattern: ``metrics: [cac, ltv`` (a list never closed), a tab in the indentation, a file that is not UTF-8.
    Best practice: plain YAML mappings, lists and scalars, indented with spaces.
    """

    code = Check.YAML_SYNTAX
    name = "yaml-syntax"


class DuplicateKey(SchemaRule):
    """A key appears twice in one mapping (YAML would silently keep the last).

    Anti-pattern: two ``metrics:`` keys at the top of a file.
    Best practice: each key once; merge the two values.
    """

    code = Check.DUPLICATE_KEY
    name = "duplicate-key"


class NotAMapping(SchemaRule):
    """The document is empty, or not a mapping of keys to values.

    Anti-pattern: an empty file, or a file holding only a list.
    Best practice: ``name:``, ``treatment:``, ``baseline:`` and the other keys at the top level.
    """

    code = Check.NOT_A_MAPPING
    name = "not-a-mapping"


class UnknownKey(SchemaRule):
    """A key the schema does not have.

    Anti-pattern: ``primray: ltv`` (a typo: it would be ignored, and the primary metric lost).
    Best practice: the keys the schema lists; the hint names the closest one.
    """

    code = Check.UNKNOWN_KEY
    name = "unknown-key"


class MissingKey(SchemaRule):
    """A required key is absent.

    Anti-pattern: a cohort without ``entered``.
    Best practice: ``entered: {from: 2025-03-01, to: 2025-08-31}`` on both cohorts.
    """

    code = Check.MISSING_KEY
    name = "missing-key"


class WrongType(SchemaRule):
    """A value of the wrong type.

    Anti-pattern: ``metrics: cac`` (text where a list belongs).
    Best practice: ``metrics: [cac]``.
    """

    code = Check.WRONG_TYPE
    name = "wrong-type"


class NotAllowed(SchemaRule):
    """A value outside the allowed choices.

    Anti-pattern: ``match: {method: optimal}``.
    Best practice: one of the choices the message lists (``exact``, ``cem``, ``propensity``, ``none``).
    """

    code = Check.NOT_ALLOWED
    name = "not-allowed"


class OutOfRange(SchemaRule):
    """A number or a list's length outside its bounds.

    Anti-pattern: ``economics: {gross_margin: 1.5}`` (a share above 1).
    Best practice: a value within the bounds the message gives.
    """

    code = Check.OUT_OF_RANGE
    name = "out-of-range"


class BadFormat(SchemaRule):
    """A value in the wrong format: a name off its pattern, an impossible date, a YAML tag.

    Anti-pattern: ``name: Onboarding V2``, ``from: 2025-02-30``, ``title: !!binary aGk=``.
    Best practice: ``name: onboarding-v2``, real dates written as 2025-03-01, plain values.
    """

    code = Check.BAD_FORMAT
    name = "bad-format"
