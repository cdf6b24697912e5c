"""Bootstrap resampling as count matrices (SPEC §7).

Accounts are resampled with replacement within each cohort, to the cohort's own
size. A replicate is a row of counts (how often each account was drawn); weights for
metrics come from re-running matching on those counts. Replicates are produced in
fixed-size chunks, each from its own child of ``SeedSequence(seed)``, so memory is
bounded and the result is the same bit for bit for a seed and replicate count.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_SIZE = 250


def replicate_counts(cohort: np.ndarray, replicates: int, seed: int, chunk_size: int = CHUNK_SIZE
                     ) -> Iterator[np.ndarray]:
    """Yield count matrices (rows × accounts): first one row of ones (the point estimate), then the replicates.

    ``cohort`` labels each account's resampling group (e.g. treated or not).
    """
    cohort = np.asarray(cohort)
    yield np.ones((1, len(cohort)))
    groups = [np.flatnonzero(cohort == label) for label in np.unique(cohort)]
    chunks = -(-replicates // chunk_size)
    for index, child in enumerate(np.random.SeedSequence(seed).spawn(chunks)):
        rng = np.random.default_rng(child)
        rows = min(chunk_size, replicates - index * chunk_size)
        counts = np.zeros((rows, len(cohort)))
        for members in groups:
            size = len(members)
            counts[:, members] = rng.multinomial(size, np.full(size, 1.0 / size), size=rows)
        yield counts
