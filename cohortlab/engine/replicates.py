"""One pass over the bootstrap replicates: every metric on both cohorts for the point estimate and each replicate.

The counts come in chunks; each chunk's resampling counts become matching weights, and each
metric estimates both cohorts from its columns of the weight matrix (the experiment's
cohorts, or a breakdown segment's that shares the replicates). A :class:`Pass` is the
workspace of one such pass, made for it and passed along: the distinct blocks of columns,
the per-account vectors the metrics on each block declare (summed for all of them in one
matrix product per chunk), and the memos the metrics on a block share. Nothing outlives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from cohortlab.metrics.base import Block, Inputs, Memo, Metric
from cohortlab.stats.bootstrap import contiguous

Sides = dict[str, tuple[Inputs, "slice | np.ndarray"]]  # cohort -> its inputs and its columns of the weights
Entries = dict[Hashable, tuple[Metric, Sides]]            # key -> a metric and its cohorts


@dataclass(frozen=True)
class Replicates:
    """A metric's estimates per cohort: element 0 is the point estimate, the rest are replicates."""

    treatment: np.ndarray
    baseline: np.ndarray


class Pass:
    """The workspace of one pass over the replicate chunks of ``entries``."""

    def __init__(self, entries: Entries):
        self.entries = entries
        self.columns = {_block_key(columns): columns for _, sides in entries.values() for _, columns in sides.values()}
        self.cohorts = {block: Memo() for block in self.columns}  # per block: what its metrics derive alike
        # per block, the distinct per-account float vectors of the inputs on it stacked as the columns of one
        # matrix, and each entry's (key, side, name) → its column. Every float vector is stacked, not only the
        # declared ones: another set of columns sums in another order, which moves reported figures in their
        # 12th significant digit (tests/golden holds them byte for byte)
        self.vectors: dict[Hashable, tuple[dict[tuple, int], np.ndarray]] = {}
        for block in self.columns:
            index, stack = _stacked([(key, side, name, values)
                                     for key, (metric, sides) in entries.items()
                                     for side, (inputs, columns) in sides.items() if _block_key(columns) == block
                                     for name, values in inputs.arrays.items()
                                     if name in metric.summed or (values.ndim == 1 and values.dtype == np.float64)])
            if stack:
                self.vectors[block] = (index, np.column_stack(stack))

    def estimate(self, weights: np.ndarray) -> dict[Hashable, dict[str, np.ndarray]]:
        """Every entry's estimates on one chunk of weights (rows: replicates; columns: the owner's accounts)."""
        blocks = {block: weights[:, columns] if isinstance(columns, slice) else weights.T[columns].T
                  for block, columns in self.columns.items()}
        products = {block: (index, blocks[block] @ matrix) for block, (index, matrix) in self.vectors.items()}
        shared = {block: Memo() for block in blocks}
        found: dict[Hashable, dict[str, np.ndarray]] = {}
        for key, (metric, sides) in self.entries.items():
            for side, (inputs, columns) in sides.items():
                block = _block_key(columns)
                index, sums = products.get(block, ({}, None))
                view = Block(blocks[block], {name: sums[:, index[key, side, name]] for name in metric.summed},
                             shared[block], self.cohorts[block])
                found.setdefault(key, {})[side] = metric.evaluate(inputs, view)
        return found


def estimate_replicates(entries: Entries, reweight: Callable[[np.ndarray], np.ndarray], counts: Iterable[np.ndarray],
                        total: int, progress: Callable[[int, int], None] | None = None) -> dict[Hashable, Replicates]:
    """Run every entry (key → (metric, cohort → (its inputs, its columns of the weights))) over the count chunks.

    ``reweight`` turns a chunk of resampling counts into weights (re-running matching where it must). Each
    distinct set of columns is taken from a chunk's weights once (a view when it is a slice) and shared by
    every metric on it.
    """
    workspace = Pass(entries)
    estimates: dict[Hashable, dict[str, list[np.ndarray]]] = {key: {side: [] for side in sides}
                                                               for key, (_, sides) in entries.items()}
    done = 0
    for chunk in counts:
        for key, sides in workspace.estimate(reweight(chunk)).items():
            for side, values in sides.items():
                estimates[key][side].append(values)
        done += len(chunk)
        if progress:
            progress(done, total)
    return {key: Replicates(np.concatenate(sides["treatment"]), np.concatenate(sides["baseline"]))
            for key, sides in estimates.items()}


def _block_key(columns: slice | np.ndarray) -> Hashable:
    # index arrays stay alive through the entries, so their ids are not reused while the pass lives
    return (columns.start, columns.stop) if isinstance(columns, slice) else id(columns)


def _stacked(vectors: list[tuple[Hashable, str, str, np.ndarray]]) -> tuple[dict[tuple, int], list[np.ndarray]]:
    """The distinct vectors (equal ones once, found by a digest of their bytes) and each (key, side, name)'s
    position among them."""
    index: dict[tuple, int] = {}
    stack: list[np.ndarray] = []
    digests: dict[bytes, list[int]] = {}
    seen: dict[int, int] = {}  # the same array of several metrics: digested once (the arrays outlive the call)
    for key, side, name, values in vectors:
        if id(values) in seen:
            index[key, side, name] = seen[id(values)]
            continue
        digest = hashlib.blake2b(np.ascontiguousarray(values).data, digest_size=16).digest()
        same = [column for column in digests.get(digest, []) if np.array_equal(stack[column], values)]
        if same:
            index[key, side, name] = seen[id(values)] = same[0]
        else:
            index[key, side, name] = seen[id(values)] = len(stack)
            digests.setdefault(digest, []).append(len(stack))
            stack.append(values)
    return index, stack


def rows_of(mask: np.ndarray) -> slice | np.ndarray:
    """The rows of ``mask`` as a slice when they are contiguous (the panel puts treatment rows first), else
    as indices."""
    return contiguous(np.flatnonzero(mask))
