"""Estimate every metric on both cohorts for the point estimate and all bootstrap replicates.

One pass over the replicate chunks: each chunk's resampling counts become matching
weights (matching re-run per replicate), and each metric estimates both cohorts
from its slice of the weight matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from cohortlab.metrics.base import Inputs, Metric


@dataclass(frozen=True)
class Replicates:
    """A metric's estimates per cohort: element 0 is the point estimate, the rest are replicates."""

    treatment: np.ndarray
    baseline: np.ndarray


def estimate_replicates(metrics: dict[str, tuple[Metric, Inputs]], treated: np.ndarray,
                        reweight: Callable[[np.ndarray], np.ndarray], counts: Iterable[np.ndarray], total: int,
                        progress: Callable[[int, int], None] | None = None) -> dict[str, Replicates]:
    """Run ``metrics`` (key → (metric, inputs over all panel rows)) over the count chunks.

    ``reweight`` turns a chunk of resampling counts into weights, re-running matching.
    """
    sides = {"treatment": treated, "baseline": ~treated}
    columns = {side: rows_of(mask) for side, mask in sides.items()}
    # with contiguous sides, each cohort's inputs are views, not copies
    # the source arrays stay alive through `metrics`, so the ids keying `shared` cannot be reused meanwhile
    shared: dict[str, dict[int, np.ndarray]] = {side: {} for side in sides}
    split = {key: {side: inputs.take(columns[side], shared[side]) for side in sides}
             for key, (_, inputs) in metrics.items()}
    estimates: dict[str, dict[str, list[np.ndarray]]] = {key: {side: [] for side in sides} for key in metrics}
    done = 0
    for chunk in counts:
        weights = reweight(chunk)
        # each cohort's columns once per chunk (a view when its rows are contiguous), shared by every metric
        blocks = {side: weights[:, index] if isinstance(index, slice) else weights.T[index].T
                  for side, index in columns.items()}
        for key, (metric, _) in metrics.items():
            for side in sides:
                estimates[key][side].append(metric.estimate(split[key][side], blocks[side]))
        done += len(chunk)
        if progress:
            progress(done, total)
    return {key: Replicates(np.concatenate(sides_["treatment"]), np.concatenate(sides_["baseline"]))
            for key, sides_ in estimates.items()}


def rows_of(mask: np.ndarray) -> slice | np.ndarray:
    """The rows of ``mask`` as a slice when they are contiguous (the panel puts treatment rows first), else
    as indices."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows
