"""Matching the baseline to the treatment cohort (docs/matching.md): exact, coarsened exact and propensity score."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cohortlab.match.core import Matching, MatchingError, effective_size
from cohortlab.match.propensity import propensity_matching
from cohortlab.match.strata import cem_matching, exact_matching, no_matching, strata_matching
from cohortlab.spec.matching import MatchSpec

__all__ = ["METHODS", "Matching", "MatchingError", "effective_size", "match"]

# (the method's own spec model, treated, covariates) -> Matching, with ``covariates`` as in `match`
Matcher = Callable[[Any, np.ndarray, dict[str, np.ndarray]], Matching]

# each method's matcher, by the `method` its spec model (cohortlab.spec.matching) is tagged with
METHODS: dict[str, Matcher] = {
    "none": no_matching,
    "exact": exact_matching,
    "cem": cem_matching,
    "propensity": propensity_matching,
}


def match(spec: MatchSpec, treated: np.ndarray, covariates: dict[str, np.ndarray]) -> Matching:
    """Match per ``spec``; ``covariates`` holds every column ``spec`` names, one value per account."""
    treated = np.asarray(treated, dtype=bool)
    if spec.method != "none" and (treated.all() or not treated.any()):
        return strata_matching(spec.method, treated, {})  # one cohort is empty: nothing to match, the report says so
    return METHODS[spec.method](spec, treated, covariates)
