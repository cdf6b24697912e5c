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
from cohortlab.spec.problems import did_you_mean


@dataclass(frozen=True)
class CostSource:
    """Where per-account acquisition cost came from, and the spend it could not place."""

    kind: str | None  # "acquisition_cost", "spend", or None when there is no cost data
    reason: str | None = None  # why cost is unavailable
    total_spend: float = 0.0
    unattributed_spend: float = 0.0  # reaches no eligible touch: no touch that day, or only touches outside windows
    outside_window_spend: float = 0.0  # the part of it on touches outside their account's window
    model: str | None = None  # the attribution model dividing each account's cost among its touches
    has_channels: bool = False  # whether touches carry a channel (for paid-only cost)
    unknown_reason: str | None = None  # why some accounts' cost is unknown (NaN), when it is not a missing value

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
    stage_at: np.ndarray            # datetime64[D] (n, stages): first date of the stage or a later one; NaT: not yet
    reached: np.ndarray             # bool (n, stages): reached the stage (or a later one) within the conversion window
    won: np.ndarray                 # bool
    won_at: np.ndarray              # datetime64[D]; NaT when not won
    won_month: np.ndarray           # datetime64[M]; NaT when not won
    cost: np.ndarray                # float: acquisition cost through the account's cutoff; NaN where unknown
    revenue: np.ndarray             # float (n, months) by tenure month; 0 for non-customers
    margin: np.ndarray              # float (n, months)
    observed_months: np.ndarray     # int; 0 for non-customers
    as_of: dt.date
    cost_source: CostSource = field(default_factory=lambda: CostSource(None))
    milestones: dict[str, np.ndarray] = field(default_factory=dict)  # name → first date (datetime64[D]; NaT: none)
    milestone_names: tuple[str, ...] = ()  # every milestone in the data
    cost_by_channel: dict[str, np.ndarray] = field(default_factory=dict)  # cost divided by the attribution model
    window_days: int | None = None  # the journey's conversion window (days after entry), if any
    # why data a metric may need is missing ("won", "stages", "revenue", "milestones" → reason); see Metric.needs
    unreadable: dict[str, str] = field(default_factory=dict)
    revenue_rows: np.ndarray | None = None  # bool: the account has a revenue row in its observed months
    def missing(self, needs: tuple[str, ...]) -> str | None:
        """Why data a metric needs (see :meth:`cohortlab.metrics.base.Metric.needs`) is missing, or None: a
        table absent, empty or wholly set aside, or, for revenue, a cohort none of whose observed customers
        has a revenue row (a customer without one churned at once; a whole cohort of them is data that is
        not there; rows of $0 are data)."""
        for need in needs:
            if need in self.unreadable:
                return self.unreadable[need]
        if "revenue" in needs:
            for name, count in self._customers_without_revenue():
                return f"none of the {count:,} observed {name} customers has a revenue row in the data"
        return None

    def _customers_without_revenue(self) -> list[tuple[str, int]]:
        found = []
        for name, side in (("treatment", self.treated), ("baseline", ~self.treated)):
            customers = side & self.won & (self.observed_months > 0)
            if customers.any() and self.revenue_rows is not None and not self.revenue_rows[customers].any():
                found.append((name, int(customers.sum())))
        return found

    @property
    def window_elapsed(self) -> np.ndarray:
        """Whether each account's conversion window has ended by as_of (every account without a window)."""
        if self.window_days is None:
            return np.ones(self.size, dtype=bool)
        return self.entered + np.timedelta64(self.window_days, "D") <= np.datetime64(self.as_of, "D")

    @property
    def size(self) -> int:
        return len(self.account_id)

    def take(self, rows: np.ndarray) -> Panel:
        """The panel restricted to ``rows`` (a boolean mask or indices)."""
        return replace(
            self,
            account_id=self.account_id[rows], treated=self.treated[rows], entered=self.entered[rows],
            covariates={name: values[rows] for name, values in self.covariates.items()},
            stage_at=self.stage_at[rows], reached=self.reached[rows], won=self.won[rows], won_at=self.won_at[rows],
            won_month=self.won_month[rows],
            cost=self.cost[rows], cost_by_channel={name: cost[rows] for name, cost in self.cost_by_channel.items()},
            milestones={name: dates[rows] for name, dates in self.milestones.items()},
            revenue=self.revenue[rows], margin=self.margin[rows], observed_months=self.observed_months[rows],
            revenue_rows=None if self.revenue_rows is None else self.revenue_rows[rows],
        )

    def stage_index(self, stage: str) -> int:
        return self.stages.index(stage)


def last_complete_month(as_of: dt.date) -> np.datetime64:
    """The last calendar month fully observed by ``as_of``."""
    month = np.datetime64(as_of, "M")
    next_day = np.datetime64(as_of, "D") + 1
    return month if np.datetime64(next_day, "M") != month else month - 1


def _revenue_months(data: CheckedData) -> tuple[np.datetime64, np.datetime64] | None:
    """The first and last month of the usable revenue rows; None without any."""
    if data.unreadable("revenue") is not None:
        return None
    first, last = data.db.con.execute("SELECT min(date_trunc('month', month)), max(date_trunc('month', month)) "
                                      "FROM revenue_ok").fetchone()
    return np.datetime64(first, "M"), np.datetime64(last, "M")


def _observed_through(data: CheckedData, span: tuple | None) -> tuple[np.datetime64, list[DataWarning]]:
    """The last month whose revenue is observed: the last complete month by as_of, or the revenue data's last
    month when it ends before that (an export cut short): months after it are not observed, not zero."""
    last_month = last_complete_month(data.as_of)
    if span is None:
        return last_month, []
    revenue_end = span[1]
    if revenue_end >= last_month:
        return last_month, []
    months = int((last_month - revenue_end).astype(np.int64))
    return revenue_end, [DataWarning(WarningCode.REVENUE_ENDS_EARLY, (
        f"table 'revenue' ({data.db.tables['revenue'].origin}) ends in {revenue_end}, {months} month"
        f"{'' if months == 1 else 's'} before the last month complete by as_of {data.as_of} ({last_month}): later "
        f"months are taken as not yet observed, not as months without revenue; set as_of to "
        f"{np.datetime64(revenue_end + 1, 'D') - 1} or add the missing months"))]


def _observed_from(data: CheckedData, span: tuple | None, won: np.ndarray, won_month: np.ndarray,
                   observed: np.ndarray) -> tuple[np.ndarray, list[DataWarning]]:
    """Customers won two months or more before the revenue data's first month (an export that starts late)
    have no observed tenure: their first months are not in the data, and counting them as months without
    revenue would make them churn at once (or NRR start from nothing). A customer won the month before
    the data begins may just have had a first month without revenue."""
    if span is None:
        return observed, []
    start = span[0]
    early = won & (won_month < start - 1) & (observed > 0)
    if not early.any():
        return observed, []
    return np.where(early, 0, observed), [DataWarning(WarningCode.REVENUE_STARTS_LATE, (
        f"table 'revenue' ({data.db.tables['revenue'].origin}) starts in {start}, after {int(early.sum()):,} "
        "cohort customers were won: their first months are not in the data, so they count as not observed "
        "(add the earlier revenue, or move the cohorts' entry windows)"))]


def _select_cohorts(data: CheckedData, filters: list[CohortFilter], covariates: list[str],
                    order: list[str] = ()) -> None:
    con = data.db.con
    extra = "".join(f", {quote(name)}" for name in covariates)
    parts, params = [], []
    for cohort in filters:
        parts.append(
            f"SELECT account_id, created_at, {cohort.name == 'treatment'} AS treated{extra} FROM accounts_ok "
            f"WHERE ({cohort.condition}) AND created_at BETWEEN ? AND ?"
        )
        params += [*cohort.params, cohort.start, cohort.end]
    keys = "".join(f"{quote(name)}, " for name in order)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cohort AS SELECT row_number() OVER (ORDER BY treated DESC, {keys}account_id) - 1"
        f" AS row, * FROM ({' UNION ALL '.join(parts)}) ORDER BY row",
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
    first day of the first month with revenue (docs/data.md).
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


def _stage_dates(data: CheckedData, journey: Journey, won_at: np.ndarray) -> np.ndarray:
    """Per cohort account and stage, the date it reached the stage by as_of (NaT: not reached).

    A stage's date is the first date of that stage or of any later one, so reaching a later
    stage implies the earlier ones (a skipped stage is reached when the next one is). Without a
    `stages` table only the won stage has a date: the won date.
    """
    n, count = len(won_at), len(journey.stages)
    dates = np.full((n, count), np.datetime64("NaT"), dtype="datetime64[D]")
    if not data.has("stages"):
        dates[:, journey.stages.index(journey.won)] = won_at
        return dates
    rows = data.db.con.execute('SELECT c.row, s.stage, min(s."at") AS first FROM stages_ok s JOIN cohort c '
                               "USING (account_id) GROUP BY ALL").fetchnumpy()
    order = {stage: index for index, stage in enumerate(journey.stages)}
    column = np.array([order[stage] for stage in rows["stage"]], dtype=np.int64)
    dates[np.asarray(rows["row"], dtype=np.int64), column] = np.asarray(rows["first"]).astype("datetime64[D]")
    # the earliest date of the stage or a later one: a running minimum from the last stage back (NaT last)
    days = np.where(np.isnat(dates), np.iinfo(np.int64).max, dates.astype(np.int64))
    earliest = np.minimum.accumulate(days[:, ::-1], axis=1)[:, ::-1]
    return np.where(earliest == np.iinfo(np.int64).max, np.datetime64("NaT"), earliest.astype("datetime64[D]"))


def _won_at(data: CheckedData, n: int) -> np.ndarray:
    """Per cohort account, the won date (NaT when not won by as_of)."""
    won = data.db.con.execute("SELECT c.row, w.won_at FROM won w JOIN cohort c USING (account_id)").fetchnumpy()
    won_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    won_at[np.asarray(won["row"], dtype=np.int64)] = np.asarray(won["won_at"]).astype("datetime64[D]")
    return won_at


def _paid_channel_warnings(data: CheckedData, attribution: Attribution, source: CostSource) -> list[DataWarning]:
    """A paid channel that no touch carries is most likely a typo: it would silently count as no spend."""
    if not attribution.paid_channels or source.kind != "spend" or not source.has_channels:
        return []
    present = [row[0] for row in data.db.con.execute(
        "SELECT DISTINCT channel FROM touch_cost WHERE channel IS NOT NULL ORDER BY 1").fetchall()]
    return [DataWarning(WarningCode.UNKNOWN_PAID_CHANNEL,
                        f"attribution.paid_channels: no touch has channel '{name}'; "
                        + did_you_mean(name, present, f"the channels are: {', '.join(present[:10])}"))
            for name in attribution.paid_channels if name not in present]


def acquisition_end(entered: np.ndarray, as_of: dt.date, window_days: int | None) -> np.ndarray:
    """The last day of each account's conversion window: entry + ``window_days``, or as_of without a window."""
    end = np.datetime64(as_of, "D")
    if window_days is None:
        return np.full(len(entered), end)
    return np.minimum(entered + np.timedelta64(window_days, "D"), end)


def _revenue_by_tenure(data: CheckedData, observed: np.ndarray,
                       economics: Economics) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[DataWarning]]:
    """Revenue and margin by tenure month over each customer's observed months, and whether each account has
    a revenue row in them."""
    n = len(observed)
    months = max(int(observed.max(initial=0)), 1)
    revenue = np.zeros((n, months))
    margin = np.zeros((n, months))
    if not data.has("revenue"):
        return revenue, margin, np.zeros(n, dtype=bool), []
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
    has_rows = np.zeros(n, dtype=bool)
    has_rows[row[keep]] = True
    if economics.gross_margin == "cost":
        nulls = data.db.scalar("SELECT count(*) FROM revenue_ok WHERE cost IS NULL")
        if nulls:
            warnings.append(DataWarning(WarningCode.NULL_COST, f"{nulls} revenue rows have no cost; their margin "
                                                               "is their whole revenue"))
        margin[row[keep], tenure[keep]] = amount[keep] - np.asarray(rows["cost"], dtype=float)[keep]
    else:
        margin[:] = revenue * economics.gross_margin
    return revenue, margin, has_rows, warnings


def _cohort_cost(data: CheckedData, journey: Journey, attribution: Attribution,
                 n: int) -> tuple[np.ndarray, dict[str, np.ndarray], CostSource]:
    """Per cohort account acquisition cost (and its credit by channel): allocated from spend through
    touches, else `accounts.acquisition_cost`."""
    con, accounts = data.db.con, data.db.tables["accounts"]
    if data.has("spend") and data.has("touches"):
        missing = data.unreadable("spend") or data.unreadable("touches")
        if missing:
            return np.full(n, np.nan), {}, CostSource(None, f"cost comes from spend through touches, but {missing}")
        return _allocated_cost(data, journey, attribution, n)
    if "acquisition_cost" in accounts.columns:
        rows = con.execute("SELECT c.row, a.acquisition_cost FROM cohort c JOIN accounts_ok a USING (account_id) "
                           "ORDER BY c.row").fetchnumpy()
        return _plain(rows["acquisition_cost"]).astype(float), {}, CostSource("acquisition_cost")
    return np.full(n, np.nan), {}, CostSource(
        None, "no cost data: the source has neither accounts.acquisition_cost nor spend with touches")


MONEY = "DECIMAL(38, 10)"  # exact sums of dollars (to 1e-10)
SHARE = "DECIMAL(38, 18)"  # exact sums of credits


# An account's credit divided among its eligible touches (docs/metrics.md): k touches; the first (last) are those on
# its earliest (latest) day, n_first (n_last) of them; ties on a day share that position's credit.
CREDIT = {
    "linear": "1.0 / k",
    "first_touch": "CASE WHEN day = first_day THEN 1.0 / n_first ELSE 0 END",
    "last_touch": "CASE WHEN day = last_day THEN 1.0 / n_last ELSE 0 END",
    "position_based": (
        "CASE WHEN first_day = last_day THEN 1.0 / k "
        "WHEN k = n_first + n_last THEN 0.5 / CASE WHEN day = first_day THEN n_first ELSE n_last END "
        "WHEN day = first_day THEN 0.4 / n_first WHEN day = last_day THEN 0.4 / n_last "
        "ELSE 0.2 / (k - n_first - n_last) END"),
}


def _allocated_cost(data: CheckedData, journey: Journey, attribution: Attribution,
                    n: int) -> tuple[np.ndarray, dict[str, np.ndarray], CostSource]:
    """Per-account cost from `spend` through `touches`, in SQL.

    1. Each spend row is split evenly over the touches of its campaign (or channel) that day:
       a touch's cost.
    2. An account's cost is the sum of its eligible touches' costs: those on or before its cutoff
       (the day it was won; else the end of its conversion window, or as_of) and, with an
       influence window, within ``attribution.window_days`` before the cutoff.
    3. The attribution model divides the account's cost among its eligible touches, and so among
       their channels (see :data:`CREDIT`).

    Spend reaching no eligible touch (no touch of its campaign that day, or only touches outside
    their account's window) is unattributed.
    """
    db, con = data.db, data.db.con
    spend_columns, touch_columns = db.tables["spend"].columns, db.tables["touches"].columns
    shared = [key for key in ("campaign", "channel") if key in spend_columns and key in touch_columns]
    if not shared:
        return np.full(n, np.nan), {}, CostSource(None, "spend and touches share no campaign or channel column")
    key = quote(shared[0])
    if "channel" in touch_columns:
        channel, channels = "t.channel", ""
    elif "channel" in spend_columns:  # the channel of the touch's campaign, from spend
        channel = "m.channel"
        channels = (f"LEFT JOIN (SELECT {key} AS key, min(channel) AS channel FROM spend_ok GROUP BY 1) m "
                    f"ON m.key = t.{key}")
    else:
        channel, channels = "NULL", ""
    limits = ["coalesce(w.won_at, $as_of)", "$as_of"]
    if journey.window_days:
        limits.append("a.created_at + $journey_days")
    cutoff = f"least({', '.join(limits)})"
    influence = " AND t.\"at\" > c.cutoff - $influence_days" if attribution.window_days else ""
    params = {"as_of": data.as_of, **({"journey_days": journey.window_days} if journey.window_days else {}),
              **({"influence_days": attribution.window_days} if attribution.window_days else {})}
    # Sums run over exact decimals: a float sum's value depends on the order parallel threads add in,
    # and the same input must give the same bytes.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE touch_cost AS "
        f'WITH per_day AS (SELECT "at" AS day, {key} AS key, count(*) AS touches FROM touches_ok GROUP BY ALL), '
        f"spent AS (SELECT date AS day, {key} AS key, sum(CAST(amount AS {MONEY})) AS amount FROM spend_ok "
        "GROUP BY ALL), "
        f"cutoffs AS (SELECT a.account_id, {cutoff} AS cutoff FROM accounts_ok a LEFT JOIN won w USING (account_id)) "
        f'SELECT t.account_id, t."at" AS day, {channel} AS channel, t.{key} AS key, '
        f"CAST(coalesce(s.amount / p.touches, 0) AS {MONEY}) AS cost, "
        f'(t."at" <= c.cutoff{influence}) AS eligible FROM touches_ok t JOIN cutoffs c USING (account_id) '
        f'LEFT JOIN per_day p ON p.day = t."at" AND p.key = t.{key} '
        f'LEFT JOIN spent s ON s.day = t."at" AND s.key = t.{key} {channels}',
        params,
    )
    total = float(con.execute(f"SELECT coalesce(sum(CAST(amount AS {MONEY})), 0) FROM spend_ok").fetchone()[0])
    reached, eligible = (float(value) for value in con.execute(
        "SELECT coalesce(sum(cost), 0), coalesce(sum(cost) FILTER (WHERE eligible), 0) FROM touch_cost").fetchone())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort_credit AS "
        "WITH own AS (SELECT c.row, t.day, t.channel, t.cost FROM touch_cost t JOIN cohort c USING (account_id) "
        "WHERE t.eligible), "
        "bounds AS (SELECT *, count(*) OVER a AS k, min(day) OVER a AS first_day, max(day) OVER a AS last_day, "
        "sum(cost) OVER a AS total FROM own WINDOW a AS (PARTITION BY row)), "
        "ties AS (SELECT *, count(*) FILTER (WHERE day = first_day) OVER a AS n_first, "
        "count(*) FILTER (WHERE day = last_day) OVER a AS n_last FROM bounds WINDOW a AS (PARTITION BY row)) "
        f"SELECT row, coalesce(channel, '') AS channel, CAST(any_value(total) AS DOUBLE) AS cost, "
        f"CAST(sum(CAST({CREDIT[attribution.model]} AS {SHARE})) AS DOUBLE) AS credit FROM ties GROUP BY ALL"
    )
    # channels as integer codes: comparing Python strings row by row is slow at a million rows
    names = [name for (name,) in con.execute("SELECT DISTINCT channel FROM cohort_credit ORDER BY 1").fetchall()]
    rows = con.execute("SELECT row, cost, credit, dense_rank() OVER (ORDER BY channel) - 1 AS code "
                       "FROM cohort_credit ORDER BY row, channel").fetchnumpy()
    row, code = np.asarray(rows["row"], dtype=np.int64), np.asarray(rows["code"], dtype=np.int64)
    cost = np.zeros(n)
    cost[row] = rows["cost"]
    credited = np.asarray(rows["cost"], dtype=float) * np.asarray(rows["credit"], dtype=float)
    by_channel = {name: np.bincount(row[code == index], weights=credited[code == index], minlength=n)
                  for index, name in enumerate(names)} if channel != "NULL" else {}
    # the spend data's end (its last month): a touch after it, of a campaign (or channel) that has spend, has
    # a cost the data does not hold, so the cost of an account touched so is unknown, not the part of it the
    # data happens to cover (a touch of a campaign without any spend, organic, costs nothing)
    spend_end = con.execute("SELECT last_day(max(date)) FROM spend_ok").fetchone()[0]
    uncovered = con.execute("SELECT DISTINCT c.row FROM touch_cost t JOIN cohort c USING (account_id) "
                            f"WHERE t.eligible AND t.day > ? AND t.key IN (SELECT {key} FROM spend_ok)",
                            [spend_end]).fetchnumpy()["row"]
    cost[np.asarray(uncovered, dtype=np.int64)] = np.nan
    # float rounding can leave a few cents of difference between the sums
    tiny = 1e-9 * max(total, 1.0)
    no_touch = total - reached if total - reached > tiny else 0.0
    outside = reached - eligible if reached - eligible > tiny else 0.0
    unknown = (f"table 'spend' ({data.db.tables['spend'].origin}) ends {spend_end}, so the cost of cohort accounts "
               "touched after it is unknown") if len(uncovered) else None
    return cost, by_channel, CostSource("spend", None, total, no_touch + outside, outside, attribution.model,
                                        channel != "NULL", unknown)


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
                milestones: list[str] = (), order: list[str] = ()) -> tuple[Panel, list[DataWarning]]:
    """Select both cohorts and aggregate every table to one row per account (and the first date of each
    of ``milestones``).

    Rows: the treatment cohort first, each cohort ordered by the ``order`` columns, then account_id. Ordered
    by the columns of exact or coarsened exact matching, every stratum's rows are contiguous, which the
    bootstrap draws faster and a breakdown by the first column reads as slices.
    """
    _select_cohorts(data, filters, covariates, list(order))
    frame = data.db.con.execute("SELECT * FROM cohort ORDER BY row").fetchnumpy()
    n = len(frame["row"])
    _won_dates(data, journey)
    won_at = _won_at(data, n)
    won = ~np.isnat(won_at)
    entered = np.asarray(frame["created_at"]).astype("datetime64[D]")
    stage_at = _stage_dates(data, journey, won_at)
    reached = stage_at <= acquisition_end(entered, data.as_of, journey.window_days)[:, None]  # NaT compares False
    won_month = won_at.astype("datetime64[M]")
    span = _revenue_months(data)
    last_month, warnings = _observed_through(data, span)
    observed = np.where(won, (last_month - won_month).astype(np.int64) + 1, 0)
    observed = np.clip(observed, 0, None)
    observed, truncated = _observed_from(data, span, won, won_month, observed)
    warnings += truncated
    revenue, margin, revenue_rows, revenue_warnings = _revenue_by_tenure(data, observed, economics)
    warnings += revenue_warnings
    cost, cost_by_channel, cost_source = _cohort_cost(data, journey, attribution, n)
    warnings += _paid_channel_warnings(data, attribution, cost_source)
    # the allocation's intermediate tables hold a row per touch: free them (DuckDB keeps temp tables in memory)
    data.db.con.execute("DROP TABLE IF EXISTS touch_cost; DROP TABLE IF EXISTS cohort_credit")
    milestone_dates, milestone_names = _milestones(data, list(milestones), n)
    if cost_source.unattributed_spend > 0:
        outside = cost_source.outside_window_spend
        no_touch = cost_source.unattributed_spend - outside
        parts = [f"${no_touch:,.0f} on days its campaign touched no account"] if no_touch else []
        parts += [f"${outside:,.0f} on touches outside their account's window (after it was won, or beyond the "
                  "conversion or influence window)"] if outside else []
        warnings.append(DataWarning(
            WarningCode.UNATTRIBUTED_SPEND,
            f"{cost_source.unattributed_share:.1%} of spend (${cost_source.unattributed_spend:,.0f} of "
            f"${cost_source.total_spend:,.0f}) is in no account's acquisition cost: {'; '.join(parts)}"))
    panel = Panel(
        account_id=np.asarray(frame["account_id"], dtype=object).astype(str),
        treated=np.asarray(frame["treated"], dtype=bool),
        entered=entered, covariates={name: _plain(frame[name]) for name in covariates},
        stages=tuple(journey.stages), stage_at=stage_at, reached=reached, won=won, won_at=won_at, won_month=won_month,
        cost=cost,
        revenue=revenue, margin=margin, observed_months=observed, as_of=data.as_of, cost_source=cost_source,
        milestones=milestone_dates, milestone_names=milestone_names, cost_by_channel=cost_by_channel,
        window_days=journey.window_days, unreadable=_unreadable(data), revenue_rows=revenue_rows,
    )
    return panel, warnings


def _unreadable(data: CheckedData) -> dict[str, str]:
    """Why each kind of data a metric may need is missing: a table absent, empty or wholly set aside, and the
    won dates, which come from `stages`, or from revenue without a stages table (docs/data.md)."""
    reasons = {table: reason for table in ("stages", "revenue", "milestones")
               if (reason := data.unreadable(table)) is not None}
    if data.has("stages"):
        won = reasons.get("stages")
    else:
        won = reasons.get("revenue") and ("no account's won date is known: the source has no 'stages' table, and "
                                          + reasons["revenue"])
    return {**reasons, **({"won": won} if won else {})}


def _plain(values) -> np.ndarray:
    """A column as a plain numpy array; SQL NULLs become None (object) or NaN (numeric)."""
    if np.ma.isMaskedArray(values):
        if values.dtype.kind in "fiu":
            return np.ma.filled(values.astype(float), np.nan)
        return np.array([None if masked else value for value, masked in zip(values.data, np.ma.getmaskarray(values))],
                        dtype=object)
    return np.asarray(values)
