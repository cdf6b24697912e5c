"""Propensity-score matching and odds weighting (docs/matching.md).

The score is a logistic regression of "is treated" on the covariates (statsmodels):
numbers standardized, with a ``<null>`` indicator when a number has nulls (nulls then
sit at the mean); text and booleans one indicator per level but the first; columns that
are linear combinations of earlier ones left out. Accounts are compared on the logit of
the score.

Nearest-neighbour matching gives each treated account its ``ratio`` nearest baseline
accounts on the logit score, inside its exact stratum when ``exact`` is given and within
``caliper`` standard deviations of the logit score (pooled over the two cohorts) when
one is given. A treated account with no baseline account within reach is dropped
(lack of support). A matched baseline account weighs the sum of 1/k over the treated
accounts it serves (k: that account's number of matches).

- Without replacement, matching is greedy: treated accounts in order of decreasing
  score (ties: input order), one match per round, ``ratio`` rounds; each takes the
  nearest baseline account still free, ties by input order.
- With replacement, each treated account takes its ``ratio`` nearest baseline accounts
  (distance, then input order), independently of the others.

"Input order" is the panel's order, by ``account_id`` within each cohort.

Odds weighting keeps every account: baseline account i weighs ``e_i / (1 − e_i)``,
scaled so the baseline's weights sum to the treated count; with ``trim``, accounts with
``e > 1 − trim`` are dropped (treated ones as unsupported).

In the bootstrap (``replicate_weights``):

- odds weighting re-estimates the score in each replicate by one Newton step from the
  full-data fit (``β_r = β̂ + H⁻¹ Σ c_i s_i``, the score contributions ``s_i`` weighted by
  the resampling counts) and recomputes the weights, all as matrix products;
- matching with replacement is re-run in each replicate among the accounts drawn: each
  treated account keeps its ``ratio`` nearest drawn baseline accounts (a drawn account
  counts as often as it was drawn). The scores are held at their full-data values.
- matching without replacement resamples whole matched sets: a treated account drawn
  c times brings its matched baseline accounts with it c times. This is the block
  bootstrap shown valid for matching without replacement; re-running a greedy match per
  replicate is not (nearest-neighbour matching is not a smooth function of the data).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from cohortlab.match.core import Matching, MatchingError, factorize, is_numeric, stratum_ids
from cohortlab.records import Details
from cohortlab.spec.matching import PropensityMatch



def candidate_count(ratio: int) -> int:
    """How many nearest baseline accounts per treated account are kept for re-matching with replacement in
    replicates: ratio + 20 + 8√ratio. A replicate re-match is exact unless fewer than `ratio` of them were
    drawn, about P(Poisson(ratio + 20 + 8√ratio) < ratio): below 1e-12 for every ratio from 1 to 100."""
    return ratio + 20 + int(np.ceil(8 * np.sqrt(ratio)))


@dataclass(frozen=True)
class Score:
    """The fitted propensity model over the panel's accounts."""

    terms: tuple[str, ...]      # design columns, intercept first
    design: np.ndarray          # accounts × terms
    logit: np.ndarray           # per account
    inverse_hessian: np.ndarray  # terms × terms
    contributions: np.ndarray   # accounts × terms: the score equations' terms x_i (y_i − e_i)
    converged: bool


def design_matrix(covariates: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The model's design: an intercept, then each covariate's columns, dependent columns left out."""
    n = len(next(iter(covariates.values()))) if covariates else 0
    columns, terms = [np.ones(n)], ["(intercept)"]
    for name, values in covariates.items():
        if is_numeric(values):
            values = values.astype(float)
            missing = np.isnan(values)
            present = values[~missing]
            scale = present.std() if present.size else 0.0
            centred = (values - (present.mean() if present.size else 0.0)) / (scale if scale > 0 else 1.0)
            columns.append(np.where(missing, 0.0, centred))
            terms.append(name)
            if missing.any():
                columns.append(missing.astype(float))
                terms.append(f"{name}=<null>")
            continue
        codes, levels = factorize(values)
        for code, level in enumerate(levels[1:], start=1):
            columns.append((codes == code).astype(float))
            terms.append(f"{name}={level}")
    design = np.column_stack(columns)
    keep = _independent_columns(design)
    return design[:, keep], tuple(terms[index] for index in keep)


def _independent_columns(design: np.ndarray) -> list[int]:
    """Indexes of a maximal set of linearly independent columns, preferring earlier ones."""
    import scipy.linalg

    if design.shape[0] == 0:
        return [0]
    gram = design.T @ design
    keep: list[int] = []
    for column in range(design.shape[1]):  # keep a column unless it is a combination of those kept
        trial = keep + [column]
        block = gram[np.ix_(trial, trial)]
        eigenvalues = scipy.linalg.eigvalsh(block / max(np.abs(np.diag(block)).max(), 1e-300))
        if eigenvalues.min() > 1e-10:
            keep = trial
    return keep


def fit_score(covariates: dict[str, np.ndarray], treated: np.ndarray) -> Score:
    """Fit the logistic propensity model by maximum likelihood (statsmodels)."""
    from statsmodels.discrete.discrete_model import Logit

    design, terms = design_matrix(covariates)
    outcome = treated.astype(float)
    with warnings.catch_warnings():
        # separation (a level seen in one cohort only) is expected: its accounts get scores near 0 or 1 and,
        # for treated ones, no match within reach, which is reported as lack of support
        warnings.simplefilter("ignore")
        try:
            result = Logit(outcome, design).fit(method="newton", maxiter=100, disp=False,
                                                   warn_convergence=False)
        except (np.linalg.LinAlgError, ValueError) as error:
            raise MatchingError(f"the propensity model on {', '.join(covariates)} cannot be fitted: {error}",
                                "a covariate may separate the cohorts completely; match on it exactly with "
                                "`exact:` and leave it out of `covariates`") from None
    beta = np.asarray(result.params, dtype=float)
    logit = np.clip(design @ beta, -35.0, 35.0)
    probability = 1.0 / (1.0 + np.exp(-logit))
    hessian = design.T @ (design * (probability * (1 - probability))[:, None])
    return Score(terms, design, logit, np.linalg.pinv(hessian), design * (outcome - probability)[:, None],
                 bool(result.mle_retvals.get("converged", False)))


def pooled_sd(values: np.ndarray, treated: np.ndarray) -> float:
    """√((s²_T + s²_B) / 2), sample variances."""
    variances = [np.var(values[mask], ddof=1) if mask.sum() > 1 else 0.0 for mask in (treated, ~treated)]
    return float(np.sqrt(sum(variances) / 2))


@dataclass(frozen=True)
class NearestMatching(Matching):
    """1:k nearest-neighbour matching on the logit score; see the module's docstring."""

    treated_rows: np.ndarray = None     # panel rows of the treated accounts, in input order
    baseline_rows: np.ndarray = None    # panel rows of the baseline accounts, in input order
    ratio: int = 1
    replace: bool = False
    links: Any = None                   # sparse (treated × baseline) 1/k per match: the matched sets
    candidates: np.ndarray | None = None  # with replacement: (treated × C) nearest baseline, -1 padded

    def replicate_weights(self, counts: np.ndarray) -> np.ndarray:
        counts = np.asarray(counts, dtype=float)
        weights = np.zeros_like(counts)
        treated_counts = counts[:, self.treated_rows]
        if not self.replace:
            matched = np.asarray(self.links.sum(axis=1)).ravel() > 0
            weights[:, self.treated_rows] = treated_counts * matched
            weights[:, self.baseline_rows] = (self.links.T @ treated_counts.T).T
            return weights
        valid = self.candidates >= 0
        candidates = np.where(valid, self.candidates, 0)
        for row, replicate in enumerate(counts):  # a replicate's re-match is vectorized over accounts
            drawn = np.where(valid, replicate[self.baseline_rows][candidates], 0.0)
            before = np.cumsum(drawn, axis=1) - drawn
            taken = np.clip(np.minimum(drawn, self.ratio - before), 0.0, None)
            total = taken.sum(axis=1)
            share = np.divide(treated_counts[row], total, out=np.zeros_like(total), where=total > 0)
            weights[row, self.treated_rows] = np.where(total > 0, treated_counts[row], 0.0)
            weights[row, self.baseline_rows] = np.bincount(candidates.ravel(), (taken * share[:, None]).ravel(),
                                                           minlength=len(self.baseline_rows))
        return weights


@dataclass(frozen=True)
class OddsWeighting(Matching):
    """ATT odds weights from the score, re-estimated per replicate; see the module's docstring."""

    score: Score | None = None
    trim: float | None = None

    def replicate_weights(self, counts: np.ndarray) -> np.ndarray:
        counts = np.asarray(counts, dtype=float)
        step = (counts - 1.0) @ self.score.contributions @ self.score.inverse_hessian.T
        logit = np.clip(self.score.logit[None, :] + step @ self.score.design.T, -35.0, 35.0)
        keep = np.ones_like(logit, dtype=bool) if self.trim is None else logit <= np.log((1 - self.trim) / self.trim)
        treated_weights = counts * (self.treated[None, :] & keep)
        baseline_weights = counts * (~self.treated[None, :] & keep) * np.exp(logit)
        total = baseline_weights.sum(axis=1, keepdims=True)
        scale = np.divide(treated_weights.sum(axis=1, keepdims=True), total, out=np.zeros_like(total),
                          where=total > 0)
        return np.where(self.treated[None, :], treated_weights, baseline_weights * scale)


@dataclass(frozen=True)
class ScoreFacts(Details):
    """The fitted score: its terms (dummy levels and numeric covariates), whether the fit converged, and how it
    is used (nearest-neighbour matching or odds weighting)."""

    terms: list[str]
    converged: bool
    weighting: str


@dataclass(frozen=True)
class OddsFacts(ScoreFacts):
    """Odds weighting: and the score range kept (``trim``: None keeps all)."""

    trim: float | None


@dataclass(frozen=True)
class NearestFacts(ScoreFacts):
    """Nearest-neighbour matching: and its ratio, replacement, caliper (in SDs of the logit and on the logit),
    and how many baseline accounts were matched."""

    ratio: int
    replace: bool
    caliper_sd: float | None
    caliper_logit: float | None
    matched_baseline: int


def propensity_matching(spec: PropensityMatch, treated: np.ndarray, covariates: dict[str, np.ndarray]) -> Matching:
    """Fit the score, then match (nearest) or weight (odds) per ``spec``."""
    score = fit_score({name: covariates[name] for name in spec.covariates}, treated)
    columns = tuple(dict.fromkeys([*spec.covariates, *spec.exact]))
    fitted = (list(score.terms[1:]), score.converged, spec.weighting)
    if spec.weighting == "odds":
        return OddsWeighting("propensity", columns, treated, np.full(len(treated), -1, dtype=np.int64),
                             treated.astype(np.int64), OddsFacts(*fitted, spec.trim), score=score, trim=spec.trim)
    n = len(treated)
    strata, _ = stratum_ids([factorize(covariates[name]) for name in spec.exact], n)
    caliper = None if spec.caliper is None else spec.caliper * pooled_sd(score.logit, treated)
    treated_rows, baseline_rows = np.flatnonzero(treated), np.flatnonzero(~treated)
    matches = [np.zeros(0, dtype=np.int64)] * len(treated_rows)  # per treated: baseline positions
    candidates = np.full((len(treated_rows), candidate_count(spec.ratio)), -1, dtype=np.int64)
    baseline_by_stratum = _members(strata[baseline_rows])
    for stratum, local_t in _members(strata[treated_rows]).items():
        local_b = baseline_by_stratum.get(stratum)
        if local_b is None:
            continue
        eta_t, eta_b = score.logit[treated_rows[local_t]], score.logit[baseline_rows[local_b]]
        if spec.replace:
            found = nearest(eta_t, eta_b, candidates.shape[1], caliper)
            candidates[local_t] = np.where(found >= 0, local_b[np.maximum(found, 0)], -1)
            for position, row in zip(local_t, found[:, :spec.ratio]):
                matches[position] = local_b[row[row >= 0]]
        else:
            for position, chosen in zip(local_t, greedy(eta_t, eta_b, spec.ratio, caliper)):
                matches[position] = local_b[chosen]
    links = _links(matches, len(baseline_rows))
    subclass = np.full(n, -1, dtype=np.int64)
    for set_id, chosen in enumerate(matches):
        if chosen.size:
            subclass[treated_rows[set_id]] = set_id
            rows = baseline_rows[chosen]
            subclass[rows] = np.where(subclass[rows] < 0, set_id, subclass[rows])
    facts = NearestFacts(*fitted, ratio=spec.ratio, replace=spec.replace, caliper_sd=spec.caliper,
                         caliper_logit=caliper,
                         matched_baseline=int(np.count_nonzero(np.asarray(links.sum(axis=0)).ravel())))
    return NearestMatching("propensity", columns, treated, subclass, strata * 2 + treated, facts,
                           treated_rows=treated_rows, baseline_rows=baseline_rows, ratio=spec.ratio,
                           replace=spec.replace, links=links, candidates=candidates if spec.replace else None)


def _members(strata: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of each stratum's members, in position order: one sort, not one scan per stratum."""
    order = np.argsort(strata, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(strata[order]) != 0]) if len(order) else np.zeros(0, dtype=int)
    return {int(strata[order[start]]): members
            for start, members in zip(starts, np.split(order, starts[1:]))}


def _links(matches: list[np.ndarray], n_baseline: int):
    import scipy.sparse

    sizes = np.array([len(chosen) for chosen in matches], dtype=np.int64)
    rows = np.repeat(np.arange(len(matches)), sizes)
    columns = np.concatenate(matches) if matches else np.zeros(0, dtype=np.int64)
    values = np.repeat(np.divide(1.0, sizes, out=np.zeros(len(sizes)), where=sizes > 0), sizes)
    return scipy.sparse.csr_matrix((values, (rows, columns)), shape=(len(matches), n_baseline))


def nearest(eta_t: np.ndarray, eta_b: np.ndarray, count: int, caliper: float | None) -> np.ndarray:
    """For each treated account, positions in ``eta_b`` of its ``count`` nearest baseline accounts ordered by
    (distance, position), -1 beyond the caliper or the supply."""
    positions = np.arange(len(eta_b))
    rightward = np.lexsort((positions, eta_b))     # score up, then position up
    leftward = np.lexsort((-positions, eta_b))     # score up, then position down: walked backwards
    insert = np.searchsorted(eta_b[rightward], eta_t, side="left")
    steps = np.arange(count)
    right_at, left_at = insert[:, None] + steps, insert[:, None] - 1 - steps
    found = np.concatenate([rightward[np.clip(right_at, 0, len(eta_b) - 1)],
                            leftward[np.clip(left_at, 0, len(eta_b) - 1)]], axis=1)
    valid = np.concatenate([right_at < len(eta_b), left_at >= 0], axis=1)
    distance = np.where(valid, np.abs(eta_b[found] - eta_t[:, None]), np.inf)
    order = np.lexsort((found, distance), axis=1)[:, :count]
    found, distance = np.take_along_axis(found, order, axis=1), np.take_along_axis(distance, order, axis=1)
    reachable = np.isfinite(distance) & (distance <= caliper if caliper is not None else True)
    return np.where(reachable, found, -1)


def greedy(eta_t: np.ndarray, eta_b: np.ndarray, ratio: int, caliper: float | None) -> list[np.ndarray]:
    """Greedy matching without replacement: per treated account (in input order), the positions in ``eta_b``
    of its matches.

    Treated accounts go in order of decreasing score (ties: input order), one match each per round. Baseline
    accounts with equal scores form a group served in input order; free groups are found with two
    path-compressed "next free group" pointers, left and right.
    """
    by_score = np.lexsort((np.arange(len(eta_b)), eta_b))
    scores = eta_b[by_score]
    group_scores, starts = np.unique(scores, return_index=True)
    ends = np.r_[starts[1:], len(scores)].tolist()
    members = by_score.tolist()
    next_member = starts.tolist()
    values = group_scores.tolist()
    groups = len(values)
    right = list(range(groups + 1))           # right[g]: g if free, else a pointer rightwards; groups = none
    left = list(range(groups + 1))            # left[g + 1]: g + 1 if g free, else leftwards; 0 = none
    insert = np.searchsorted(group_scores, eta_t, side="left").tolist()
    order = np.lexsort((np.arange(len(eta_t)), -eta_t)).tolist()
    targets = eta_t.tolist()
    reach = np.inf if caliper is None else caliper
    chosen: list[list[int]] = [[] for _ in targets]
    active = order
    for _ in range(ratio):
        still = []
        for treated in active:
            target, at = targets[treated], insert[treated]
            g = at
            while right[g] != g:
                right[g] = right[right[g]]
                g = right[g]
            h = at
            while left[h] != h:
                left[h] = left[left[h]]
                h = left[h]
            h -= 1
            best, best_distance = -1, np.inf
            if g < groups:
                best, best_distance = g, values[g] - target
            if h >= 0:
                distance = target - values[h]
                if distance < best_distance or (distance == best_distance and
                                                members[next_member[h]] < members[next_member[best]]):
                    best, best_distance = h, distance
            if best < 0 or best_distance > reach:
                continue
            chosen[treated].append(members[next_member[best]])
            next_member[best] += 1
            if next_member[best] == ends[best]:
                right[best] = best + 1
                left[best + 1] = best
            still.append(treated)
        active = still
    return [np.array(positions, dtype=np.int64) for positions in chosen]
