"""What a notebook reads from a Report beyond its text: the results, each metric's curve and each account's
inputs as pandas DataFrames.

The curves and per-account inputs are computed once, by the engine
(:func:`cohortlab.engine.curves.curves_and_inputs`), for the overall results only: a curve is a few numbers per
cohort and month, and the per-account inputs a few columns per metric, so a report keeps
no panel (accounts × months) and no segment's arrays alive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


from cohortlab.codes import Status
from cohortlab.report.model import Report, ResultLookupError, _plain

if TYPE_CHECKING:
    import pandas as pd

COHORTS = ("treatment", "baseline")

# the JSON results' fields that are pairs or per-cohort mappings, and the columns they become
_FLATTENED = {"ci": ("ci_low", "ci_high"), "ci_relative": ("ci_relative_low", "ci_relative_high"),
              "ci_adjusted": ("ci_adjusted_low", "ci_adjusted_high"),
              "ci_relative_adjusted": ("ci_relative_adjusted_low", "ci_relative_adjusted_high")}
_PER_COHORT = ("n", "effective_n")


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
