"""From replicate distributions to intervals, p-values, adjusted p-values and verdicts.

One place turns moments into conclusions: percentile intervals for the absolute and
relative delta (the relative delta divides by each replicate's own |baseline|, so
its interval includes the baseline's uncertainty), a p-value that inverts the
percentile interval, multiplicity adjustment through statsmodels, and the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.codes import Verdict


@dataclass(frozen=True)
class Comparison:
    """Treatment vs baseline for one metric, with bootstrap intervals."""

    baseline: float
    treatment: float
    delta: float
    ci: tuple[float, float]
    delta_relative: float
    ci_relative: tuple[float, float]
    p_value: float
    replicates: int          # replicates where the delta was defined
    undefined: int           # replicates where it was not (e.g. an empty denominator)


def relative(delta: np.ndarray | float, baseline: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(delta) / np.abs(baseline)


def bootstrap_p_value(replicates: np.ndarray) -> float:
    """Two-sided p-value of "delta = 0": the smallest α whose percentile interval excludes 0.

    Uses the (count + 1) / (B + 1) convention, so it is never exactly 0.
    """
    count = len(replicates)
    if count == 0:
        return float("nan")
    below = int(np.sum(replicates <= 0))
    above = int(np.sum(replicates >= 0))
    return min(1.0, 2.0 * (min(below, above) + 1) / (count + 1))


def bootstrap_comparison(baseline: np.ndarray, treatment: np.ndarray, confidence: float) -> Comparison:
    """Compare per-replicate estimates; element 0 of each array is the point estimate."""
    delta = treatment - baseline
    delta_relative = relative(delta, baseline)
    replicate_delta, replicate_relative = delta[1:], delta_relative[1:]
    # each interval uses the replicates where its own statistic is defined: a replicate with a
    # zero baseline has no relative delta but still has an absolute one
    defined = np.isfinite(replicate_delta)
    defined_relative = np.isfinite(replicate_relative)
    return Comparison(
        baseline=float(baseline[0]), treatment=float(treatment[0]), delta=float(delta[0]),
        ci=_percentile_interval(replicate_delta[defined], confidence),
        delta_relative=float(delta_relative[0]),
        ci_relative=_percentile_interval(replicate_relative[defined_relative], confidence),
        p_value=bootstrap_p_value(replicate_delta[defined]),
        replicates=int(defined.sum()), undefined=int((~defined).sum()),
    )


def _percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    if replicates.size == 0:
        return (float("nan"), float("nan"))
    tails = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]
    low, high = np.quantile(replicates, tails)
    return (float(low), float(high))


def adjust_p_values(p_values: list[float], correction: str) -> list[float]:
    """Adjust across the family of comparisons (Holm, Benjamini–Hochberg or none); NaNs stay NaN."""
    values = np.asarray(p_values, dtype=float)
    present = ~np.isnan(values)
    if correction == "none" or not present.any():
        return values.tolist()
    from statsmodels.stats.multitest import multipletests

    method = {"holm": "holm", "bh": "fdr_bh"}[correction]
    adjusted = values.copy()
    adjusted[present] = multipletests(values[present], method=method)[1]
    return adjusted.tolist()


def verdict(p_adjusted: float, delta: float, direction: str, confidence: float) -> Verdict:
    """better / worse when the adjusted p-value is below 1 − confidence, by the metric's direction."""
    if np.isnan(p_adjusted) or np.isnan(delta):
        return Verdict.UNAVAILABLE
    if p_adjusted >= 1 - confidence or delta == 0:
        return Verdict.INCONCLUSIVE
    improved = delta > 0 if direction == "increase" else delta < 0
    return Verdict.BETTER if improved else Verdict.WORSE
