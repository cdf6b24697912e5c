"""From replicate distributions to intervals, p-values, adjusted p-values and verdicts.

One place turns moments into conclusions: percentile or BCa intervals for the absolute
and relative delta (the relative delta divides by each replicate's own |baseline|, so
its interval includes the baseline's uncertainty), a p-value that inverts the interval,
multiplicity adjustment through statsmodels, and the verdict.

BCa (Efron 1987) shifts the percentile levels by a bias correction z₀ (how far the
replicates' median sits from the estimate) and an acceleration a (the skewness of the
estimate's influence, from a grouped jackknife): level(α) = Φ(z₀ + (z₀ + z_α)/(1 − a(z₀ + z_α))).
With z₀ = a = 0 it is the percentile interval.
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
    standard_error: float = float("nan")            # of the delta
    standard_error_relative: float = float("nan")   # of the relative delta


def relative(delta: np.ndarray | float, baseline: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(delta) / np.abs(baseline)


def bootstrap_p_value(replicates: np.ndarray, point: float = 0.0, acceleration: float | None = None) -> float:
    """Two-sided p-value of "delta = 0": the smallest α whose interval excludes 0.

    The percentile interval by default; with an ``acceleration`` (BCa), the level at which 0
    falls is mapped back through the BCa adjustment. The share of replicates on either side
    of 0 uses the (count + 1) / (B + 1) convention, so the p-value is never exactly 0.
    """
    count = len(replicates)
    if count == 0:
        return float("nan")
    below = int(np.sum(replicates <= 0))
    above = int(np.sum(replicates >= 0))
    if acceleration is None:
        return min(1.0, 2.0 * (min(below, above) + 1) / (count + 1))
    from scipy.stats import norm

    z0 = _bias_correction(replicates, point)
    share = min(max(below, 1), count) / (count + 1)  # the level at which 0 sits among the replicates
    shifted = norm.ppf(share) - z0
    z_level = shifted / (1 + acceleration * shifted) - z0
    return float(min(1.0, 2.0 * norm.cdf(-abs(z_level))))


def bootstrap_comparison(baseline: np.ndarray, treatment: np.ndarray, confidence: float,
                         jackknife: tuple[np.ndarray, np.ndarray] | None = None) -> Comparison:
    """Compare per-replicate estimates; element 0 of each array is the point estimate.

    ``jackknife``, when given, holds (baseline, treatment) estimates with each block of accounts
    left out in turn, and the intervals are BCa; otherwise they are percentile intervals.
    """
    delta = treatment - baseline
    delta_relative = relative(delta, baseline)
    replicate_delta, replicate_relative = delta[1:], delta_relative[1:]
    # each interval uses the replicates where its own statistic is defined: a replicate with a
    # zero baseline has no relative delta but still has an absolute one
    defined = np.isfinite(replicate_delta)
    defined_relative = np.isfinite(replicate_relative)
    acceleration = acceleration_relative = None
    if jackknife is not None:
        left_out_baseline, left_out_treatment = jackknife
        acceleration = jackknife_acceleration(left_out_treatment - left_out_baseline)
        acceleration_relative = jackknife_acceleration(relative(left_out_treatment - left_out_baseline,
                                                                left_out_baseline))
    kept, kept_relative = replicate_delta[defined], replicate_relative[defined_relative]
    return Comparison(
        baseline=float(baseline[0]), treatment=float(treatment[0]), delta=float(delta[0]),
        ci=_interval(kept, float(delta[0]), confidence, acceleration),
        delta_relative=float(delta_relative[0]),
        ci_relative=_interval(kept_relative, float(delta_relative[0]), confidence, acceleration_relative),
        p_value=bootstrap_p_value(kept, float(delta[0]), acceleration),
        replicates=int(defined.sum()), undefined=int((~defined).sum()),
        standard_error=_spread(kept), standard_error_relative=_spread(kept_relative),
    )


def _spread(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def jackknife_acceleration(left_out: np.ndarray) -> float:
    """BCa's acceleration from leave-one-block-out estimates: a = Σ d³ / (6 (Σ d²)^(3/2)), d = mean − θ₍ᵢ₎.
    0 when the estimates are undefined or do not vary."""
    left_out = left_out[np.isfinite(left_out)]
    if len(left_out) < 2:
        return 0.0
    differences = left_out.mean() - left_out
    squares = float(np.sum(differences**2))
    return float(np.sum(differences**3) / (6.0 * squares**1.5)) if squares > 0 else 0.0


def _bias_correction(replicates: np.ndarray, point: float) -> float:
    """z₀ = Φ⁻¹(share of replicates below the estimate, ties counted half), kept finite."""
    from scipy.stats import norm

    count = len(replicates)
    share = (np.sum(replicates < point) + 0.5 * np.sum(replicates == point)) / count
    return float(norm.ppf(np.clip(share, 0.5 / count, 1 - 0.5 / count)))


def _interval(replicates: np.ndarray, point: float, confidence: float, acceleration: float | None
              ) -> tuple[float, float]:
    if replicates.size == 0:
        return (float("nan"), float("nan"))
    tails = np.array([(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    if acceleration is not None and np.isfinite(point):
        from scipy.stats import norm

        z0 = _bias_correction(replicates, point)
        z = z0 + norm.ppf(tails)
        tails = norm.cdf(z0 + z / (1 - acceleration * z))
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
