"""Minimum detectable effect and power of a two-sided test from the delta's standard error (docs/inference.md).

With standard error SE of the treatment − baseline delta (it holds both cohorts' sizes and
variances), a test at level α among m tests (Bonferroni: α/m, the strictest step of Holm's
procedure, so the figure holds whatever the other p-values are) detects an effect δ with power

    power(δ) = Φ(|δ|/SE − z_{1−α/(2m)}) + Φ(−|δ|/SE − z_{1−α/(2m)}),

and the minimum detectable effect at power 1 − β is (z_{1−α/(2m)} + z_{1−β})·SE, which
neglects the far tail's tiny share. Used by the report (per metric) and by
``cohortlab validate --check-data`` (against the experiment's ``mde``).
"""

from __future__ import annotations

import math

POWER = 0.80


def _z(tail: float) -> float:
    from scipy.stats import norm

    return float(norm.isf(tail))


def minimum_detectable_effect(standard_error: float, confidence: float, tests: int = 1,
                              power: float = POWER) -> float:
    """The smallest |effect| detected with ``power`` by a two-sided test at 1 − ``confidence`` among ``tests``."""
    if not math.isfinite(standard_error):
        return float("nan")
    return (_z((1 - confidence) / (2 * max(tests, 1))) + _z(1 - power)) * standard_error


def power_to_detect(effect: float, standard_error: float, confidence: float, tests: int = 1) -> float:
    """The probability that a two-sided test at 1 − ``confidence`` among ``tests`` finds ``effect``."""
    from scipy.stats import norm

    if not (math.isfinite(standard_error) and standard_error > 0):
        return float("nan")
    critical = _z((1 - confidence) / (2 * max(tests, 1)))
    shift = abs(effect) / standard_error
    return float(norm.cdf(shift - critical) + norm.cdf(-shift - critical))
