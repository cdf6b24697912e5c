"""The curves behind the estimates and each account's inputs to them, for the overall results.

Per metric and cohort the curve behind the estimate (:meth:`Metric.curve_table`: Kaplan–Meier
retention by tenure month with its Greenwood band, earned and modeled LTV by tenure month with
the observed/extrapolated boundary, payback's and LTV:CAC's curves against CAC, time to value's
survival by day), at the point-estimate weights; and per account the inputs worth showing an
analyst. A curve is a few numbers per cohort and month and the per-account inputs a few columns
per metric, so an Analysis keeps no panel (accounts × months) and no segment's arrays alive.
"""

from __future__ import annotations

import hashlib

import numpy as np

from cohortlab.codes import Status
from cohortlab.data.panel import Panel
from cohortlab.engine.records import AccountInputs, CurveTables, MetricResult
from cohortlab.engine.replicates import rows_of
from cohortlab.metrics.base import Inputs, Metric

COHORTS = ("treatment", "baseline")


def curves_and_inputs(metrics: list[Metric], results: list[MetricResult], prepared: dict[str, tuple[Metric, Inputs]],
                    panel: Panel, weights: np.ndarray) -> tuple[CurveTables, AccountInputs]:
    """Each available overall result's curve per cohort (at the point-estimate ``weights``) and its
    per-account inputs on the ``panel``'s rows, with ``counted``: the accounts its n counts. ``prepared``
    holds each metric's inputs as its estimate used them."""
    overall = {result.key for result in results if result.segment is None and result.status is Status.OK}
    sides = {side: rows_of(panel.treated if side == "treatment" else ~panel.treated) for side in COHORTS}
    curves: CurveTables = {}
    accounts: AccountInputs = {}
    kept: dict[tuple, list[np.ndarray]] = {}
    for metric in metrics:
        if metric.key not in overall or metric.key not in prepared:
            continue
        inputs = prepared[metric.key][1]
        tables = {side: metric.curve_table(inputs.take(rows), weights[rows]) for side, rows in sides.items()}
        if all(table is not None for table in tables.values()):
            curves[metric.key] = tables
        values = {"counted": inputs.contributing & (weights > 0), **metric.account_values(inputs)}
        accounts[metric.key] = {name: _held_once(column, kept) for name, column in values.items()}
    return curves, accounts


def _held_once(values: np.ndarray, kept: dict[tuple, list[np.ndarray]]) -> np.ndarray:
    """``values``, or an equal array kept before: the columns several metrics share (the cost of CAC, payback
    and LTV:CAC; the modeled curve's inputs; the customers counted) are held once."""
    digest = hashlib.blake2b(np.ascontiguousarray(values).data, digest_size=16).digest()
    same = kept.setdefault((values.dtype.str, values.shape, digest), [])
    for earlier in same:
        if np.array_equal(earlier, values, equal_nan=values.dtype.kind == "f"):
            return earlier
    same.append(values)
    return values
