"""What every matching method produces (docs/matching.md): ATT weights that can be re-run on resampled counts.

A matching assigns each account of the panel a weight such that the weighted baseline
looks like the supported treatment cohort: treated accounts weigh 1 (0 when dropped
for lack of support), baseline accounts weigh what reproduces the treated
distribution, summing to the number of supported treated accounts. Each account also
gets a subclass: its exact stratum, or its matched set.

``replicate_weights`` takes a matrix of bootstrap resampling counts (replicates ×
accounts; row 0 of the first chunk is all ones, the point estimate) and returns the
weights matching gives on each resampled dataset, so the bootstrap's intervals include
the matching step's uncertainty.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cohortlab.records import Details, NoDetails

NULL_LEVEL = "<null>"


@dataclass(frozen=True)
class Matching(ABC):
    method: str
    columns: tuple[str, ...]    # the accounts columns matching used
    treated: np.ndarray         # bool per account
    subclass: np.ndarray        # int per account: stratum or matched-set id, -1 for none
    groups: np.ndarray          # int per account: the bootstrap resamples within each group
    facts: Details = field(default_factory=NoDetails)  # method-specific figures for the report

    @abstractmethod
    def replicate_weights(self, counts: np.ndarray) -> np.ndarray:
        """Matching weights for each row of ``counts`` (replicates × accounts, resampling counts)."""

    def bootstrap_weights(self, counts: np.ndarray) -> np.ndarray:
        """``replicate_weights`` for counts drawn within ``groups``, each group resampled to its own size (as
        :func:`cohortlab.stats.bootstrap.replicate_counts` draws them); a method may use that to save work."""
        return self.replicate_weights(counts)

    def restricts_to(self, other: Matching, rows: np.ndarray) -> bool:
        """Whether ``other`` (a matching of this panel's ``rows``) is this matching restricted to them, in
        the bootstrap too: then this matching's replicates, restricted to the rows, are draws of ``other``'s."""
        return False

    def weights(self) -> np.ndarray:
        """The point-estimate weights (every account counted once)."""
        return self.replicate_weights(np.ones((1, len(self.treated))))[0]

    def subclasses(self, weights: np.ndarray | None = None) -> int:
        """How many strata or matched sets hold a supported treated account."""
        weights = self.weights() if weights is None else weights
        return int(np.unique(self.subclass[self.treated & (weights > 0) & (self.subclass >= 0)]).size)

    def dropped(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Treated accounts without support (weight 0), as a boolean mask."""
        weights = self.weights() if weights is None else weights
        return self.treated & (weights == 0)


class MatchingError(Exception):
    """Matching cannot be done on these data (e.g. the propensity model cannot be fitted)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    total_squared = float(np.sum(weights**2))
    return float(np.sum(weights)) ** 2 / total_squared if total_squared > 0 else 0.0


def factorize(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes 0..L-1 per value in sorted level order (SQL NULL, None or NaN, is the last level, ``<null>``),
    and the levels as text."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values, dtype=object if values.dtype.kind == "O" else None),
                                  sort=True, use_na_sentinel=True)
    levels = [_label(value) for value in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(levels), codes)
        levels.append(NULL_LEVEL)
    return codes.astype(np.int64), levels


def _label(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def stratum_ids(columns: list[tuple[np.ndarray, list[str]]], n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each account's stratum (0..S-1) from the combination of its columns' codes (as from
    :func:`factorize`), and each stratum's readable label; strata in the lexicographic order of the codes."""
    stratum = np.zeros(n, dtype=np.int64)
    first = np.zeros(min(n, 1), dtype=np.int64)
    for codes, levels in columns:  # re-ranked after every column, so the key never overflows
        _, first, stratum = np.unique(stratum * len(levels) + codes, return_index=True, return_inverse=True)
        stratum = stratum.reshape(n).astype(np.int64)
    labels = tuple(" / ".join(levels[codes[row]] for codes, levels in columns) for row in first)
    return stratum, labels if columns else ("all",) * len(first)


def is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"
