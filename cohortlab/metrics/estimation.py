"""Estimate every metric on both cohorts for the point estimate and all bootstrap replicates.

One pass over the replicate chunks: each chunk's resampling counts become matching
weights (matching re-run per replicate), and each metric estimates both cohorts
from its columns of the weight matrix (the experiment's cohorts, or a breakdown
segment's that shares the replicates).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from cohortlab.metrics.base import Inputs, Metric


@dataclass(frozen=True)
class Replicates:
    """A metric's estimates per cohort: element 0 is the point estimate, the rest are replicates."""

    treatment: np.ndarray
    baseline: np.ndarray


Sides = dict[str, tuple[Inputs, "slice | np.ndarray"]]  # cohort -> its inputs and its columns of the weights


def estimate_replicates(entries: dict[Hashable, tuple[Metric, Sides]],
                        reweight: Callable[[np.ndarray], np.ndarray], counts: Iterable[np.ndarray], total: int,
                        progress: Callable[[int, int], None] | None = None) -> dict[Hashable, Replicates]:
    """Run every entry (key → (metric, cohort → (its inputs, its columns of the weights))) over the count chunks.

    ``reweight`` turns a chunk of resampling counts into weights, re-running matching. Each distinct set of
    columns is taken from a chunk's weights once (a view when it is a slice) and shared by every metric on it.
    """
    estimates: dict[Hashable, dict[str, list[np.ndarray]]] = {key: {side: [] for side in sides}
                                                               for key, (_, sides) in entries.items()}
    done = 0
    for chunk in counts:
        weights = reweight(chunk)
        blocks: dict[Hashable, np.ndarray] = {}
        for key, (metric, sides) in entries.items():
            for side, (inputs, columns) in sides.items():
                # the columns stay alive through `entries`, so their ids are not reused meanwhile
                block = (columns.start, columns.stop) if isinstance(columns, slice) else id(columns)
                if block not in blocks:
                    blocks[block] = weights[:, columns] if isinstance(columns, slice) else weights.T[columns].T
                estimates[key][side].append(metric.estimate(inputs, blocks[block]))
        done += len(chunk)
        if progress:
            progress(done, total)
    return {key: Replicates(np.concatenate(sides["treatment"]), np.concatenate(sides["baseline"]))
            for key, sides in estimates.items()}


def rows_of(mask: np.ndarray) -> slice | np.ndarray:
    """The rows of ``mask`` as a slice when they are contiguous (the panel puts treatment rows first), else
    as indices."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows
