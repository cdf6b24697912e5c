"""What the spec models share: unknown keys are errors, so a typo never silently changes an analysis."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from cohortlab.codes import Check


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class KeysOfOtherVariants:
    """``Annotated`` metadata of a tagged union whose variants share one vocabulary of keys (`match`: each method
    reads some of them).

    To the user the union reads as one mapping. A tag that is none of the variants' is a value not allowed, as in
    any other key. A key that the written variant does not have but another one does is reported with ``code``
    ("'caliper' is not used with method exact"), not as an unknown key; its value is checked as the variant it
    belongs to would check it. When such keys are all that is wrong, the document is parsed without them, so the
    later stages still run (``cohortlab.spec.load.parse_model``).
    """

    code: Check
