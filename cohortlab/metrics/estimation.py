"""Estimate every metric on both cohorts for the point estimate and all bootstrap replicates.

One pass over the replicate chunks: each chunk's resampling counts become matching
weights (matching re-run per replicate), and each metric estimates both cohorts
from its columns of the weight matrix (the experiment's cohorts, or a breakdown
segment's that shares the replicates). The per-account vectors of all metrics on a
block of columns are summed in one matrix product per chunk (see ``weighted_sum``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from cohortlab.metrics.base import BATCHED, Inputs, Metric, end_pass
from cohortlab.stats.bootstrap import contiguous


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
    columns_of = {_block_key(columns): columns for _, sides in entries.values() for _, columns in sides.values()}
    vectors = _vectors(entries)
    done = 0
    try:
        for chunk in counts:
            weights = reweight(chunk)
            blocks = {block: weights[:, columns] if isinstance(columns, slice) else weights.T[columns].T
                      for block, columns in columns_of.items()}
            BATCHED.sums = {id(blocks[block]): (index, blocks[block] @ matrix)
                            for block, (index, matrix) in vectors.items()}
            for key, (metric, sides) in entries.items():
                for side, (inputs, columns) in sides.items():
                    estimates[key][side].append(metric.estimate(inputs, blocks[_block_key(columns)]))
            done += len(chunk)
            if progress:
                progress(done, total)
    finally:
        end_pass()
    return {key: Replicates(np.concatenate(sides["treatment"]), np.concatenate(sides["baseline"]))
            for key, sides in estimates.items()}


def _block_key(columns: slice | np.ndarray) -> Hashable:
    # index arrays stay alive through the entries, so their ids are not reused meanwhile
    return (columns.start, columns.stop) if isinstance(columns, slice) else id(columns)


def _vectors(entries: dict[Hashable, tuple[Metric, Sides]]) -> dict[Hashable, tuple[dict[int, int], np.ndarray]]:
    """Per block of columns, the distinct per-account float vectors of the entries on it, stacked as columns of
    one matrix (equal vectors once), and each vector's column by its id."""
    found: dict[Hashable, tuple[dict[int, int], list[np.ndarray], dict[bytes, list[int]]]] = {}
    for _, sides in entries.values():
        for inputs, columns in sides.values():
            index, stack, digests = found.setdefault(_block_key(columns), ({}, [], {}))
            for values in inputs.arrays.values():
                if values.ndim != 1 or values.dtype != np.float64 or id(values) in index:
                    continue
                digest = hashlib.blake2b(np.ascontiguousarray(values).data, digest_size=16).digest()
                same = [column for column in digests.get(digest, []) if np.array_equal(stack[column], values)]
                if same:
                    index[id(values)] = same[0]
                else:
                    index[id(values)] = len(stack)
                    digests.setdefault(digest, []).append(len(stack))
                    stack.append(values)
    return {block: (index, np.column_stack(stack)) for block, (index, stack, _) in found.items() if stack}


def rows_of(mask: np.ndarray) -> slice | np.ndarray:
    """The rows of ``mask`` as a slice when they are contiguous (the panel puts treatment rows first), else
    as indices."""
    return contiguous(np.flatnonzero(mask))
