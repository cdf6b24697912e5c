"""Kaplan–Meier survival from weighted event and at-risk counts, vectorized over replicates."""

from __future__ import annotations

import numpy as np


def event_matrices(time: np.ndarray, event: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrices (accounts × horizon+1) of an event at t and of being at risk at t.

    ``time`` is the event time for events and the last time observed for censored
    accounts, which stay at risk through that time (censoring after events); a
    negative time means never at risk.
    """
    grid = np.arange(horizon + 1)[None, :]
    events = (event[:, None] & (time[:, None] == grid)).astype(float)
    at_risk = (time[:, None] >= grid).astype(float)
    return events, at_risk


def kaplan_meier(events: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """Survival past the last time column, S(T) = Π_t (1 − d_t / n_t), for each row of weighted counts.

    ``events`` and ``at_risk`` are weighted counts (replicates × times). A time with
    nobody at risk leaves the survival undefined (NaN) while some of the cohort is
    still surviving (the curve is not observed that far); once everyone has had the
    event the survival stays 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - events / np.where(at_risk > 0, at_risk, 1.0), np.nan)
    survival = np.cumprod(np.where(np.isnan(factor), 1.0, factor), axis=-1)
    before = np.concatenate([np.ones_like(survival[..., :1]), survival[..., :-1]], axis=-1)
    unobserved = (np.isnan(factor) & (before > 0)).any(axis=-1)
    return np.where(unobserved, np.nan, survival[..., -1])


def greenwood(events: np.ndarray, at_risk: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """Kaplan–Meier survival past the last time, its Greenwood standard error, and a confidence interval.

    ``events`` and ``at_risk`` are counts per time (one cohort). Greenwood's variance is
    Var S(T) = S(T)² Σ_t d_t / (n_t (n_t − d_t)); the interval is computed on the log(−log S)
    scale (Kalbfleisch and Prentice), which keeps it inside [0, 1]. Returns NaNs where the
    survival is undefined; the interval is degenerate at S = 0 or S = 1.
    """
    from scipy.stats import norm

    survival = float(kaplan_meier(events[None, :], at_risk[None, :])[0])
    if not np.isfinite(survival):
        return (survival, float("nan"), float("nan"), float("nan"))
    used = at_risk > events
    terms = events[used] / (at_risk[used] * (at_risk[used] - events[used]))
    standard_error = survival * float(np.sqrt(terms.sum()))
    if survival in (0.0, 1.0):
        return (survival, standard_error, survival, survival)
    z = norm.ppf(1 - (1 - confidence) / 2)
    # Var log(−log S) = Σ d/(n(n−d)) / (log S)²
    spread = z * float(np.sqrt(terms.sum())) / abs(np.log(survival))
    low, high = survival ** np.exp(spread), survival ** np.exp(-spread)
    return (survival, standard_error, float(low), float(high))


def code_totals(weights: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
    """Per row of ``weights`` (replicates × accounts), the total weight of the accounts with each code
    0..width−1 (replicates × width); accounts with a negative code count nowhere.

    A sparse (width × accounts) indicator times the transposed weights: the cost is one read of the coded
    accounts' weights, and none of the copy when ``weights`` is column-major (as bootstrap chunks are).
    """
    from scipy import sparse

    weights = np.atleast_2d(weights)
    rows = np.flatnonzero(codes >= 0)
    indicator = sparse.csr_matrix((np.ones(len(rows)), (codes[rows], rows)), shape=(width, weights.shape[1]))
    return np.asarray(indicator @ weights.T).T


def survival_curve(events: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Kaplan–Meier survival just after each of K sorted times, for each row of weighted counts (rows × K).

    Accounts censored at a time are at risk at it (censoring after events). Where nobody is at
    risk the curve is NaN.
    """
    at_risk = np.cumsum((events + censored)[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - events / np.where(at_risk > 0, at_risk, 1.0), np.nan)
    return np.cumprod(factor, axis=1)


def time_codes(time: np.ndarray, followed: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct times of the ``followed`` accounts, and each account's code into them where it had
    the event and where it was censored (−1 otherwise): the inputs of :func:`coded_survival`."""
    times, code = np.unique(time[followed], return_inverse=True)
    codes = np.full(len(time), -1)
    codes[followed] = code
    return times, np.where(followed & event, codes, -1), np.where(followed & ~event, codes, -1)


def coded_times(times: np.ndarray, event: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Each account's time, of its event or its censoring, from its codes into ``times`` (the inverse of
    :func:`time_codes`); NaN for accounts not followed."""
    code = np.maximum(event, censored)
    if not len(times):
        return np.full(len(code), np.nan)
    return np.where(code >= 0, np.asarray(times, dtype=float)[np.maximum(code, 0)], np.nan)


def coded_survival(event: np.ndarray, censored: np.ndarray, width: int, weights: np.ndarray) -> np.ndarray:
    """Kaplan–Meier survival after each of ``width`` sorted times, per row of ``weights`` (replicates ×
    accounts), from each account's time code: ``event`` where it had the event, ``censored`` where it was
    censored (−1 otherwise)."""
    return survival_curve(code_totals(weights, event, width), code_totals(weights, censored, width))


def median_time(times: np.ndarray, survival: np.ndarray, level: float | np.ndarray = 0.5) -> np.ndarray:
    """The time at which the survival curve falls to ``level`` (0.5: the median), per row; NaN where it never
    does. ``level`` may differ per row.

    The curve is joined linearly between its values at consecutive times (starting from 1 at
    time 0), so with whole-day times the median is not rounded to a whole day: for times
    D = ⌈X⌉ of a continuous X this is, to the interpolation's accuracy, the median of X.
    """
    curve = np.concatenate([np.ones((len(survival), 1)), survival], axis=1)
    grid = np.concatenate([[0.0], np.asarray(times, dtype=float)])  # times are never negative
    level = np.broadcast_to(np.asarray(level, dtype=float), (len(curve),))[:, None]
    reached = curve <= level
    first = np.argmax(reached, axis=1)
    rows = np.arange(len(curve))
    before = np.maximum(first - 1, 0)
    upper, lower = curve[rows, before], curve[rows, first]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(upper > lower, (upper - level[:, 0]) / (upper - lower), 1.0)
    median = grid[before] + fraction * (grid[first] - grid[before])
    return np.where(reached.any(axis=1), median, np.nan)
