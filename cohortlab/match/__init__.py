"""Matching the baseline to the treatment cohort (docs/matching.md): exact, coarsened exact and propensity score."""

from __future__ import annotations

import numpy as np

from cohortlab.match.core import Matching, MatchingError, effective_size, factorize
from cohortlab.match.strata import coarsen, exact_matching, no_matching
from cohortlab.spec.models import MatchSpec

__all__ = ["Matching", "MatchingError", "effective_size", "match"]


def match(spec: MatchSpec, treated: np.ndarray, covariates: dict[str, np.ndarray]) -> Matching:
    """Match per ``spec``; ``covariates`` holds every column ``spec`` names, one value per account."""
    treated = np.asarray(treated, dtype=bool)
    if spec.method == "none":
        return no_matching(treated)
    if treated.all() or not treated.any():  # one cohort is empty: nothing to match, the report says so
        return exact_matching(spec.method, treated, {})
    if spec.method == "exact":
        return exact_matching("exact", treated, {name: factorize(covariates[name]) for name in spec.on})
    if spec.method == "cem":
        columns = {name: factorize(covariates[name]) for name in spec.on}
        cutpoints = {}
        for name, cut in spec.coarsen.items():
            columns[name], cutpoints[name] = coarsen(covariates[name], cut)
        return exact_matching("cem", treated, columns, {"cutpoints": cutpoints})
    from cohortlab.match.propensity import propensity_matching

    return propensity_matching(spec, treated, covariates)
