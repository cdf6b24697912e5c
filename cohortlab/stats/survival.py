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
