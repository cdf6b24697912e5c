"""The shifted-beta-geometric (sBG) retention model (Fader and Hardie 2007).

Each customer renews every period with their own probability 1 − θ and churns with
probability θ, and θ varies across customers as Beta(α, β). Then

    P(T = t) = B(α + 1, β + t − 1) / B(α, β)      (churn at renewal t = 1, 2, …)
    S(t)     = B(α, β + t) / B(α, β)               (still a customer after t renewals)

The fit is by maximum likelihood over customers who either churned at renewal t, or are
still customers after t renewals (right-censored: their tenure is only observed so far),
each with a weight (matching weights, or bootstrap counts). The parameters are fitted on
the log scale, so they stay positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SBG:
    alpha: float
    beta: float
    converged: bool = True

    def survival(self, periods: np.ndarray | int) -> np.ndarray:
        """S(t): the share still customers after t renewals."""
        from scipy.special import betaln

        periods = np.asarray(periods, dtype=float)
        return np.exp(betaln(self.alpha, self.beta + periods) - betaln(self.alpha, self.beta))

    def churn_probability(self, periods: np.ndarray | int) -> np.ndarray:
        """P(T = t): the share churning at renewal t (t ≥ 1)."""
        from scipy.special import betaln

        periods = np.asarray(periods, dtype=float)
        return np.exp(betaln(self.alpha + 1, self.beta + periods - 1) - betaln(self.alpha, self.beta))


def fit_sbg(periods: np.ndarray, churned: np.ndarray, weights: np.ndarray | None = None) -> SBG:
    """Maximum-likelihood α and β.

    Parameters
    ----------
    periods
        Per customer: the renewal at which they churned (≥ 1) if ``churned``, else the number of renewals
        they are known to have made (≥ 0; censored).
    churned
        Per customer: churned (True) or still a customer (False).
    weights
        Per customer, default 1.
    """
    from scipy.optimize import minimize
    from scipy.special import betaln

    periods = np.asarray(periods, dtype=float)
    churned = np.asarray(churned, dtype=bool)
    weights = np.ones(len(periods)) if weights is None else np.asarray(weights, dtype=float)
    if np.any(periods[churned] < 1) or np.any(periods < 0):
        raise ValueError("a churn happens at renewal 1 or later, and renewals observed are never negative")
    # customers grouped by (period, churned): the likelihood only depends on these totals
    keys, index = np.unique(np.column_stack([periods, churned]), axis=0, return_inverse=True)
    totals = np.bincount(index.ravel(), weights=weights, minlength=len(keys))
    at, lost = keys[:, 0], keys[:, 1].astype(bool)

    def negative_log_likelihood(log_parameters: np.ndarray) -> float:
        alpha, beta = np.exp(log_parameters)
        base = betaln(alpha, beta)
        log_churn = betaln(alpha + 1, beta + at - 1) - base
        log_survival = betaln(alpha, beta + at) - base
        return -float(totals @ np.where(lost, log_churn, log_survival))

    result = minimize(negative_log_likelihood, np.zeros(2), method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
    alpha, beta = np.exp(result.x)
    return SBG(float(alpha), float(beta), bool(result.success))


def from_survivors(alive: list[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cohort table (customers alive at renewals 0, 1, …, T) as (periods, churned, weights) for
    :func:`fit_sbg`: the customers lost at each renewal, and those alive after the last."""
    alive = np.asarray(alive, dtype=float)
    lost = alive[:-1] - alive[1:]
    periods = np.r_[np.arange(1, len(alive)), len(alive) - 1]
    churned = np.r_[np.ones(len(lost), dtype=bool), False]
    return periods, churned, np.r_[lost, alive[-1]]
