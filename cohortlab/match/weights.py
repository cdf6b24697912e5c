"""Matching weights (SPEC §6): the baseline reweighted to look like the treatment cohort (ATT).

A :class:`Matching` holds each account's stratum and can turn any matrix of
resampling counts (replicates × accounts) into matching weights, so the bootstrap
re-runs matching in every replicate with array operations, never a Python loop
over replicates. Row 0 of a weight matrix is conventionally the point estimate
(all counts 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortlab.spec.models import MatchSpec

NULL_LEVEL = "<null>"


@dataclass(frozen=True)
class Matching:
    """Exact strata over the panel's accounts and the ATT weights they imply.

    With ``method == "none"`` every account is in stratum 0 and keeps its count as
    weight. With ``exact``, baseline account i in stratum s gets weight
    ``count_i × N_T,s / N_B,s`` (the stratum's treated count over its baseline count,
    both as resampled), so the weighted baseline reproduces the treated
    distribution over strata and sums to the supported treated total; treated
    accounts in a stratum with no baseline account get weight 0 (dropped for lack
    of support), and baseline accounts in strata with no treated account get 0.
    """

    method: str
    covariates: tuple[str, ...]
    treated: np.ndarray        # bool per account
    stratum: np.ndarray        # int per account, 0..n_strata-1
    stratum_labels: tuple[str, ...]

    @property
    def n_strata(self) -> int:
        return len(self.stratum_labels)

    def replicate_weights(self, counts: np.ndarray) -> np.ndarray:
        """Matching weights for each row of ``counts`` (replicates × accounts, resampling counts)."""
        counts = np.asarray(counts, dtype=float)
        if self.method == "none":
            return counts
        order = np.argsort(self.stratum, kind="stable")
        sorted_strata = self.stratum[order]
        starts = np.flatnonzero(np.r_[True, sorted_strata[1:] != sorted_strata[:-1]])
        present = sorted_strata[starts]
        treated_sorted = self.treated[order]
        per_stratum = np.zeros((2, counts.shape[0], self.n_strata))
        for side, mask in ((0, ~treated_sorted), (1, treated_sorted)):
            side_counts = counts[:, order] * mask
            per_stratum[side][:, present] = np.add.reduceat(side_counts, starts, axis=1)
        baseline_total, treated_total = per_stratum
        supported = baseline_total > 0
        ratio = np.divide(treated_total, baseline_total, out=np.zeros_like(treated_total), where=supported)
        factor = np.where(self.treated[None, :], supported[:, self.stratum], ratio[:, self.stratum])
        return counts * factor

    def weights(self) -> np.ndarray:
        """The point-estimate weights (every account counted once)."""
        return self.replicate_weights(np.ones((1, len(self.treated))))[0]


def match(spec: MatchSpec, treated: np.ndarray, covariates: dict[str, np.ndarray]) -> Matching:
    """Build the strata for ``spec`` (method none or exact)."""
    if spec.method == "none":
        return Matching("none", (), treated, np.zeros(len(treated), dtype=np.int64), ("all",))
    keys = [_as_labels(covariates[name]) for name in spec.on]
    combined = np.array(["\x1f".join(parts) for parts in zip(*keys)], dtype=str)
    labels, stratum = np.unique(combined, return_inverse=True)
    readable = tuple(label.replace("\x1f", " / ") for label in labels)
    return Matching("exact", tuple(spec.on), treated, stratum.astype(np.int64), readable)


def _as_labels(values: np.ndarray) -> list[str]:
    return [NULL_LEVEL if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
            for value in values]


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    total_squared = float(np.sum(weights**2))
    return float(np.sum(weights)) ** 2 / total_squared if total_squared > 0 else 0.0
