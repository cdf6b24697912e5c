"""What a notebook reads from a Report beyond its text: the results, each metric's curve and each account's
inputs as pandas DataFrames.

The curves and per-account inputs are computed once, when the report is built
(:func:`notebook_values`), for the overall results only: a curve is a few numbers per
cohort and month, and the per-account inputs a few columns per metric, so a report keeps
no panel (accounts × months) and no segment's arrays alive.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from cohortlab.codes import Status
from cohortlab.data.panel import Panel
from cohortlab.metrics.base import Inputs, Metric, end_pass
from cohortlab.metrics.estimation import rows_of
from cohortlab.report.model import AccountInputs, CurveTables, MetricResult, Report, ResultLookupError, _plain

if TYPE_CHECKING:
    import pandas as pd

COHORTS = ("treatment", "baseline")

# the JSON results' fields that are pairs or per-cohort mappings, and the columns they become
_FLATTENED = {"ci": ("ci_low", "ci_high"), "ci_relative": ("ci_relative_low", "ci_relative_high"),
              "ci_adjusted": ("ci_adjusted_low", "ci_adjusted_high"),
              "ci_relative_adjusted": ("ci_relative_adjusted_low", "ci_relative_adjusted_high")}
_PER_COHORT = ("n", "effective_n")


def notebook_values(metrics: list[Metric], results: list[MetricResult], prepared: dict[str, tuple[Metric, Inputs]],
                    panel: Panel, weights: np.ndarray) -> tuple[CurveTables, AccountInputs]:
    """Each available overall result's curve per cohort (at the point-estimate ``weights``) and its
    per-account inputs on the ``panel``'s rows, with ``counted``: the accounts its n counts. ``prepared``
    holds each metric's inputs as its estimate used them."""
    overall = {result.key for result in results if result.segment is None and result.status is Status.OK}
    sides = {side: rows_of(panel.treated if side == "treatment" else ~panel.treated) for side in COHORTS}
    curves: CurveTables = {}
    accounts: AccountInputs = {}
    kept: dict[tuple, list[np.ndarray]] = {}
    try:
        for metric in metrics:
            if metric.key not in overall:
                continue
            if metric.key not in prepared:
                continue
            inputs = prepared[metric.key][1]
            tables = {side: metric.curve_table(inputs.take(rows), weights[rows]) for side, rows in sides.items()}
            if all(table is not None for table in tables.values()):
                curves[metric.key] = tables
            values = {"counted": inputs.contributing & (weights > 0), **metric.account_values(inputs)}
            accounts[metric.key] = {name: _held_once(column, kept) for name, column in values.items()}
    finally:
        end_pass()  # the curves may have filled the pass caches
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


def results_frame(report: Report) -> pd.DataFrame:
    """One row per result, the overall ones first, then each breakdown segment's, in the report's order.

    The columns are ``key`` and ``segment``, then every field of the JSON report's result objects with the
    same values (floats to 12 significant digits, null as NaN or None): ``ci``, ``ci_relative``, ``ci_adjusted`` and
    ``ci_relative_adjusted`` become ``…_low``/``…_high`` pairs; ``n`` and ``effective_n`` become
    ``n_treatment``/``n_baseline`` and ``effective_n_treatment``/``effective_n_baseline`` (counts as
    pandas' nullable Int64: an unavailable result has none); ``params`` and ``details`` stay dicts (their
    keys differ between metrics).
    """
    import pandas as pd

    results = [*report.overall, *report.breakdown]
    records = []
    for result in results:
        plain = _plain(result)
        record = {"key": result.key, "segment": plain.pop("segment")}
        for name, value in plain.items():
            if name in _FLATTENED:
                record.update(zip(_FLATTENED[name], value))
            elif name in _PER_COHORT:
                record.update({f"{name}_{side}": value.get(side) for side in COHORTS})
            else:
                record[name] = value
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(records[0]) if records else None)
    if records:
        frame = frame.astype({f"n_{side}": "Int64" for side in COHORTS})
    return frame


def curve_frame(report: Report, key: str) -> pd.DataFrame:
    """The curve of the overall result ``key`` (a full key), one row per cohort (treatment first) and month
    or day: ``cohort``, the time axis, ``value`` and the metric's other columns (see the metric's
    ``curve_table``: docs/python.md lists them)."""
    import pandas as pd

    tables = report.curve_tables.get(key)
    if tables is None:
        result = report.result(key)
        why = (f"it is unavailable: {result.reason}" if result.status is Status.UNAVAILABLE
               else f"{result.label} has no curve")
        raise ResultLookupError(f"no curve for '{key}': {why}; the curves are: "
                                f"{', '.join(report.curve_tables) or 'none'}", tuple(report.curve_tables))
    return pd.concat([pd.DataFrame({"cohort": side, **tables[side]}) for side in COHORTS], ignore_index=True)


def accounts_frame(report: Report) -> pd.DataFrame:
    """One row per account, the treatment cohort first, each by account_id (as the ``--weights`` file):
    ``account_id``, ``cohort``, ``weight``, ``subclass``, then per overall result its per-account inputs as
    ``<key>.<name>`` columns (``cac.cost``, ``retention:3.churned``…), ``<key>.counted`` marking the
    accounts its n counts."""
    import pandas as pd

    if report.accounts is None:
        raise ValueError("this report was built without its accounts")
    order = report.accounts.order()
    columns = report.accounts.rows()
    for key, values in report.account_inputs.items():
        columns.update({f"{key}.{name}": column[order] for name, column in values.items()})
    return pd.DataFrame(columns)
