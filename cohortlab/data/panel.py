"""The per-account panel: one row per cohort account, built by SQL aggregation in DuckDB.

Everything downstream (matching, metrics, inference) works on these numpy arrays.
Conventions: tenure month t = months since the acquisition month (t = 0 is that
month); a customer's tenure month is *observed* when it is complete by as_of, so
``observed_months`` c means months 0..c-1 are observed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from cohortlab.codes import WarningCode
from cohortlab.data.contract import CheckedData, DataWarning
from cohortlab.data.source import quote
from cohortlab.errors import DataError
from cohortlab.spec.cohorts import CohortFilter
from cohortlab.spec.models import Attribution, Economics, Journey


@dataclass(frozen=True)
class CostSource:
    """Where per-account acquisition cost came from, and the spend it could not place."""

    kind: str | None  # "acquisition_cost", "spend", or None when there is no cost data
    reason: str | None = None  # why cost is unavailable
    total_spend: float = 0.0
    unattributed_spend: float = 0.0

    @property
    def unattributed_share(self) -> float:
        return self.unattributed_spend / self.total_spend if self.total_spend > 0 else 0.0


@dataclass(frozen=True)
class Panel:
    """Per-account arrays for the accounts of both cohorts, treatment rows first."""

    account_id: np.ndarray          # str
    treated: np.ndarray             # bool
    entered: np.ndarray             # datetime64[D]
    covariates: dict[str, np.ndarray]
    stages: tuple[str, ...]
    reached: np.ndarray             # bool (n, stages): reached the stage or a later one by as_of
    won: np.ndarray                 # bool
    won_at: np.ndarray              # datetime64[D]; NaT when not won
    won_month: np.ndarray           # datetime64[M]; NaT when not won
    cost: np.ndarray                # float; NaN where unknown
    revenue: np.ndarray             # float (n, months) by tenure month; 0 for non-customers
    margin: np.ndarray              # float (n, months)
    observed_months: np.ndarray     # int; 0 for non-customers
    as_of: dt.date
    cost_source: CostSource = field(default_factory=lambda: CostSource(None))
    milestones: dict[str, np.ndarray] = field(default_factory=dict)  # name → first date (datetime64[D]; NaT: none)
    milestone_names: tuple[str, ...] = ()  # every milestone in the data

    @property
    def size(self) -> int:
        return len(self.account_id)

    def take(self, rows: np.ndarray) -> Panel:
        """The panel restricted to ``rows`` (a boolean mask or indices)."""
        return replace(
            self,
            account_id=self.account_id[rows], treated=self.treated[rows], entered=self.entered[rows],
            covariates={name: values[rows] for name, values in self.covariates.items()},
            reached=self.reached[rows], won=self.won[rows], won_at=self.won_at[rows], won_month=self.won_month[rows],
            cost=self.cost[rows], milestones={name: dates[rows] for name, dates in self.milestones.items()},
            revenue=self.revenue[rows], margin=self.margin[rows], observed_months=self.observed_months[rows],
        )

    def stage_index(self, stage: str) -> int:
        return self.stages.index(stage)


def last_complete_month(as_of: dt.date) -> np.datetime64:
    """The last calendar month fully observed by ``as_of``."""
    month = np.datetime64(as_of, "M")
    next_day = np.datetime64(as_of, "D") + 1
    return month if np.datetime64(next_day, "M") != month else month - 1


def _select_cohorts(data: CheckedData, filters: list[CohortFilter], covariates: list[str]) -> None:
    con = data.db.con
    extra = "".join(f", {quote(name)}" for name in covariates)
    parts, params = [], []
    for cohort in filters:
        parts.append(
            f"SELECT account_id, created_at, {cohort.name == 'treatment'} AS treated{extra} FROM accounts_ok "
            f"WHERE ({cohort.condition}) AND created_at BETWEEN ? AND ?"
        )
        params += [*cohort.params, cohort.start, cohort.end]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort AS SELECT row_number() OVER (ORDER BY treated DESC, account_id) - 1 AS row,"
        f" * FROM ({' UNION ALL '.join(parts)}) ORDER BY row",
        params,
    )
    both = con.execute("SELECT account_id FROM cohort GROUP BY 1 HAVING count(*) > 1 ORDER BY 1").fetchall()
    if both:
        examples = ", ".join(repr(row[0]) for row in both[:3])
        raise DataError(f"{len(both)} accounts fall in both the treatment and the baseline cohort (e.g. {examples})",
                        hint="make the cohorts' where filters or entry windows exclusive")


def _won_dates(data: CheckedData, journey: Journey) -> None:
    """A temp table ``won(account_id, won_at)`` for every account that reached the won stage by as_of.

    The won date is the first date of the won stage; without a `stages` table, the
    first day of the first month with revenue (SPEC §3).
    """
    con = data.db.con
    if data.has("stages"):
        con.execute("CREATE OR REPLACE TEMP TABLE won AS SELECT account_id, min(\"at\") AS won_at FROM stages_ok "
                    "WHERE stage = ? GROUP BY 1", [journey.won])
    elif data.has("revenue"):
        con.execute("CREATE OR REPLACE TEMP TABLE won AS SELECT account_id, CAST(min(date_trunc('month', month)) AS DATE)"
                    " AS won_at FROM revenue_ok WHERE amount > 0 GROUP BY 1")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE won (account_id VARCHAR, won_at DATE)")


def _stage_events(data: CheckedData, journey: Journey, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort account: reached flags per stage (a later stage implies the earlier ones) and the won date."""
    con = data.db.con
    won = con.execute("SELECT c.row, w.won_at FROM won w JOIN cohort c USING (account_id)").fetchnumpy()
    won_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    won_at[won["row"].astype(np.int64)] = np.asarray(won["won_at"]).astype("datetime64[D]")
    if not data.has("stages"):
        reached = np.zeros((n, len(journey.stages)), dtype=bool)
        reached[:, journey.stages.index(journey.won)] = ~np.isnat(won_at)
        return reached, won_at
    rows = con.execute("SELECT DISTINCT c.row, s.stage FROM stages_ok s JOIN cohort c USING (account_id)").fetchnumpy()
    order = {stage: index for index, stage in enumerate(journey.stages)}
    stage_index = np.array([order[stage] for stage in rows["stage"]], dtype=np.int64)
    furthest = np.full(n, -1)
    np.maximum.at(furthest, rows["row"].astype(np.int64), stage_index)
    reached = np.arange(len(journey.stages))[None, :] <= furthest[:, None]
    return reached, won_at


def _revenue_by_tenure(data: CheckedData, observed: np.ndarray,
                       economics: Economics) -> tuple[np.ndarray, np.ndarray, list[DataWarning]]:
    """Revenue and margin by tenure month over each customer's observed months."""
    n = len(observed)
    months = max(int(observed.max(initial=0)), 1)
    revenue = np.zeros((n, months))
    margin = np.zeros((n, months))
    if not data.has("revenue"):
        return revenue, margin, []
    has_cost = "cost" in data.db.tables["revenue"].columns
    if economics.gross_margin == "cost" and not has_cost:
        raise DataError(f"economics.gross_margin is 'cost' but table 'revenue' ({data.db.tables['revenue'].origin}) "
                        "has no column 'cost'", hint="add the cost-to-serve column, map it with "
                        "tables.revenue.columns.cost, or set gross_margin to a number")
    cost = "sum(coalesce(r.cost, 0))" if has_cost else "0.0"
    rows = data.db.con.execute(
        "SELECT c.row, coalesce(datediff('month', date_trunc('month', w.won_at), date_trunc('month', r.month)), -1) "
        f"AS tenure, w.won_at IS NOT NULL AS won, sum(r.amount) AS amount, {cost} AS cost "
        "FROM revenue_ok r JOIN cohort c USING (account_id) LEFT JOIN won w USING (account_id) GROUP BY ALL"
    ).fetchnumpy()
    row = np.asarray(rows["row"], dtype=np.int64)
    tenure = np.asarray(rows["tenure"], dtype=np.int64)
    won = np.asarray(rows["won"], dtype=bool)
    keep = won & (tenure >= 0) & (tenure < observed[row])
    warnings = []
    unfinished = won & (tenure >= 0) & (tenure >= observed[row])
    for count, what in ((np.sum(won & (tenure < 0)), "fall before the account's acquisition month"),
                        (np.sum(~won), "belong to accounts that never reached the won stage"),
                        (np.sum(unfinished), "fall in a month not complete by as_of")):
        if count:
            warnings.append(DataWarning(WarningCode.REVENUE_BEFORE_WON,
                                        f"{int(count)} revenue months of cohort accounts {what}; they were ignored"))
    amount = np.asarray(rows["amount"], dtype=float)
    revenue[row[keep], tenure[keep]] = amount[keep]
    if economics.gross_margin == "cost":
        nulls = data.db.scalar("SELECT count(*) FROM revenue_ok WHERE cost IS NULL")
        if nulls:
            warnings.append(DataWarning(WarningCode.NULL_COST, f"{nulls} revenue rows have no cost; their margin "
                                                               "is their whole revenue"))
        margin[row[keep], tenure[keep]] = amount[keep] - np.asarray(rows["cost"], dtype=float)[keep]
    else:
        margin[:] = revenue * economics.gross_margin
    return revenue, margin, warnings


def _cohort_cost(data: CheckedData, attribution: Attribution, n: int) -> tuple[np.ndarray, CostSource]:
    """Per cohort account acquisition cost: allocated from spend through touches, else `accounts.acquisition_cost`."""
    con, accounts = data.db.con, data.db.tables["accounts"]
    if data.has("spend") and data.has("touches"):
        return _allocated_cost(data, attribution, n)
    if "acquisition_cost" in accounts.columns:
        rows = con.execute("SELECT c.row, a.acquisition_cost FROM cohort c JOIN accounts_ok a USING (account_id) "
                           "ORDER BY c.row").fetchnumpy()
        return _plain(rows["acquisition_cost"]).astype(float), CostSource("acquisition_cost")
    return np.full(n, np.nan), CostSource(
        None, "no cost data: the source has neither accounts.acquisition_cost nor spend with touches")


def _allocated_cost(data: CheckedData, attribution: Attribution, n: int) -> tuple[np.ndarray, CostSource]:
    """Per-account cost from `spend`, split equally over the touches of its campaign (or channel) that day.

    An account's cost is the sum of its touches' shares up to the day it was won (up
    to as_of when not won), within ``attribution.window_days`` before that day when
    set. Spend that reaches no account this way is counted as unattributed.
    """
    db, con = data.db, data.db.con
    shared = [key for key in ("campaign", "channel")
              if key in db.tables["spend"].columns and key in db.tables["touches"].columns]
    if not shared:
        return np.full(n, np.nan), CostSource(None, "spend and touches share no campaign or channel column")
    key = quote(shared[0])
    window = attribution.window_days
    in_window = 't."at" <= cutoff' + (f' AND t."at" > cutoff - INTERVAL {int(window)} DAY' if window else "")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE attributed AS "
        f'WITH per_day AS (SELECT "at" AS day, {key} AS key, count(*) AS touches FROM touches_ok GROUP BY ALL), '
        f"spent AS (SELECT date AS day, {key} AS key, sum(amount) AS amount FROM spend_ok GROUP BY ALL), "
        "cutoffs AS (SELECT a.account_id, coalesce(w.won_at, CAST(? AS DATE)) AS cutoff FROM accounts_ok a "
        "LEFT JOIN won w USING (account_id)) "
        "SELECT t.account_id, sum(s.amount / p.touches) AS cost FROM touches_ok t "
        f'JOIN per_day p ON p.day = t."at" AND p.key = t.{key} JOIN spent s ON s.day = t."at" AND s.key = t.{key} '
        f"JOIN cutoffs USING (account_id) WHERE {in_window} GROUP BY 1",
        [data.as_of],
    )
    total = float(con.execute("SELECT coalesce(sum(amount), 0) FROM spend_ok").fetchone()[0])
    placed = float(con.execute("SELECT coalesce(sum(cost), 0) FROM attributed").fetchone()[0])
    rows = con.execute("SELECT c.row, coalesce(a.cost, 0) AS cost FROM cohort c LEFT JOIN attributed a "
                       "USING (account_id) ORDER BY c.row").fetchnumpy()
    # float rounding can leave a few cents of difference between the two sums
    unattributed = max(total - placed, 0.0) if total - placed > 1e-6 * max(total, 1.0) else 0.0
    return np.asarray(rows["cost"], dtype=float), CostSource("spend", None, total, unattributed)


def _milestones(data: CheckedData, names: list[str], n: int) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Per cohort account, the first date of each named milestone (NaT when never reached); and every
    milestone name in the data."""
    if not data.has("milestones"):
        return {}, ()
    con = data.db.con
    present = tuple(row[0] for row in con.execute("SELECT DISTINCT milestone FROM milestones_ok ORDER BY 1").fetchall())
    dates = {}
    for name in names:
        rows = con.execute('SELECT c.row, CAST(min(m."at") AS DATE) AS first FROM milestones_ok m JOIN cohort c '
                           "USING (account_id) WHERE m.milestone = ? GROUP BY 1", [name]).fetchnumpy()
        first = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        first[np.asarray(rows["row"], dtype=np.int64)] = np.asarray(rows["first"]).astype("datetime64[D]")
        dates[name] = first
    return dates, present


def build_panel(data: CheckedData, filters: list[CohortFilter], journey: Journey, economics: Economics,
                attribution: Attribution, covariates: list[str],
                milestones: list[str] = ()) -> tuple[Panel, list[DataWarning]]:
    """Select both cohorts and aggregate every table to one row per account (and the first date of each
    of ``milestones``)."""
    _select_cohorts(data, filters, covariates)
    frame = data.db.con.execute("SELECT * FROM cohort ORDER BY row").fetchnumpy()
    n = len(frame["row"])
    _won_dates(data, journey)
    reached, won_at = _stage_events(data, journey, n)
    won = ~np.isnat(won_at)
    won_month = won_at.astype("datetime64[M]")
    last_month = last_complete_month(data.as_of)
    observed = np.where(won, (last_month - won_month).astype(np.int64) + 1, 0)
    observed = np.clip(observed, 0, None)
    revenue, margin, warnings = _revenue_by_tenure(data, observed, economics)
    cost, cost_source = _cohort_cost(data, attribution, n)
    milestone_dates, milestone_names = _milestones(data, list(milestones), n)
    if cost_source.unattributed_spend > 0:
        warnings.append(DataWarning(
            WarningCode.UNATTRIBUTED_SPEND,
            f"{cost_source.unattributed_share:.1%} of spend (${cost_source.unattributed_spend:,.0f} of "
            f"${cost_source.total_spend:,.0f}) reaches no account through a touch before it was won; it is in no "
            "account's cost"))
    panel = Panel(
        account_id=np.asarray(frame["account_id"], dtype=object).astype(str),
        treated=np.asarray(frame["treated"], dtype=bool),
        entered=np.asarray(frame["created_at"]).astype("datetime64[D]"),
        covariates={name: _plain(frame[name]) for name in covariates},
        stages=tuple(journey.stages), reached=reached, won=won, won_at=won_at, won_month=won_month, cost=cost,
        revenue=revenue, margin=margin, observed_months=observed, as_of=data.as_of, cost_source=cost_source,
        milestones=milestone_dates, milestone_names=milestone_names,
    )
    return panel, warnings


def _plain(values) -> np.ndarray:
    """A column as a plain numpy array; SQL NULLs become None (object) or NaN (numeric)."""
    if np.ma.isMaskedArray(values):
        if values.dtype.kind in "fiu":
            return np.ma.filled(values.astype(float), np.nan)
        return np.array([None if masked else value for value, masked in zip(values.data, np.ma.getmaskarray(values))],
                        dtype=object)
    return np.asarray(values)
