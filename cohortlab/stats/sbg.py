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


@dataclass(frozen=True)
class SBGFits:
    """Fitted α and β for each row of a batch (the point estimate and bootstrap replicates)."""

    alpha: np.ndarray
    beta: np.ndarray
    converged: np.ndarray

    def survival(self, periods: np.ndarray) -> np.ndarray:
        """S(t) for each row (rows × periods)."""
        from scipy.special import betaln

        alpha, beta, periods = self.alpha[:, None], self.beta[:, None], np.asarray(periods, dtype=float)[None, :]
        return np.exp(betaln(alpha, beta + periods) - betaln(alpha, beta))


LOG_BOUND = 15.0  # |log α|, |log β| at most this: beyond it the model's predictions no longer change


def fit_sbg_counts(churned: np.ndarray, survived: np.ndarray, iterations: int = 100) -> SBGFits:
    """Maximum-likelihood α and β for each row of weighted counts, by damped Newton steps on log α, log β.

    Parameters
    ----------
    churned
        (rows × K) customers who churned at renewal k, in column k (column 0 is ignored).
    survived
        (rows × K) customers known to have made k renewals and still customers (censored), in column k.

    The likelihood and its derivatives come from the recursions S(k) = Π_{j<k} (β + j)/(α + β + j)
    and P(T = k) = S(k − 1) · α/(α + β + k − 1), as cumulative sums over k. Every row is fitted on
    its own (the same result alone or in a batch), so the point estimate and each bootstrap
    replicate get an exact maximum-likelihood fit. When the data show no heterogeneity the
    likelihood keeps rising as α and β grow together (the geometric limit); the fit then stops at
    a bound where survival is geometric to many digits.
    """
    churned_all = np.atleast_2d(np.asarray(churned, dtype=float)).copy()
    survived_all = np.atleast_2d(np.asarray(survived, dtype=float))
    churned_all[:, 0] = 0.0
    rows, width = churned_all.shape
    j = np.arange(width, dtype=float)[None, :]

    def sums(values: np.ndarray) -> np.ndarray:
        """Σ_{j<k} values[:, j] for k = 0..K−1 (a leading 0)."""
        return np.concatenate([np.zeros((len(values), 1)), np.cumsum(values[:, :-1], axis=1)], axis=1)

    def terms(u: np.ndarray, v: np.ndarray, index: np.ndarray, second: bool):
        a, b = np.exp(u)[:, None], np.exp(v)[:, None]
        churned, survived = churned_all[index], survived_all[index]
        # still a customer after k renewals: log S(k) and its derivatives
        log_s = sums(np.log(b + j) - np.log(a + b + j))
        s_ab, s_b = sums(1 / (a + b + j)), sums(1 / (b + j))
        # churn at renewal k ≥ 1: log S(k−1) + log α − log(α + β + k − 1)
        previous = np.concatenate([np.zeros((len(a), 1)), np.ones((len(a), width - 1))], axis=1)
        shift = lambda values: np.concatenate([values[:, :1], values[:, :-1]], axis=1)  # noqa: E731
        hazard_term = a + b + j - 1 + (j == 0)  # α + β + k − 1 (column 0 unused)
        log_p = shift(log_s) + (np.log(a) - np.log(hazard_term)) * previous
        value = (churned * log_p + survived * log_s).sum(axis=1)
        if not second:
            return value
        g_a = (churned * (-shift(s_ab) + 1 / a - 1 / hazard_term) + survived * -s_ab).sum(axis=1)
        g_b = (churned * (shift(s_b - s_ab) - 1 / hazard_term) + survived * (s_b - s_ab)).sum(axis=1)
        t_ab, t_b, inverse2 = sums(1 / (a + b + j) ** 2), sums(1 / (b + j) ** 2), 1 / hazard_term ** 2
        h_aa = (churned * (shift(t_ab) - 1 / a ** 2 + inverse2) + survived * t_ab).sum(axis=1)
        h_bb = (churned * (shift(t_ab - t_b) + inverse2) + survived * (t_ab - t_b)).sum(axis=1)
        h_ab = (churned * (shift(t_ab) + inverse2) + survived * t_ab).sum(axis=1)
        a, b = a[:, 0], b[:, 0]
        # on the log scale: d/du = a d/da, d²/du² = a² d²/da² + a d/da
        return value, a * g_a, b * g_b, a * a * h_aa + a * g_a, b * b * h_bb + b * g_b, a * b * h_ab

    everyone = np.arange(rows)
    u, v = np.zeros(rows), np.zeros(rows)
    current = terms(u, v, everyone, False)
    active = np.ones(rows, dtype=bool)
    flattened = np.zeros(rows, dtype=bool)  # stopped where no step gains beyond rounding: a maximum to 12 digits
    scale = 1.0 + churned_all.sum(axis=1) + survived_all.sum(axis=1)
    for _ in range(iterations):
        if not active.any():
            break
        index = np.flatnonzero(active)
        _, g_u, g_v, h_uu, h_vv, h_uv = terms(u[index], v[index], index, True)
        # a Newton step where the Hessian is negative definite; elsewhere a unit step up the gradient
        half_trace, det = (h_uu + h_vv) / 2, h_uu * h_vv - h_uv ** 2
        largest = half_trace + np.sqrt(np.maximum(half_trace ** 2 - det, 0.0))
        concave = largest < -1e-9 * scale[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            gradient = np.maximum(np.hypot(g_u, g_v), 1e-300)
            step_u = np.where(concave, -(h_vv * g_u - h_uv * g_v) / det, g_u / gradient)
            step_v = np.where(concave, -(h_uu * g_v - h_uv * g_u) / det, g_v / gradient)
        length = np.hypot(step_u, step_v)
        step_u, step_v = (step / np.maximum(length, 1.0) for step in (step_u, step_v))
        size = np.ones(len(index))
        accepted = np.zeros(len(index), dtype=bool)
        new_u, new_v, new_ll = u[index], v[index], current[index]
        for _ in range(30):  # backtrack until the likelihood does not fall
            if accepted.all():
                break
            try_u = np.clip(u[index] + size * step_u, -LOG_BOUND, LOG_BOUND)
            try_v = np.clip(v[index] + size * step_v, -LOG_BOUND, LOG_BOUND)
            value = terms(try_u, try_v, index, False)
            good = ~accepted & (value >= current[index] - 1e-12 * np.abs(current[index]))
            new_u, new_v, new_ll = (np.where(good, new, old) for new, old in
                                    ((try_u, new_u), (try_v, new_v), (value, new_ll)))
            accepted |= good
            size = np.where(accepted, size, size / 2)
        moved = np.hypot(new_u - u[index], new_v - v[index])
        gained = new_ll - current[index]
        u[index], v[index], current[index] = new_u, new_v, new_ll
        # done: at a stationary point, not moving, or no step up the likelihood beyond rounding (along the
        # ridge to the geometric limit the likelihood is flat to 12 digits long before the bound)
        flat = gained <= 1e-12 * np.abs(new_ll)
        done = (np.hypot(g_u, g_v) / scale[index] < 1e-9) | (moved < 1e-9) | ~accepted | flat
        active[index[done]] = False
        flattened[index[flat]] = True
    _, g_u, g_v, *_ = terms(u, v, everyone, True)
    at_bound = (np.abs(u) >= LOG_BOUND) | (np.abs(v) >= LOG_BOUND)
    converged = (np.hypot(g_u, g_v) / scale < 1e-6) | at_bound | flattened
    return SBGFits(np.exp(u), np.exp(v), converged)
