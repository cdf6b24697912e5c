"""An experiment's `match`: one model per matching method, told apart by `method` (`cohortlab docs matching`).

Each model holds its own method's keys and no others, so a key of another method is rejected by the model
where it is written; the loader reports it as CL210 with the method it belongs to (:class:`KeysOfOtherVariants`).
What a method needs beyond its keys' types (``on`` for exact, increasing cutpoints for cem, …) is its model's
:meth:`MatchSpec.problems`, one of the semantic rules.

A new method adds its model here and to :data:`AnyMatchSpec`, and its matcher to ``cohortlab.match.METHODS``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from cohortlab.codes import Check
from cohortlab.spec.base import KeysOfOtherVariants, Strict
from cohortlab.spec.problems import Problem

ColumnPath = tuple[tuple, str]  # (JSON path inside `match`, accounts column)


class MatchSpec(Strict):
    """What every method's spec answers: which accounts columns it reads, which strata it weights within, and
    what is missing or contradictory in it."""

    method: str

    def columns(self) -> list[ColumnPath]:
        """(JSON path, column) for every accounts column the matching reads, in the order written."""
        return []

    def column_names(self) -> list[str]:
        return list(dict.fromkeys(name for _, name in self.columns()))

    def strata(self) -> tuple[list[str], list[str]]:
        """The columns whose strata the baseline is reweighted within: (matched exactly, cut into bins first);
        both empty for a method that does not weight stratum by stratum."""
        return [], []

    def problems(self) -> list[Problem]:
        """What the method needs beyond its keys' types (CL210), at their paths in the experiment."""
        return []

    def _needs(self, key: str, example: str) -> list[Problem]:
        """The key the method cannot do without, when it is missing or empty."""
        if getattr(self, key):
            return []
        return [Problem(Check.MATCH_SPEC, f"method {self.method} needs '{key}'", ("match", "method"), example)]


def _listed(key: str, names: list[str]) -> list[ColumnPath]:
    return [((key, index), name) for index, name in enumerate(names)]


class NoMatch(MatchSpec):
    """none: a naive comparison, the baseline as it is."""

    method: Literal["none"] = "none"


class ExactMatch(MatchSpec):
    """exact: the baseline reweighted within the strata of the `on` columns."""

    method: Literal["exact"]
    on: list[str] = Field(default_factory=list, description="Accounts columns matched exactly.")

    def columns(self) -> list[ColumnPath]:
        return _listed("on", self.on)

    def strata(self) -> tuple[list[str], list[str]]:
        return list(self.on), []

    def problems(self) -> list[Problem]:
        return self._needs("on", "match: {method: exact, on: [segment, channel]}")


class CemMatch(MatchSpec):
    """cem: coarsened exact matching; numeric `coarsen` columns cut into bins, then matched exactly with `on`."""

    method: Literal["cem"]
    on: list[str] = Field(default_factory=list, description="Accounts columns matched exactly, as they are.")
    coarsen: dict[str, list[float] | Annotated[int, Field(ge=2, le=1000)]] = Field(
        default_factory=dict, description="Numeric column -> its cutpoints (increasing), or a number of quantile "
        "bins.")

    def columns(self) -> list[ColumnPath]:
        return _listed("on", self.on) + [(("coarsen", name), name) for name in self.coarsen]

    def strata(self) -> tuple[list[str], list[str]]:
        return list(self.on), list(self.coarsen)

    def problems(self) -> list[Problem]:
        problems = self._needs("coarsen", "match: {method: cem, on: [segment], coarsen: {employees: [10, 50, 250]}}")
        for column, cut in self.coarsen.items():
            path = ("match", "coarsen", column)
            if column in self.on:
                problems.append(Problem(Check.MATCH_SPEC, f"'{column}' is both matched exactly ('on') and coarsened",
                                        path, "list it in one of the two", key=True))
            if isinstance(cut, list) and (not cut or any(b <= a for a, b in zip(cut, cut[1:]))):
                problems.append(Problem(Check.MATCH_SPEC, f"cutpoints for '{column}' must be a non-empty, strictly "
                                        "increasing list", path, "e.g. [10, 50, 250], or a number of quantile bins "
                                        "such as 5"))
        return problems


_NEAREST_ONLY = ("exact", "caliper", "ratio", "replace")


class PropensityMatch(MatchSpec):
    """propensity: a logistic score on `covariates`; nearest-neighbour matching on it, or odds weighting."""

    method: Literal["propensity"]
    covariates: list[str] = Field(default_factory=list, description="Accounts columns in the score model (numbers "
                                  "as they are, text and booleans per level).")
    exact: list[str] = Field(default_factory=list, description="Columns whose strata the matches must stay inside.")
    caliper: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="The largest distance to a match, in standard deviations of the logit score "
        "(0.2 is common); default: none.")
    ratio: Annotated[int, Field(ge=1, le=100)] = Field(default=1, description="Baseline matches per treatment "
                                                       "account (k in 1:k).")
    replace: bool = Field(default=False, description="Whether a baseline account may be matched to several "
                          "treatment accounts.")
    weighting: Literal["nearest", "odds"] = Field(
        default="nearest", description="Nearest-neighbour matching, or odds weighting (each baseline account "
        "weighted by p/(1-p)).")
    trim: Annotated[float, Field(gt=0, lt=0.5)] | None = Field(
        default=None, description="With odds weighting: drop accounts whose score is above 1 - trim.")

    def columns(self) -> list[ColumnPath]:
        return _listed("covariates", self.covariates) + _listed("exact", self.exact)

    def problems(self) -> list[Problem]:
        problems = self._needs("covariates", "match: {method: propensity, covariates: [segment, employees]}")
        written = self.model_fields_set
        if self.weighting == "odds":
            problems += [Problem(Check.MATCH_SPEC, f"'{key}' is for nearest-neighbour matching, not odds weighting",
                                 ("match", key), "remove it, or remove weighting: odds", key=True)
                         for key in _NEAREST_ONLY if key in written]
        elif "trim" in written:
            problems.append(Problem(Check.MATCH_SPEC, "'trim' is for odds weighting", ("match", "trim"),
                                    "add weighting: odds, or use caliper to limit nearest-neighbour distances",
                                    key=True))
        return problems


def _none_unless_written(value: Any) -> Any:
    """`match` without `method` is a naive comparison (and its other keys are then out of place)."""
    if isinstance(value, dict) and "method" not in value:
        return {"method": "none", **value}
    return value


AnyMatchSpec = Annotated[
    NoMatch | ExactMatch | CemMatch | PropensityMatch,
    Field(discriminator="method"),
    BeforeValidator(_none_unless_written),
    KeysOfOtherVariants(Check.MATCH_SPEC),
]
