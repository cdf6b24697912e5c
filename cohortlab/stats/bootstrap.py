"""Bootstrap resampling as count matrices (docs/inference.md).

Accounts are resampled with replacement within each cohort, to the cohort's own
size. A replicate is a row of counts (how often each account was drawn); weights for
metrics come from re-running matching on those counts. Replicates are produced in
chunks (250 replicates, fewer above 100,000 accounts), each from its own child of
``SeedSequence(seed)``, so memory is bounded and the result is the same bit for bit for
a seed and replicate count.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_SIZE = 250
CHUNK_CELLS = 25_000_000  # replicates × accounts per chunk: 200 MB of float64 counts


def chunk_size_for(accounts: int) -> int:
    """Replicates per chunk: 250, fewer when there are more than 100,000 accounts, so a chunk's count
    matrix stays within CHUNK_CELLS. A function of the account count only, so results stay reproducible."""
    return max(1, min(CHUNK_SIZE, CHUNK_CELLS // max(accounts, 1)))


def replicate_counts(cohort: np.ndarray, replicates: int, seed: int, chunk_size: int | None = None
                     ) -> Iterator[np.ndarray]:
    """Yield count matrices (rows × accounts): first one row of ones (the point estimate), then the replicates.

    The replicates' matrices are column-major (each account's counts contiguous): metrics gather accounts,
    not replicates, and a sparse indicator times the transpose then reads it without a copy.

    ``cohort`` labels each account's resampling group (e.g. treated or not).
    """
    cohort = np.asarray(cohort)
    chunk_size = chunk_size or chunk_size_for(len(cohort))
    yield np.ones((1, len(cohort)))
    groups = [np.flatnonzero(cohort == label) for label in np.unique(cohort)]
    groups = [(contiguous(members), len(members)) for members in groups]
    chunks = -(-replicates // chunk_size)
    for index, child in enumerate(np.random.SeedSequence(seed).spawn(chunks)):
        rng = np.random.default_rng(child)
        rows = min(chunk_size, replicates - index * chunk_size)
        by_account = np.empty((len(cohort), rows))
        for members, size in groups:
            by_account[members] = resample_counts(rng, size, rows).T  # a block copy when members is a slice
        yield by_account.T


def resample_counts(rng: np.random.Generator, size: int, rows: int) -> np.ndarray:
    """``rows`` resamples of ``size`` members drawn with replacement, as counts (rows × size), each
    multinomial(size, uniform). Drawn as indices and counted with bincount, several times faster than
    ``rng.multinomial`` over a uniform vector of a large group: one bincount for all resamples of a small
    group, one per resample of a large one (its counts then still fit in cache)."""
    picks = rng.integers(0, size, size=(rows, size))
    if size < LARGE_GROUP:
        picks += (np.arange(rows) * size)[:, None]
        return np.bincount(picks.ravel(), minlength=rows * size).reshape(rows, size).astype(float)
    counts = np.empty((rows, size))
    for row in range(rows):
        counts[row] = np.bincount(picks[row], minlength=size)
    return counts


LARGE_GROUP = 20_000


def contiguous(rows: np.ndarray) -> slice | np.ndarray:
    """Strictly increasing row indices as a slice when they are contiguous (then the rows are a view), else as
    they are."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


JACKKNIFE_BLOCKS = 100


def jackknife_counts(cohort: np.ndarray, seed: int, blocks: int = JACKKNIFE_BLOCKS) -> np.ndarray:
    """Count rows (blocks × accounts) that each leave one block of accounts out, for BCa's acceleration.

    Accounts are dealt to the blocks in a seeded random order within each resampling group
    (so every block holds a share of every group); with fewer accounts than ``blocks``, each
    account is its own block (the ordinary jackknife).
    """
    cohort = np.asarray(cohort)
    blocks = max(1, min(blocks, len(cohort)))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))
    block = np.empty(len(cohort), dtype=np.int64)
    offset = 0
    for label in np.unique(cohort):
        members = rng.permutation(np.flatnonzero(cohort == label))
        block[members] = (offset + np.arange(len(members))) % blocks
        offset += len(members)
    return (block[None, :] != np.arange(blocks)[:, None]).astype(float)
